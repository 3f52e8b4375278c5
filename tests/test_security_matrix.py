"""Role × scope × every API route and every server callback, in scope and out: allowed or refused.

Each principal walks the whole table of requests (one sign-in per principal); callback requests
are built from the app's own callback map, so a new callback joins the table by itself, and the
forged ones put another district's code where the page's own code belongs."""
from __future__ import annotations

import pytest

from config import settings as settings_mod
from dashboard import ids
from dashboard.security.regions import REGION_BEARING, id_key
from tests.dash_payloads import payload
from tests.security_helpers import ORIGIN, raise_warning, require_auth, session_csrf, signed_in
from tests.test_api import run_collectors_once
from tests.test_security_scope_ids import server_callbacks

ALLOWED, REFUSED = "allowed", "refused"
API_ROUTES = ["/api/v1/summary", "/api/v1/warnings", "/api/v1/warnings/history"]
EVERY_VERSION = {ds: 99 for ds in ("load", "ami", "orders", "outages", "warnings", "weather", "sensitive", "geo",
                                   "countdowns", "keycustomers", "audit", "frequent_outages", "topology", "acks")}
KIOSK_PAGES = {"wall", "warnings", "repairs", "load", "outages"}       # config/wall.yaml


# name: (role, scope, inside code, outside codes); kiosk is a token bound to the default playlist
PRINCIPALS = {
    "viewer-district": ("viewer", "PC01", "PC01S01F001", ["PC02", "PC", "PC02S01"]),
    "operator-district": ("operator", "PC01", "PC01", ["PC02", "PC"]),
    "operator-station": ("operator", "PC01S01", "PC01S01", ["PC01S02", "PC01", "PC02"]),
    "admin-city": ("admin", "PC", "PC02S01", []),
    "kiosk-district": ("kiosk", "PC01", "PC01", ["PC02", "PC"]),
}


def sign_in(web_app, name: str):
    role, scope, _, _ = PRINCIPALS[name]
    if role != "kiosk":
        return signed_in(web_app, name, role, scope)
    from dashboard.security import accounts
    secret = accounts.add_token(web_app.server.config["PW_APP_DB"], name, "default", scope, "test")
    client = web_app.server.test_client()
    assert client.get(f"/wall?kiosk=1&token={secret}").status_code == 303
    return client


def callback_page(key: str) -> str:
    """The page a VIEW-driven callback belongs to, from its output ids."""
    for page in ("keycustomers", "load", "ops", "outages", "repairs", "sensitive", "wall", "warnings"):
        if f'"page":"{page}"' in key:
            return page
    return "overview"


def callback_values(key: str, spec: dict, code: str) -> dict:
    """What the browser would send for a callback of the page at `code`."""
    page = callback_page(key)
    view = {"page": page, "code": code, "lang": "zh", "theme": "light", "kiosk": False, "hours": None}
    if page == "ops":
        view = {"page": page, "lang": "zh", "theme": "light"}        # as pages/ops.py writes it
    values = {f"{ids.VERSIONS}.data": EVERY_VERSION, f"{ids.OV_REGION}.data": code, f"{ids.VIEW}.data": view,
              f"{ids.LANG}.data": "zh", "_pages_location.search": "",
              "_pages_location.pathname": f"/region/{code}"}
    for item in spec["inputs"]:
        if '"viewport"' in str(item["id"]):
            values[f'{item["id"]}.{item["property"]}'] = 1920
    return values


def outcome(resp) -> str:
    if resp.status_code in (401, 403) or resp.headers.get("X-Peakwatch-Refused") == "scope":
        return REFUSED
    assert resp.status_code in (200, 204), (resp.status_code, resp.get_data(as_text=True)[:300])
    return ALLOWED


def names_a_region(spec: dict) -> bool:
    return any((id_key(i["id"]), i["property"]) in REGION_BEARING for i in [*spec["inputs"], *spec.get("state", [])])


def expected_callback(name: str, key: str, spec: dict, inside: bool) -> str:
    page = callback_page(key)
    if not names_a_region(spec):
        return ALLOWED              # the acknowledgement strip (the viewer's own scope), chart sizes
    if PRINCIPALS[name][0] == "kiosk" and "_pages_content" not in key and page not in KIOSK_PAGES:
        return REFUSED              # a wall may refresh the pages of its playlist only
    if page == "ops":
        return ALLOWED              # collector health: no region
    return ALLOWED if inside else REFUSED


def walk_callbacks(web_app, client, name: str) -> list[str]:
    _, _, inside, outside = PRINCIPALS[name]
    wrong = []
    for key, spec in server_callbacks(web_app).items():
        for code, is_inside in [(inside, True), *[(c, False) for c in outside]]:
            values = callback_values(key, spec, code)
            if "_pages_content" in key and PRINCIPALS[name][0] == "kiosk":
                values["_pages_location.pathname"] = f"/wall/{code}"
            resp = client.post("/_dash-update-component", json=payload(web_app, key, values))
            got, want = outcome(resp), expected_callback(name, key, spec, is_inside)
            if got != want:
                wrong.append(f"{key[:70]} at {code}: {got}, expected {want}")
    return wrong


