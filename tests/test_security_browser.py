"""In Chromium through `python app.py` with login required: a district operator signs in and
acknowledges a warning, and a wall opened with a kiosk token shows it without a reload; revoking
the token takes the wall off the data at its next tick. Every page runs under the CSP with no
violation (Chromium reports one as a console error)."""
from __future__ import annotations

import json
import time

import dash
import pytest

from collectors import redis_schema as keys
from collectors.redis_schema import connect
from dashboard.security import accounts, db
from tests.apprunner import AppProcess
from tests.browser import Watched, chromium
from tests.security_helpers import PASSWORD, raise_warning

COMMENT = "已派抢修二班"


def wait_until(check, timeout_s: float = 180.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise TimeoutError(check.__doc__)


@pytest.fixture(scope="module")
def secured_app(tmp_path_factory, redis_server):
    var = tmp_path_factory.mktemp("secure")
    connect(redis_server.url).flushdb()
    # the warnings job runs once at start and then not for an hour, so the test's warning stays
    app_db = f"sqlite:///{var / 'app.db'}"
    app = AppProcess(var, extra_env={"REDIS_URL": redis_server.url, "PEAKWATCH_AUTH": "required",
                                     "PEAKWATCH_INTERVAL_WARNINGS": "3600", "APP_DB_URL": app_db})
    client = connect(redis_server.url)

    def ready():
        """collectors published load and orders, and the warnings job had its first run"""
        versions, health = client.hgetall(keys.VERSIONS), client.hget(keys.HEALTH, "warnings")
        return "load" in versions and "orders" in versions and bool(health and json.loads(health)["last_attempt"])
    try:
        wait_until(ready)
        raise_warning(client, "PC01", level=3)
        eng = db.engine(app_db)
        yield app, eng
    finally:
        app.stop()


def sign_in(w: Watched, base: str, name: str, path: str) -> None:
    w.page.goto(f"{base}{path}")
    w.page.fill("#user", name)
    w.page.fill("#password", PASSWORD)
    w.page.click("#login-submit")
    w.page.wait_for_url(f"{base}{path}")
    w.settle()


def test_operator_acknowledges_and_the_kiosk_shows_it(secured_app):
    app, eng = secured_app
    accounts.add_user(eng, "op-pc01", PASSWORD, "operator", "PC01", "test")
    secret = accounts.add_token(eng, "hall-1", "default", "PC01", "test")
    with chromium(app.base, csp=True) as desk:
        wall = Watched(desk.page.context.browser.new_context(viewport={"width": 1920, "height": 1080}).new_page(),
                       app.base)
        wall.page.goto(f"{app.base}/wall/PC01?kiosk=1&token={secret}")
        wall.settle()
        assert "token" not in wall.page.url
        wall.page.evaluate("window.__noReload = true")

        sign_in(desk, app.base, "op-pc01", "/warnings/PC01")
        desk.page.fill("#ack-comment", COMMENT)
        desk.page.click("#ack-submit")
        desk.wait_js("document.querySelector('#ack-result').innerText === '已确认'")

        wall.wait_js(f"document.querySelector('#ack-strip').innerText.includes('{COMMENT}')")
        strip = wall.page.inner_text("#ack-strip")
        assert "op-pc01" in strip and "红色" in strip
        assert wall.page.evaluate("window.__noReload") is True          # live, not reloaded
        assert desk.errors == [] and wall.errors == [], desk.errors + wall.errors
        assert desk.outside == [] and wall.outside == []

        accounts.revoke_token(eng, accounts.token_by_secret(eng, secret).id, "test")
        wall.page.wait_for_url(f"{app.base}/login*", timeout=30000)      # the next tick ends the session


def test_every_page_runs_under_the_csp(secured_app, web_app):
    app, eng = secured_app
    accounts.add_user(eng, "adm", PASSWORD, "admin", db.WHOLE_TREE, "test")
    web_app.server.test_client().get("/")          # the page registry, as the running app has it
    paths = sorted({(p.get("path_template") or p["path"]).replace("<code>", "PC01")
                    for p in dash.page_registry.values()})
    assert len(paths) > 10, paths
    with chromium(app.base, csp=True) as w:
        sign_in(w, app.base, "adm", "/")
        for path in paths:
            w.page.goto(f"{app.base}{path}")
            w.settle()
            w.page.wait_for_timeout(800)
            assert w.errors == [], (path, w.errors)
