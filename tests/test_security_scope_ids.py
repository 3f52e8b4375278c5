"""The guard knows every place a request can name a region: each server callback's inputs and
states are classified, each page's stores that hold the node code are region-bearing, and each
registered page path maps to a page and node. A new page or callback that slips past the guard
fails here."""
from __future__ import annotations

import json

import dash
import pytest

from config import settings as settings_mod
from dashboard.security.regions import NOT_REGION, REGION_BEARING, UNSCOPED_PAGES, id_key, page_target
from tests.dash_payloads import find_callback, payload
from tests.security_helpers import raise_warning, require_auth, signed_in
from tests.test_api import run_collectors_once

CODE = "PC01S01"      # a station: its code appears in a page's stores only if the page holds it


def server_callbacks(app) -> dict:
    find_callback(app, "_pages_content")      # the pages callback registers on the first request
    return {k: v for k, v in app.callback_map.items() if "callback" in v and not v.get("clientside_function")}


def test_every_server_callback_input_and_state_is_classified(web_app):
    unknown = set()
    for key, spec in server_callbacks(web_app).items():
        for item in [*spec["inputs"], *spec.get("state", [])]:
            pair = (id_key(item["id"]), item["property"])
            if pair not in REGION_BEARING and pair not in NOT_REGION:
                unknown.add((key[:60], pair))
    assert not unknown, f"classify these in dashboard/security/regions.py: {sorted(unknown)}"


def stores(tree) -> list[dict]:
    """Every dcc.Store in a serialized layout."""
    found = []
    if isinstance(tree, dict):
        if tree.get("type") == "Store" and tree.get("namespace") == "dash_core_components":
            found.append(tree["props"])
        for value in tree.values():
            found += stores(value)
    elif isinstance(tree, list):
        for value in tree:
            found += stores(value)
    return found


def page_paths() -> list[str]:
    return sorted({(p.get("path_template") or p["path"]).replace("<code>", CODE) for p in dash.page_registry.values()})


def test_every_page_path_maps_to_a_page_and_node(web_app):
    find_callback(web_app, "_pages_content")
    for path in page_paths():
        target = page_target(path)
        assert target is not None, path
        assert target.scoped or path in UNSCOPED_PAGES, path
        assert target.code in (CODE, None), path


def test_every_store_holding_the_node_code_is_region_bearing(web_app, settings_env, redis_client, monkeypatch):
    run_collectors_once(settings_mod.load(), redis_client)
    raise_warning(redis_client, CODE)                 # so the acknowledgement form is on its page too
    require_auth(web_app, monkeypatch)
    client = signed_in(web_app, "op", "admin", "*")
    for path in page_paths():
        resp = client.post("/_dash-update-component", json=payload(
            web_app, "_pages_content.children", {"_pages_location.pathname": path, "_pages_location.search": ""}))
        assert resp.status_code == 200 and "X-Peakwatch-Refused" not in resp.headers, path
        for props in stores(resp.get_json()["response"]["_pages_content"]["children"]):
            if CODE in json.dumps(props.get("data")):
                assert (id_key(props["id"]), "data") in REGION_BEARING, (path, props["id"])


@pytest.mark.parametrize("path,page,code", [("/", "overview", None), ("/region/PC01", "overview", "PC01"),
                                            ("/load", "load", None), ("/wall/PC02?kiosk=1", "wall", "PC02"),
                                            ("/warnings/PC01/", "warnings", "PC01")])
def test_page_targets(web_app, path, page, code):
    find_callback(web_app, "_pages_content")
    target = page_target(path)
    assert (target.page, target.code, target.scoped) == (page, code, True)


@pytest.mark.parametrize("path", ["/nope", "/region", "/load/PC01/extra", None, 42])
def test_paths_no_page_serves_name_no_region(web_app, path):
    find_callback(web_app, "_pages_content")
    assert page_target(path) is None
