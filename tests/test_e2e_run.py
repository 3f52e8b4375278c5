"""The README's run path: app.py with the embedded Valkey and the simulator brings up live
numbers; `kill -9` of app.py leaves no Valkey, collector, simulator or web process behind."""
from __future__ import annotations

import os
import signal

import psutil
import pytest

from tests.apprunner import AppProcess, get_json
from tests.browser import chromium


@pytest.fixture(scope="module")
def simulated_app(tmp_path_factory):
    app = AppProcess(tmp_path_factory.mktemp("run"))
    try:
        summary = app.wait_live()
        yield app, summary
    finally:
        app.stop()


def test_live_numbers_from_the_simulator(simulated_app):
    app, summary = simulated_app
    assert summary["load_mw"] > 0
    assert 0 < summary["load_rate"] < 2
    health = get_json(f"{app.base}/api/health")[1]
    assert health["redis"]["ok"]
    for name in ("topology", "orders", "outages", "scada"):
        assert health["collectors"][name]["last_success"], (name, health["collectors"][name])
        assert health["collectors"][name]["last_error"] is None, (name, health["collectors"][name])


def test_overview_in_the_browser(simulated_app):
    app, _ = simulated_app
    with chromium(app.base) as w:
        w.page.goto(app.base + "/")
        w.settle()
        w.page.wait_for_timeout(2500)
        assert w.page.inner_text("#ov-load .pw-big") not in ("", "—")
        assert w.errors == [] and w.outside == []


def descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def test_kill_9_leaves_no_orphans(tmp_path):
    app = AppProcess(tmp_path)
    try:
        app.wait_live(need=("repair_orders_today",))
        kids = descendants(app.proc.pid)
        names = " ".join(" ".join(k.cmdline()) for k in kids)
        for expected in ("valkey-server", "simulator", "collectors", "granian"):
            assert expected in names, names
        os.kill(app.proc.pid, signal.SIGKILL)
        app.proc.wait(10)
        gone, alive = psutil.wait_procs(kids, timeout=30)
        assert alive == [], [" ".join(p.cmdline()) for p in alive]
    finally:
        app.stop()
