"""Every screen in Debian's Chromium against `python app.py` (tiny scale, fast intervals): pages
render clean at the city and one district, in Chinese and English; a drill-down by clicks from
the city to a 台区 and back with URLs that reproduce each step; the wall playlist rotates and
reloads on schedule; the stale banner follows the collectors; a kiosk recovers from a web
server restart. Screenshots go to tests/screenshots/ (git-ignored)."""
from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.apprunner import AppProcess
from tests.browser import chromium

# Predicates are arrow functions: Playwright evaluates a bare expression with eval, which the
# app's Content-Security-Policy (no unsafe-eval) refuses; a function is called without eval.

SHOTS = Path(__file__).resolve().parent / "screenshots"
PAGES = ["/", "/load", "/repairs", "/outages", "/warnings", "/keycustomers", "/sensitive", "/ops", "/wall"]
DISTRICT = "PC01"
DWELL_S = 3
WALL_YAML = f"""
dwell_seconds: {DWELL_S}
reload_minutes: 0.4
tick_ms: 1000
playlist:
  - {{page: wall}}
  - {{page: wall, focus: districts}}
  - {{page: load}}
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    var = tmp_path_factory.mktemp("screens")
    (var / "wall.yaml").write_text(WALL_YAML)
    proc = AppProcess(var, extra_env={"PEAKWATCH_WALL_CONFIG": str(var / "wall.yaml"),
                                      "PEAKWATCH_INTERVAL_WARNINGS": "5", "PEAKWATCH_INTERVAL_GEO": "10",
                                      # load's as_of is its newest minute reading: a 2 s poll would
                                      # call it stale between minutes and keep the banner up
                                      "PEAKWATCH_INTERVAL_SCADA": "20"})
    try:
        proc.wait_live(fresh=True)   # every dataset published: the banner starts clear
        SHOTS.mkdir(exist_ok=True)
        yield proc
    finally:
        proc.stop()


def dom_id(pattern: dict) -> str:
    """How Dash writes a pattern-matching id into the DOM."""
    return json.dumps(pattern, sort_keys=True, separators=(",", ":"))


def shot(w, name: str) -> None:
    w.page.screenshot(path=str(SHOTS / f"{name}.png"))


def visit(w, base: str, path: str) -> str:
    resp = w.page.goto(base + path)
    w.settle()
    w.page.wait_for_selector("#_pages_content .pw-page, #_pages_content .pw-wall, #_pages_content .pw-tile",
                             timeout=30000)
    assert resp.status == 200, path
    return w.page.inner_text("body")


def url_path(w) -> str:
    return w.page.evaluate("location.pathname + location.search")


def name_of(path: str) -> str:
    return path.strip("/").replace("/", "-").replace("?", "_").replace("=", "-") or "overview"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_renders_clean(app, lang):
    with chromium(app.base) as w:
        w.page.context.add_cookies([{"name": "pw_lang", "value": lang, "url": app.base}])
        for page in PAGES:
            scoped = [] if page == "/ops" else [f"{page.rstrip('/') or '/region'}/{DISTRICT}"]
            for path in (page, *scoped):        # the ops page is about the system, not a node
                text = visit(w, app.base, path)
                w.page.wait_for_timeout(1200)            # a refresh tick or two
                assert ("供电服务指挥中心" if lang == "zh" else "Service Command Center") in text, path
                shot(w, f"{lang}-{name_of(path)}")
        w.page.set_viewport_size({"width": 3840, "height": 2160})     # a 4K wall at 100 % zoom
        visit(w, app.base, "/wall")
        chart = json.dumps(dom_id({"type": "part", "page": "wall", "name": "curve_graph"}))
        w.page.wait_for_function(f"() => document.getElementById({chart}).querySelector('.js-plotly-plot')"
                                 ".layout.font.size === 32")        # chart type doubled with the width
        shot(w, f"{lang}-wall-3840x2160")
        assert w.errors == [], w.errors
        assert w.outside == [], w.outside


def click_first_bar(w, page: str) -> None:
    box = w.page.locator(f"[id='{dom_id({'type': 'drill', 'page': page, 'name': 'children'})}'] .bars path") \
        .first.bounding_box()
    w.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def click_first_row(w, page: str) -> None:
    w.page.locator(f"[id='{dom_id({'type': 'grid', 'page': page, 'name': 'children'})}'] .ag-row .ag-cell") \
        .first.click()


def wait_path_change(w, old: str) -> str:
    w.page.wait_for_function(f"() => location.pathname + location.search !== {json.dumps(old)}", timeout=15000)
    w.settle()
    return url_path(w)


def test_drill_down_to_a_tarea_and_back(app):
    """City → district (a bar) → station → feeder → 台区 (grid rows), keeping ?hours=, then back."""
    with chromium(app.base) as w:
        visit(w, app.base, "/load?hours=8-20")
        steps = [url_path(w)]
        click_first_bar(w, "load")
        steps.append(wait_path_change(w, steps[-1]))
        for _ in range(3):
            click_first_row(w, "load")
            steps.append(wait_path_change(w, steps[-1]))
        assert [s.split("?")[0].count("/") for s in steps] == [1, 2, 2, 2, 2]
        assert all(s.endswith("?hours=8-20") for s in steps)
        shot(w, "drill-tarea")

        for expected in reversed(steps[:-1]):                 # back goes up, one level per step
            w.page.go_back()
            w.page.wait_for_function(f"() => location.pathname + location.search === {json.dumps(expected)}")
            w.settle()
        chart = json.dumps(dom_id({"type": "timechart", "page": "load", "name": "curve"}))
        for depth, step in enumerate(steps, start=1):         # every step's URL reproduces its view
            visit(w, app.base, step)
            assert w.page.locator(".pw-breadcrumb li").count() == depth, step
            x_range = w.page.wait_for_function(    # the graph bundle loads lazily: wait for the plot
                f"() => (p => p && p.layout && p.layout.xaxis.range)(document.getElementById({chart})"
                ".querySelector('.js-plotly-plot'))").json_value()
            assert x_range == [8, 20], step
        assert w.errors == [] and w.outside == []


def test_map_area_click_drills_into_a_district(app):
    with chromium(app.base) as w:
        visit(w, app.base, "/warnings")
        label = w.page.locator(f"[id='{dom_id({'type': 'drill', 'page': 'warnings', 'name': 'map'})}'] .textpoint").first
        label.wait_for()
        path = None
        # A map refresh landing between hover and click eats the click, and a banner or the
        # acknowledgement strip appearing above moves the map: measure again on each attempt.
        for _attempt in range(5):
            box = label.bounding_box()
            centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            w.page.mouse.move(*centre)
            try:
                w.page.locator(".hovertext").first.wait_for(timeout=5000)   # plotly has the area under the pointer
                w.page.mouse.click(*centre)
                path = wait_path_change(w, "/warnings")
                break
            except PlaywrightTimeout:
                w.page.mouse.move(0, 0)
        assert path and path.startswith("/warnings/PC0"), path
        assert w.errors == [] and w.outside == []


def test_wall_playlist_rotates_and_reloads_on_schedule(app):
    with chromium(app.base) as w:
        visit(w, app.base, "/wall")
        assert w.page.evaluate("document.documentElement.classList.contains('pw-kiosk')")
        assert not w.page.locator(".pw-navbar").is_visible()
        w.page.evaluate("window.__sameDocument = true")
        screens = ["/wall?kiosk=1", "/wall/PC01?kiosk=1", "/wall/PC02?kiosk=1", "/load?kiosk=1"]
        seen = [url_path(w)]
        for _ in range(4):            # each screen for DWELL_S, in playlist order, round and round
            seen.append(wait_path_change(w, seen[-1]))
        at = screens.index(seen[1])
        assert seen[1:] == [screens[(at + i) % len(screens)] for i in range(4)], seen
        assert w.page.evaluate("window.__sameDocument") is True         # rotation is in-page
        shot(w, "wall-rotated-load")
        w.page.wait_for_function("() => window.__sameDocument !== true", timeout=40000)   # reload_minutes: 0.4
        w.settle()
        assert w.errors == [] and w.outside == []


def child(app, marker: str) -> psutil.Process:
    return next(p for p in psutil.Process(app.proc.pid).children() if marker in " ".join(p.cmdline()))


def banner(w) -> str:
    return w.page.evaluate("document.getElementById('banner').className")


def test_stale_banner_follows_the_collectors(app):
    collectors = child(app, "-m collectors")
    with chromium(app.base) as w:
        visit(w, app.base, "/repairs")
        w.page.wait_for_function("() => (b => b !== null && !b.className.includes('pw-banner-stale'))"
                                 "(document.getElementById('banner'))", timeout=60000)
        collectors.send_signal(signal.SIGSTOP)
        try:
            w.page.wait_for_function("() => (b => b !== null && b.className.includes('pw-banner-stale'))(document.getElementById('banner'))",
                                     timeout=60000)
            shot(w, "zh-stale-banner")
        finally:
            collectors.send_signal(signal.SIGCONT)
        w.page.wait_for_function("() => (b => b !== null && !b.className.includes('pw-banner-stale'))(document.getElementById('banner'))",
                                 timeout=60000)
        assert w.errors == [] and w.outside == []


def test_kiosk_recovers_from_a_web_server_restart(app):
    """Nobody at the keyboard: the web server dies, the supervisor restarts it, the wall reloads."""
    with chromium(app.base) as w:
        visit(w, app.base, "/wall")
        w.page.evaluate("window.__sameDocument = true")
        child(app, "granian").kill()
        w.page.wait_for_function("() => (b => b !== null && b.className.includes('pw-banner-down'))(document.getElementById('banner'))",
                                 timeout=30000)
        started = time.monotonic()
        w.page.wait_for_function("() => window.__sameDocument !== true", timeout=90000)
        w.settle()
        w.page.wait_for_function("() => (b => b && b.className === 'pw-banner')(document.getElementById('banner'))",
                                 timeout=30000)
        assert time.monotonic() - started < 90
        assert w.outside == []
