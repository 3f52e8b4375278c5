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


def test_a_collector_may_keep_its_heap_between_big_batches(settings_env, redis_client, monkeypatch):
    """A collector whose every cycle reads a big batch (AMI) is trimmed after its first cycle
    only: what one cycle frees, the next one uses again."""
    from collectors.plugins.ami import AmiCollector
    calls = []
    monkeypatch.setattr(runner_mod, "_TRIM", lambda pad: calls.append(pad))
    monkeypatch.setattr(runner_mod, "TRIM_AFTER_ROWS", 0)
    h = Harness(redis_client, [TopologyCollector, AmiCollector], NOW)
    h.runners[0].collector.trim_after_batches = True
    h.run()
    assert calls == [0, 0]                            # both first cycles
    h.run()
    assert calls == [0, 0, 0]                         # the topology's "big" batch only
    assert AmiCollector.trim_after_batches is False
