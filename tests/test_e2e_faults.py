"""Process-level faults through app.py: a source that goes down shows stale tiles and a banner in
the browser, which clear when it returns; a killed collectors process is restarted and the
restart is visible in /api/health (the ops page reads the same)."""
from __future__ import annotations

import os
import shutil
import signal

import psutil
import pytest

from tests.apprunner import AppProcess, get_json
from tests.browser import chromium
from tests.sourcedata import create_tiny_grid, insert_repair_call
from tests.test_e2e_app import repair_today, wait_for


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    var = tmp_path_factory.mktemp("faults")
    db = var / "source.db"
    create_tiny_grid(f"sqlite:///{db}")
    proc = AppProcess(var, extra_env={"SOURCE_URL": f"sqlite:///{db}"})
    try:
        proc.wait_live(need=("repair_orders_today",), fresh=True)
        yield proc, db
    finally:
        proc.stop()


def banner(page) -> str:
    return page.inner_text("#banner").strip()


# The banner may be absent for a moment (first render, a reload): a predicate that threw would end
# the wait, so "absent" reads as "not yet".
BANNER = "document.getElementById('banner')"
BANNER_CLEAR = f"() => (b => b !== null && b.innerText.trim() === '')({BANNER})"
BANNER_STALE = f"() => (b => b !== null && b.innerText.includes('数据已过期'))({BANNER})"


def test_source_down_shows_stale_then_clears(app):
    proc, db = app
    with chromium(proc.base) as w:
        w.page.goto(proc.base + "/")
        w.settle()
        w.page.wait_for_function(BANNER_CLEAR, timeout=60000)
        away = db.with_suffix(".away")
        shutil.move(db, away)                                    # the source system goes down
        try:
            w.page.wait_for_function(BANNER_STALE,
                                     timeout=90000)
            assert w.page.locator(".pw-age-stale").count() >= 1  # the tiles say how old they are
            assert w.page.inner_text("#ov-orders .pw-big") != "—"  # last good values stay
        finally:
            shutil.move(away, db)
        w.page.wait_for_function(BANNER_CLEAR, timeout=90000)
        assert w.page.locator(".pw-age-stale").count() == 0
        assert w.errors == [] and w.outside == []


def collectors_child(pid: int) -> psutil.Process:
    return next(p for p in psutil.Process(pid).children() if "collectors" in " ".join(p.cmdline()))


def test_killed_collectors_restart_and_show(app):
    proc, db = app
    victim = collectors_child(proc.proc.pid)
    os.kill(victim.pid, signal.SIGKILL)
    health = wait_for(lambda: (h := get_json(f"{proc.base}/api/health")[1])["processes"]
                      .get("collectors", {}).get("restarts", 0) >= 1 and h, timeout_s=60)
    assert health, "no restart recorded"
    assert collectors_child(proc.proc.pid).pid != victim.pid
    before = repair_today(proc, "PC02")
    insert_repair_call(db, "AFTER-RESTART", "PC02S01F001T002")  # the new process picks up new rows
    assert wait_for(lambda: repair_today(proc, "PC02") == before + 1, timeout_s=60)
