"""The JSON API answers from Redis with the documented fields, and bad requests get clear 4xx."""
from __future__ import annotations

import pytest

from collectors.base import Context
from collectors.plugins import REGISTRY
from collectors.runner import Runner
from collectors.sources.adapter import SourceAdapter
from config import settings as settings_mod
from config.clock import Clock

SUMMARY_FIELDS = {"as_of", "load_mw", "load_rate", "repair_orders_today", "repair_orders_last_hour",
                  "open_repair_orders", "outages_active", "outage_customers", "outage_transformer_areas",
                  "stale"}


def run_collectors_once(settings, client) -> list[Runner]:
    ctx = Context(SourceAdapter(settings.source_url, 5.0), Clock(), settings)
    runners = [Runner(cls(ctx), client) for cls in REGISTRY]
    for r in runners:
        assert r.run_once(), (r.collector.name, r.health["last_error"])
    return runners


@pytest.fixture
def client(web_app, settings_env, redis_client):
    run_collectors_once(settings_mod.load(), redis_client)
    return web_app.server.test_client()


def test_summary_has_every_field(client):
    resp = client.get("/api/v1/summary")
    assert resp.status_code == 200
    body = resp.get_json()
    assert SUMMARY_FIELDS <= set(body)
    assert body["region"] == "PC"


def test_summary_of_a_district(client):
    body = client.get("/api/v1/summary?region=PC01").get_json()
    assert body["region"] == "PC01" and body["outages_active"] == 0


@pytest.mark.parametrize("query,status", [("NOPE", 404), ("../../etc", 400), ("x" * 5000, 400), ("%00", 400)])
def test_bad_region_is_a_clear_4xx(client, query, status):
    resp = client.get(f"/api/v1/summary?region={query}")
    assert resp.status_code == status
    assert "error" in resp.get_json()


def test_regions_is_the_tree(client):
    regions = client.get("/api/v1/regions").get_json()
    by_code = {r["code"]: r for r in regions}
    assert by_code["PC"]["level"] == "city" and by_code["PC"]["parent_code"] is None
    assert by_code["PC01S01F001T001"]["parent_code"] == "PC01S01F001"
    assert len(regions) == 1 + 2 + 3 + 6 + 18


def test_health_reports_every_collector(client):
    body = client.get("/api/health").get_json()
    assert body["redis"]["ok"] is True
    assert {"topology", "orders", "outages", "scada", "ami", "weather"} <= set(body["collectors"])
    for h in body["collectors"].values():
        assert {"last_success", "age_s", "duration_s", "rows_in", "rows_rejected", "last_error"} <= set(h)


def test_versions_tick_is_small(client):
    resp = client.get("/api/v1/versions")
    assert resp.status_code == 200
    assert resp.get_json()["v"]["orders"] >= 1
