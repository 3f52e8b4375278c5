"""GET /api/v1/warnings, /api/v1/warnings/history and the summary's warning, from Redis."""
from __future__ import annotations

import pytest

from collectors.plugins import REGISTRY
from collectors.plugins.topology import TopologyCollector
from tests.kpi_harness import Harness
from tests.test_warnings_collector import START, walk


@pytest.fixture
def client(web_app, settings_env, source_url, redis_client):
    walk(Harness(redis_client, REGISTRY, START), source_url, range(4))     # PC01 and the city go red
    return web_app.server.test_client()


@pytest.fixture
def tree_only(web_app, settings_env, redis_client):
    Harness(redis_client, [TopologyCollector], START).run()
    return web_app.server.test_client()


def test_warnings_of_a_region_and_below(client):
    body = client.get("/api/v1/warnings?region=PC").get_json()
    by_code = {n["code"]: n for n in body["nodes"]}
    assert set(by_code) == {"PC", "PC01", "PC02", "PC01S01", "PC01S02", "PC02S01"}
    assert by_code["PC01"]["level_name"] == "red" and by_code["PC02"]["level_name"] == "none"
    assert by_code["PC01"]["name"] == "城东区" and by_code["PC01"]["grid_level"] == "district"
    assert by_code["PC"]["reasons"][0]["dimension"] == "temperature"
    district = client.get("/api/v1/warnings?region=PC02").get_json()
    assert [n["code"] for n in district["nodes"]] == ["PC02", "PC02S01"]


def test_history_newest_first(client):
    changes = client.get("/api/v1/warnings/history?region=PC01").get_json()["changes"]
    assert [c["to"] for c in changes if c["code"] == "PC01"] == ["red", "orange"]
    assert client.get("/api/v1/warnings/history?region=PC01&limit=1").get_json()["changes"] == changes[:1]


def test_summary_has_the_warning(client):
    w = client.get("/api/v1/summary?region=PC01").get_json()["warning"]
    assert w["level"] == "red" and w["reasons"][0]["input"] == "temp_max_c"


@pytest.mark.parametrize("path", ["/api/v1/warnings", "/api/v1/warnings/history"])
@pytest.mark.parametrize("query,status", [("NOPE", 404), ("../../etc", 400), ("x" * 5000, 400)])
def test_bad_region_is_a_clear_4xx(tree_only, path, query, status):
    resp = tree_only.get(f"{path}?region={query}")
    assert resp.status_code == status and "error" in resp.get_json()


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "100000"])
def test_bad_history_limit_is_400(tree_only, limit):
    assert tree_only.get(f"/api/v1/warnings/history?region=PC&limit={limit}").status_code == 400
