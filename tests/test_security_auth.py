"""Sign-in, sessions, lockout, kiosk tokens, forged writes, headers, and what survives a Redis
wipe, against the real web app and a real app DB."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dash
import pytest

from collectors.publish import record_rejects
from config import settings as settings_mod
from dashboard import runtime
from dashboard.security import accounts, principal
from tests.dash_payloads import payload
from tests.security_helpers import (ORIGIN, PASSWORD, add_user, app_db, login, raise_warning, require_auth,
                                    session_csrf, signed_in)
from tests.test_api import run_collectors_once

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def secured(web_app, settings_env, redis_client, monkeypatch):
    run_collectors_once(settings_mod.load(), redis_client)
    require_auth(web_app, monkeypatch)
    return web_app


def test_login_sets_a_hardened_cookie_and_logout_ends_the_session(secured):
    client = secured.server.test_client()
    add_user(secured, "ann", "viewer", "PC01")
    resp = login(client, "ann")
    assert resp.status_code == 303
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie   # plain http here
    assert client.get("/api/v1/summary").get_json()["region"] == "PC01"
    assert client.post("/logout", data={"csrf_token": session_csrf(client)}, headers={"Origin": ORIGIN}).status_code == 303
    assert client.get("/api/v1/summary").status_code == 401
    with app_db(secured).connect() as conn:
        actions = conn.exec_driver_sql("SELECT actor, action FROM audit_log ORDER BY id").all()
    assert [tuple(a) for a in actions][-2:] == [("ann", "login"), ("ann", "logout")]


def test_cookie_is_secure_under_https(secured):
    client = secured.server.test_client()
    add_user(secured, "ann", "viewer", "PC01")
    form = client.get("/login", base_url="https://localhost")
    assert "Secure" in form.headers["Set-Cookie"]


def test_wrong_password_and_unknown_user_look_the_same(secured):
    client = secured.server.test_client()
    add_user(secured, "ann", "viewer", "PC01")
    wrong, unknown = login(client, "ann", "wrong password!"), login(client, "nobody", "wrong password!")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in unknown.text


def test_lockout_after_repeated_failures_even_with_the_right_password(secured):
    client = secured.server.test_client()
    add_user(secured, "ann", "viewer", "PC01")
    limit = secured.server.config["PW_SECURITY"].login_max_failures
    for _ in range(limit):
        assert login(client, "ann", "guess guess guess").status_code == 401
    locked = login(client, "ann")
    assert locked.status_code == 429 and "请 15 分钟后再试" in locked.text
    other = secured.server.test_client()       # the lock is on the account, not on this browser
    assert login(other, "ann").status_code == 429


def test_lockout_per_address_across_user_names(secured, monkeypatch):
    cfg = secured.server.config["PW_SECURITY"]
    monkeypatch.setitem(secured.server.config, "PW_SECURITY", type(cfg)(**{**cfg.__dict__, "login_ip_max_failures": 3}))
    client = secured.server.test_client()
    add_user(secured, "ann", "viewer", "PC01")
    for name in ("a1", "a2", "a3"):
        assert login(client, name, "guess guess guess").status_code == 401
    assert login(client, "ann").status_code == 429


def test_lockout_state_is_in_the_app_db_with_the_browser_address(secured, monkeypatch):
    cfg = secured.server.config["PW_SECURITY"]
    monkeypatch.setitem(secured.server.config, "PW_SECURITY", type(cfg)(**{**cfg.__dict__,
                                                                            "trusted_proxies": frozenset({"10.0.0.5"})}))
    proxied = secured.server.test_client()
    proxied.environ_base.update(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.7, 10.1.2.3")
    login(proxied, "ann", "nope nope nope")
    direct = secured.server.test_client()
    direct.environ_base.update(HTTP_X_FORWARDED_FOR="203.0.113.9")     # not from a proxy: not believed
    login(direct, "bob", "nope nope nope")
    with app_db(secured).connect() as conn:
        rows = conn.exec_driver_sql("SELECT user_name, address, ok FROM login_attempts ORDER BY id").all()
    assert rows == [("ann", "10.1.2.3", 0), ("bob", "127.0.0.1", 0)]


def test_login_without_csrf_token_or_from_another_site_is_refused(secured):
    client = secured.server.test_client()
    add_user(secured, "ann", "viewer", "PC01")
    client.get("/login")
    assert client.post("/login", data={"user": "ann", "password": PASSWORD}, headers={"Origin": ORIGIN}).status_code == 400
    assert client.post("/login", data={"user": "ann", "password": PASSWORD, "csrf_token": session_csrf(client)},
                       headers={"Origin": "http://evil.example"}).status_code == 400


def test_next_never_leaves_the_site(secured):
    client = secured.server.test_client()
    add_user(secured, "ann", "viewer", "PC01")
    form = client.get("/login?next=//evil.example/x")
    assert 'name="next" value="/"' in form.text


def test_idle_session_expires(secured):
    client = signed_in(secured, "ann", "viewer", "PC01")
    idle = secured.server.config["PW_SECURITY"].session_idle_minutes * 60
    with client.session_transaction() as s:
        s["seen"] = time.time() - idle - 1
    assert client.get("/api/v1/summary").status_code == 401


def test_password_change_and_disable_end_sessions(secured):
    client = signed_in(secured, "ann", "viewer", "PC01")
    accounts.set_password(app_db(secured), "ann", "another long password", "test")
    assert client.get("/api/v1/summary").status_code == 401
    client = secured.server.test_client()
    assert login(client, "ann", "another long password").status_code == 303
    accounts.set_disabled(app_db(secured), "ann", True, "test")
    assert client.get("/api/v1/summary").status_code == 401


def kiosk(secured, scope="PC01"):
    secret = accounts.add_token(app_db(secured), "hall-1", "default", scope, "test")
    client = secured.server.test_client()
    resp = client.get(f"/wall?kiosk=1&token={secret}")
    assert resp.status_code == 303 and resp.headers["Location"] == "/wall?kiosk=1"   # the token leaves the URL
    return client, secret


def test_kiosk_token_reads_its_scope_and_writes_nothing(secured, redis_client):
    raise_warning(redis_client, "PC01")
    client, _ = kiosk(secured)
    assert client.get("/wall?kiosk=1").headers["Location"] == "/wall/PC01?kiosk=1"
    assert client.get("/api/v1/summary").get_json()["region"] == "PC01"
    resp = client.post("/api/v1/warnings/ack", json={"code": "PC01", "comment": "x"},
                       headers={"Origin": ORIGIN, "X-CSRF-Token": session_csrf(client)})
    assert resp.status_code == 403
    assert client.get("/ops").status_code == 403         # not in its playlist


def test_revoked_token_stops_at_the_next_request(secured):
    client, secret = kiosk(secured)
    assert client.get("/api/v1/versions").status_code == 200
    token = accounts.token_by_secret(app_db(secured), secret)
    accounts.revoke_token(app_db(secured), token.id, "test")
    assert client.get("/api/v1/versions").status_code == 401
    tick = client.post("/_dash-update-component", json=payload(secured, "_pages_content.children", {
        "_pages_location.pathname": "/wall/PC01", "_pages_location.search": "?kiosk=1"}))
    assert tick.status_code == 401
    again = secured.server.test_client().get(f"/wall?kiosk=1&token={secret}")
    assert again.status_code == 401 and "吊销" in again.text


def test_a_worker_rechecks_an_account_once_its_lookup_is_older_than_the_setting(web_app, settings_env,
                                                                                 redis_client, monkeypatch):
    """Production default: each worker looks an account up at most once a second, not on every tick."""
    run_collectors_once(settings_mod.load(), redis_client)
    require_auth(web_app, monkeypatch, account_recheck_s=1.0)
    now = [1000.0]
    monkeypatch.setattr(principal._recent, "clock", lambda: now[0])
    principal._recent.clear()
    client, secret = kiosk(web_app)
    assert client.get("/api/v1/versions").status_code == 200
    accounts.revoke_token(app_db(web_app), accounts.token_by_secret(app_db(web_app), secret).id, "test")
    now[0] += 0.5
    assert client.get("/api/v1/versions").status_code == 200      # this worker's look-up is 0.5 s old
    now[0] += 0.6
    assert client.get("/api/v1/versions").status_code == 401      # 1.1 s: looked up again, revoked


def test_an_unchanged_kiosk_tick_carries_no_cookie_until_the_minute_touch(secured):
    client, _ = kiosk(secured)
    etag = client.get("/api/v1/versions").headers["ETag"]
    same = client.get("/api/v1/versions", headers={"If-None-Match": etag})
    assert same.status_code == 304 and "Set-Cookie" not in same.headers
    with client.session_transaction() as s:
        s["seen"] = time.time() - 61               # a minute since the session was last rewritten
    touched = client.get("/api/v1/versions", headers={"If-None-Match": etag})
    assert "pw_session=" in touched.headers.get("Set-Cookie", "")


def test_kiosk_playlist_is_rooted_at_the_token_scope(secured):
    client, _ = kiosk(secured)
    layout = client.get("/_dash-layout").get_json()
    urls = [s["url"] for s in find_store(layout, "playlist")["screens"]]
    assert urls and all("/PC01" in u for u in urls), urls


def find_store(tree, store_id):
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == store_id:
            return tree["props"]["data"]
        children = tree.get("props", {}).get("children")
        return find_store(children, store_id) if children is not None else None
    if isinstance(tree, list):
        for item in tree:
            found = find_store(item, store_id)
            if found is not None:
                return found
    return None


def ack(client, code="PC01", origin=ORIGIN, token=None, **extra):
    headers = {"Origin": origin} if origin else {}
    if token is not False:
        headers["X-CSRF-Token"] = token or session_csrf(client)
    return client.post("/api/v1/warnings/ack", json={"code": code, "comment": "crew sent", **extra}, headers=headers)


def test_forged_cross_site_acknowledgement_is_refused(secured, redis_client):
    raise_warning(redis_client, "PC01")
    client = signed_in(secured, "op", "operator", "PC01")
    assert ack(client, origin="http://evil.example").status_code == 403       # another site's page
    assert ack(client, origin=None).status_code == 403                        # no Origin, no Referer
    assert ack(client, token=False).status_code == 403                        # no CSRF token
    assert ack(client, token="guessed").status_code == 403
    with app_db(secured).connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM acknowledgements").scalar() == 0


def test_acknowledgement_is_audited_and_bound_to_the_warning(secured, redis_client):
    raise_warning(redis_client, "PC01", level=2)
    client = signed_in(secured, "op", "operator", "PC01")
    assert ack(client, level=3).status_code == 409                           # the screen showed another level
    assert ack(client).status_code == 201
    with app_db(secured).connect() as conn:
        actor, action, target, detail = conn.exec_driver_sql(
            "SELECT actor, action, target, detail FROM audit_log WHERE action = 'ack'").one()
    assert (actor, action, target) == ("op", "ack", "PC01")
    assert '"old_level": "orange"' in detail and '"new_state": "acknowledged"' in detail and "crew sent" in detail
    strip = client.post("/_dash-update-component", json=payload(secured, "ack-strip.children", {
        "versions.data": {"acks": 99}, "ack-rendered.data": {}, "lang.data": "zh"}))
    assert "op" in strip.text and "crew sent" in strip.text
    raise_warning(redis_client, "PC01", level=3)                               # a new level: the ack lapses
    strip = client.post("/_dash-update-component", json=payload(secured, "ack-strip.children", {
        "versions.data": {"acks": 100}, "ack-rendered.data": {}, "lang.data": "zh"}))
    assert "crew sent" not in strip.text


def test_csp_and_headers_on_every_page(secured):
    client = signed_in(secured, "adm", "admin", "*")
    paths = {(p.get("path_template") or p["path"]).replace("<code>", "PC01") for p in dash.page_registry.values()}
    for path in sorted(paths | {"/login", "/api/v1/versions", "/nope"}):
        resp = client.get(path)
        csp = resp.headers.get("Content-Security-Policy", "")
        if not resp.mimetype.startswith("text/html"):   # JSON: nothing may load or frame at all
            assert csp == "default-src 'none'; frame-ancestors 'none'", path
            assert resp.headers["X-Content-Type-Options"] == "nosniff", path
            continue
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        script_src = csp.split("script-src")[1].split(";")[0]
        assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src, path
        assert resp.headers["X-Content-Type-Options"] == "nosniff", path


def test_no_traceback_reaches_the_browser(secured, monkeypatch):
    client = signed_in(secured, "adm", "admin", "*")
    class Broken:
        def __getattr__(self, name):
            return lambda *a: 1 / 0
    monkeypatch.setitem(runtime._state, "store", Broken())
    resp = client.get("/api/v1/summary")
    assert resp.status_code == 500 and resp.get_json() == {"error": "internal error"}
    assert "Traceback" not in resp.text and "ZeroDivision" not in resp.text


def test_sso_header_is_trusted_only_from_the_proxy(secured, monkeypatch):
    cfg = secured.server.config["PW_SECURITY"]
    monkeypatch.setitem(secured.server.config, "PW_SECURITY", type(cfg)(**{
        **cfg.__dict__, "sso_header": "X-Remote-User", "trusted_proxies": frozenset({"10.0.0.5"})}))
    add_user(secured, "ann", "viewer", "PC01")
    client = secured.server.test_client()
    via_proxy = client.get("/api/v1/summary", headers={"X-Remote-User": "ann"},
                           environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert via_proxy.status_code == 200 and via_proxy.get_json()["region"] == "PC01"
    direct = client.get("/api/v1/summary", headers={"X-Remote-User": "ann"})
    assert direct.status_code == 401
    unknown = client.get("/api/v1/summary", headers={"X-Remote-User": "mallory"},
                         environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert unknown.status_code == 401


def test_redis_wipe_leaves_users_tokens_and_acknowledgements(secured, redis_client):
    raise_warning(redis_client, "PC01")
    client = signed_in(secured, "op", "operator", "PC01")
    assert ack(client).status_code == 201
    accounts.add_token(app_db(secured), "hall-1", "default", "PC01", "test")
    redis_client.flushall()
    eng = app_db(secured)
    assert [u.name for u in accounts.list_users(eng)] == ["op"]
    assert [t.label for t in accounts.list_tokens(eng)] == ["hall-1"]
    with eng.connect() as conn:
        assert conn.exec_driver_sql("SELECT node_code, user_name FROM acknowledgements").all() == [("PC01", "op")]
    assert client.get("/api/v1/versions").status_code == 200          # still signed in


def run(code: str, **env):
    full = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "PEAKWATCH_ENV")}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**full, **env}, capture_output=True,
                          text=True, timeout=120)


def test_production_refuses_to_start_without_a_secret_key(redis_url, tmp_path):
    out = run("import dashboard.wsgi", REDIS_URL=redis_url, PEAKWATCH_ENV="production",
              APP_DB_URL=f"sqlite:///{tmp_path / 'app.db'}")
    assert out.returncode != 0 and "needs SECRET_KEY" in out.stderr


def test_production_requires_login_and_no_dev_tools(redis_url, tmp_path):
    probe = ("import dashboard.wsgi as w; c = w.server.test_client(); "
             "print(c.get('/api/v1/versions').status_code, w.app._dev_tools.ui, w.server.debug)")
    out = run(probe, REDIS_URL=redis_url, PEAKWATCH_ENV="production", SECRET_KEY="x" * 48,
              APP_DB_URL=f"sqlite:///{tmp_path / 'app.db'}")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-3:] == ["401", "False", "False"]


def test_cli_manages_users_and_tokens(tmp_path):
    cli_round_trip(f"sqlite:///{tmp_path / 'app.db'}")


def cli_round_trip(app_db_url: str) -> None:
    """Users and kiosk tokens through `python -m dashboard.users` (tests/test_postgres.py runs
    it against PostgreSQL too)."""
    env = {"APP_DB_URL": app_db_url}

    def cli(*args, stdin=None):
        full = {**os.environ, **env}
        return subprocess.run([sys.executable, "-m", "dashboard.users", *args], cwd=ROOT, env=full, input=stdin,
                              capture_output=True, text=True, timeout=120)
    assert cli("add", "ann", "--role", "operator", "--scope", "PC01", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    assert cli("add", "ann", "--role", "viewer", "--scope", "PC01", "--password-stdin", stdin=PASSWORD + "\n").returncode == 1
    assert cli("add", "bob", "--role", "viewer", "--scope", "PC01", "--password-stdin", stdin="short\n").returncode == 1
    assert cli("list").stdout.split() == ["ann", "operator", "PC01", "active"]
    assert cli("disable", "ann").returncode == 0 and "disabled" in cli("list").stdout
    secret = cli("token-add", "hall-1", "--scope", "PC01").stdout.strip()
    assert len(secret) >= 40
    assert cli("token-add", "hall-2", "--scope", "PC01", "--playlist", "../etc").returncode != 0
    assert cli("token-revoke", "1").returncode == 0 and "revoked" in cli("token-list").stdout
    boot = cli("init", "--admin-if-empty")
    assert boot.returncode == 0 and "password" not in boot.stdout             # users exist: no bootstrap admin


def test_ops_shows_rejected_values_to_whole_network_users_only(secured, redis_client):
    """Ops names no region, so a district user may open it; the rejected values come from every
    district, so they are shown at whole-network scope only (counts and rules to everyone)."""
    record_rejects(redis_client, [{"at": "2026-07-15T13:00:00", "source": "oms", "table": "repair_orders",
                                   "key": "RO-SECRET-1", "field": "caller_phone", "rule": "format",
                                   "value": "13800138000", "collector": "orders"}])

    def ops_page(client) -> str:
        resp = client.post("/_dash-update-component", json=payload(secured, "_pages_content.children", {
            "_pages_location.pathname": "/ops", "_pages_location.search": ""}))
        assert resp.status_code == 200
        return resp.get_data(as_text=True)

    district = ops_page(signed_in(secured, "ann", "viewer", "PC01"))
    network = ops_page(signed_in(secured, "root", "viewer", "*"))
    assert "RO-SECRET-1" in district and "13800138000" not in district
    assert "RO-SECRET-1" in network and "13800138000" in network


def test_a_worker_decodes_each_session_cookie_once_and_never_a_forged_one(secured, monkeypatch):
    """The session interface keeps what a verified cookie text decoded to: the same cookie is not
    checked again, and a cookie with one character of its signature changed is refused."""
    from flask.sessions import SecureCookieSessionInterface
    client, _ = kiosk(secured)
    decodes = []
    original = SecureCookieSessionInterface.open_session
    monkeypatch.setattr(SecureCookieSessionInterface, "open_session",
                        lambda self, app, request: decodes.append(1) or original(self, app, request))
    secured.server.session_interface._decoded.clear()
    for _ in range(5):
        assert client.get("/api/v1/versions").status_code == 200
    assert len(decodes) == 1
    cookie = client.get_cookie("pw_session").value
    # the signature's first character: all its bits count (the last one's may be base64 padding)
    body, _, signature = cookie.rpartition(".")
    forged = f"{body}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    intruder = secured.server.test_client()
    intruder.set_cookie("pw_session", forged)
    assert intruder.get("/api/v1/versions").status_code == 401
