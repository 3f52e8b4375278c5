"""The overview's warning tiles: the city and each district, level in words and colour class,
reasons one click away, and a refresh that sends the tiles only when the warnings changed."""
from __future__ import annotations

import json

import pytest

from collectors.plugins import REGISTRY
from dashboard import ids
from tests.dash_payloads import payload
from tests.kpi_harness import Harness
from tests.test_warnings_collector import START, walk


@pytest.fixture
def app(web_app, settings_env, source_url, redis_client):
    walk(Harness(redis_client, REGISTRY, START), source_url, range(4))     # PC01 and the city go red
    return web_app


def refresh(app, versions, rendered):
    body = payload(app, ids.OV_WARNINGS, {f"{ids.VERSIONS}.data": versions, f"{ids.OV_REGION}.data": "PC",
                                          f"{ids.OV_WARN_RENDERED}.data": rendered, f"{ids.LANG}.data": "zh"})
    return app.server.test_client().post("/_dash-update-component", json=body)


def test_tiles_for_the_city_and_each_district(app):
    from dashboard.pages.overview import view
    with app.server.test_request_context("/"):
        tree = str(view("PC"))
    assert [tree.count(f"'pw-tile pw-warn pw-warn-{level} h-100'") for level in (0, 3)] == [1, 2]  # PC02; PC, PC01
    assert "红色预警" in tree and "无预警" in tree                           # the level in words
    assert "预警原因（1）" in tree and "高温：temp_max_c 40°C ≥ 40°C" in tree  # reasons behind <details>


def test_refresh_sends_tiles_only_when_warnings_changed(app, redis_client):
    versions = {k: int(v) for k, v in redis_client.hgetall("pw:versions").items()}
    rendered = {"warnings": versions["warnings"], "topology": versions["topology"]}
    assert refresh(app, versions, rendered).status_code == 204               # nothing new: nothing sent
    resp = refresh(app, versions, {**rendered, "warnings": versions["warnings"] - 1})
    assert resp.status_code == 200
    sent = resp.get_json()["response"]
    assert sent[ids.OV_WARN_RENDERED]["data"] == rendered
    assert "红色预警" in json.dumps(sent[ids.OV_WARNINGS]["children"], ensure_ascii=False)
