"""End to end through `python app.py`: a row inserted with plain SQL reaches the API and the
browser without a reload, and the pages load nothing from outside the app."""
from __future__ import annotations

import time

import pytest

from tests.apprunner import AppProcess, get_json
from tests.browser import chromium
from tests.sourcedata import create_tiny_grid, insert_repair_call


@pytest.fixture(scope="module")
def handmade_app(tmp_path_factory):
    var = tmp_path_factory.mktemp("e2e")
    db = var / "handmade.db"
    create_tiny_grid(f"sqlite:///{db}")
    app = AppProcess(var, extra_env={"SOURCE_URL": f"sqlite:///{db}"})
    try:
        app.wait_live(need=("repair_orders_today",))
        yield app, db
    finally:
        app.stop()


# the PC01S02 row of the overview's children table
STATION_ROW = "(a => a && a.closest('tr'))(document.querySelector('#ov-children a[href=\"/region/PC01S02\"]'))"


def wait_for(check, timeout_s: float = 60.0, every: float = 0.25):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    return check()


def repair_today(app, region: str) -> int:
    return get_json(f"{app.base}/api/v1/summary?region={region}")[1]["repair_orders_today"]


def test_sql_insert_reaches_api_and_browser_without_reload(handmade_app):
    app, db = handmade_app
    with chromium(app.base) as w:
        w.page.goto(f"{app.base}/region/PC01")
        w.settle()
        before = repair_today(app, "PC01")
        assert w.page.inner_text("#ov-orders .pw-big") == str(before)
        station_before = repair_today(app, "PC01S02")
        w.page.wait_for_function(f"() => {STATION_ROW} !== null", timeout=30000)
        assert w.page.evaluate(f"() => {STATION_ROW}.cells[3].innerText") == str(station_before)
        assert w.page.evaluate(f"() => {STATION_ROW}.cells[0].innerText") == "城东区2所"
        w.page.evaluate("window.__noReload = true")

        insert_repair_call(db, "E2E-1", "PC01S02F002T003")
        assert wait_for(lambda: repair_today(app, "PC01") == before + 1)
        assert repair_today(app, "PC02") == 0        # the other district did not move
        w.page.wait_for_function(f"() => (e => e !== null && e.innerText === '{before + 1}')(document.querySelector('#ov-orders .pw-big'))",
                                 timeout=60000)
        # the children table (drawn in the browser from the columns the server sends) moved too
        w.page.wait_for_function(f"() => (r => r !== null && r.cells[3].innerText === '{station_before + 1}')"
                                 f"({STATION_ROW})", timeout=30000)
        assert w.page.evaluate("window.__noReload") is True
        assert w.errors == [] and w.outside == []


@pytest.mark.parametrize("path", ["/", "/region/PC", "/region/PC02", "/region/PC01S01F001", "/region/NOPE"])
def test_pages_render_cleanly(handmade_app, path):
    app, _ = handmade_app
    with chromium(app.base) as w:
        resp = w.page.goto(f"{app.base}{path}")
        w.settle()
        assert resp.status == 200
        w.page.wait_for_timeout(1500)      # a few refresh ticks
        assert w.errors == [], w.errors
        assert w.outside == [], w.outside
        text = w.page.inner_text("body")
        assert ("未知的区域代码" in text) if path.endswith("NOPE") else ("峰城" in text)