def walk_api(client, name: str) -> list[str]:
    _, _, inside, outside = PRINCIPALS[name]
    wrong = []
    for route in API_ROUTES:
        for code, want in [(inside, ALLOWED), *[(c, REFUSED) for c in outside]]:
            got = outcome(client.get(f"{route}?region={code}"))
            if got != want:
                wrong.append(f"{route}?region={code}: {got}, expected {want}")
    for route in ["/api/v1/versions", "/api/health", "/api/v1/regions", *API_ROUTES]:
        if outcome(client.get(route)) != ALLOWED:        # no region: the principal's own scope
            wrong.append(f"{route}: refused")
    return wrong


def walk_ack(client, name: str) -> list[str]:
    role, _, inside, outside = PRINCIPALS[name]
    headers = {"Origin": ORIGIN, "X-CSRF-Token": session_csrf(client)}
    wrong = []
    for code, is_inside in [(inside, True), *[(c, False) for c in outside]]:
        resp = client.post("/api/v1/warnings/ack", json={"code": code, "comment": "crew sent"}, headers=headers)
        want = 201 if is_inside and role in ("operator", "admin") else 403
        if resp.status_code != want:
            wrong.append(f"ack {code}: {resp.status_code} {resp.get_json()}, expected {want}")
    return wrong


@pytest.mark.parametrize("name", PRINCIPALS)
def test_matrix(web_app, settings_env, redis_client, monkeypatch, name):
    run_collectors_once(settings_mod.load(), redis_client)
    raise_warning(redis_client, "PC", "PC01", "PC02", "PC01S01", "PC01S02", "PC02S01")
    require_auth(web_app, monkeypatch)
    client = sign_in(web_app, name)
    wrong = walk_callbacks(web_app, client, name) + walk_api(client, name) + walk_ack(client, name)
    assert not wrong, "\n".join(wrong)


def test_regions_lists_only_the_scope(web_app, settings_env, redis_client, monkeypatch):
    run_collectors_once(settings_mod.load(), redis_client)
    require_auth(web_app, monkeypatch)
    codes = {r["code"] for r in signed_in(web_app, "v", "viewer", "PC01S01").get("/api/v1/regions").get_json()}
    assert codes and all(c.startswith("PC01S01") for c in codes) and "PC01S01" in codes


def test_warnings_list_only_the_scope(web_app, settings_env, redis_client, monkeypatch):
    run_collectors_once(settings_mod.load(), redis_client)
    raise_warning(redis_client, "PC", "PC01", "PC02", "PC01S01")
    require_auth(web_app, monkeypatch)
    body = signed_in(web_app, "v", "viewer", "PC01").get("/api/v1/warnings").get_json()
    assert body["region"] == "PC01" and {n["code"] for n in body["nodes"]} <= {"PC01", "PC01S01", "PC01S02"}


def test_anonymous_is_refused_everything_when_login_is_required(web_app, settings_env, redis_client, monkeypatch):
    run_collectors_once(settings_mod.load(), redis_client)
    require_auth(web_app, monkeypatch)
    client = web_app.server.test_client()
    for route in ["/api/v1/versions", "/api/health", "/api/v1/regions", *API_ROUTES, "/_dash-layout",
                  "/_dash-dependencies"]:
        assert client.get(route).status_code == 401, route
    for key, spec in server_callbacks(web_app).items():
        resp = client.post("/_dash-update-component", json=payload(web_app, key, callback_values(key, spec, "PC01")))
        assert resp.status_code == 401, key
    page = client.get("/load/PC01?hours=8-20")
    assert page.status_code == 303 and page.headers["Location"] == "/login?next=/load/PC01%3Fhours%3D8-20"


def test_a_forged_id_does_not_hide_a_region(web_app, settings_env, redis_client, monkeypatch):
    """Dash passes values by position: renaming the view store in the request must not smuggle a code."""
    run_collectors_once(settings_mod.load(), redis_client)
    require_auth(web_app, monkeypatch)
    client = signed_in(web_app, "v", "viewer", "PC01")
    key = next(k for k in server_callbacks(web_app) if '"page":"load"' in k)
    body = payload(web_app, key, callback_values(key, web_app.callback_map[key], "PC02"))
    body["state"][0]["id"] = "something-else"
    assert client.post("/_dash-update-component", json=body).status_code == 403
    body["state"][0] = ["not", "a", "dict"]
    assert client.post("/_dash-update-component", json=body).status_code == 400


def test_a_district_page_without_a_code_goes_to_the_scope(web_app, settings_env, redis_client, monkeypatch):
    run_collectors_once(settings_mod.load(), redis_client)
    require_auth(web_app, monkeypatch)
    client = signed_in(web_app, "v", "viewer", "PC01")
    assert client.get("/load?hours=8-20").headers["Location"] == "/load/PC01?hours=8-20"
    assert client.get("/region/PC02").status_code == 403
    assert client.get("/region/PC01S01").status_code == 200
