"""Bad requests to the pages and callbacks get a clear 4xx or an in-page message, never a 500."""
from __future__ import annotations

import json

import pytest

from config import settings as settings_mod
from dashboard import ids
from tests.dash_payloads import payload
from tests.test_api import run_collectors_once


@pytest.fixture
def client(web_app, settings_env, redis_client):
    run_collectors_once(settings_mod.load(), redis_client)
    return web_app.server.test_client()


def route(web_app, client, path: str, search: str = ""):
    return client.post("/_dash-update-component", json=payload(
        web_app, "_pages_content.children", {"_pages_location.pathname": path,
                                             "_pages_location.search": search}))


@pytest.mark.parametrize("path,search", [("/region/" + "A" * 5000, ""), ("/region/%00%ff", ""),
                                         ("/region/PC01", "?x=%zz&&&=="), ("/region/<script>", "")],
                         ids=["oversized", "bytes", "bad-query", "markup"])
def test_odd_page_urls_give_a_message(web_app, client, path, search):
    resp = route(web_app, client, path, search)
    assert resp.status_code == 200
    body = json.dumps(resp.get_json(), ensure_ascii=False)
    assert "Traceback" not in body
    assert ("未知的区域代码" in body) or ("ov-load" in body)


def test_forged_refresh_payloads_get_nothing(web_app, client):
    for forged_region in ({"$gt": ""}, ["PC"], "PC01" * 40, None):
        resp = client.post("/_dash-update-component", json=payload(web_app, f"{ids.OV_LOAD}.children", {
            f"{ids.VERSIONS}.data": {"load": 5}, f"{ids.OV_REGION}.data": forged_region,
            f"{ids.OV_RENDERED}.data": {}, f"{ids.LANG}.data": "zh"}))
        assert resp.status_code == 204, forged_region


def test_oversized_and_malformed_bodies_are_4xx(client):
    big = client.post("/_dash-update-component", data=b"{" + b" " * (2 << 20) + b"}",
                      content_type="application/json")
    assert big.status_code == 413
    broken = client.post("/_dash-update-component", data=b"{not json", content_type="application/json")
    assert 400 <= broken.status_code < 500
