"""The runner gives freed heap back to the OS (glibc malloc_trim) after a collector's first cycle
(its bootstrap) and after a cycle that read a big batch, not after every small cycle."""
from __future__ import annotations

from datetime import datetime

from collectors import runner as runner_mod
from collectors.plugins.topology import TopologyCollector
from tests.kpi_harness import Harness

NOW = datetime(2026, 7, 15, 14, 0)


def test_trim_after_the_first_cycle_and_big_batches_only(settings_env, redis_client, monkeypatch):
    calls = []
    monkeypatch.setattr(runner_mod, "_TRIM", lambda pad: calls.append(pad))
    h = Harness(redis_client, [TopologyCollector], NOW)
    h.run()
    assert calls == [0]
    h.run()                                           # nothing moved: no trim
    assert calls == [0]
    monkeypatch.setattr(runner_mod, "TRIM_AFTER_ROWS", 0)
    h.run()
    assert calls == [0, 0]
    assert runner_mod._malloc_trim() is not None      # glibc here
