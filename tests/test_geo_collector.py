"""District outlines reach Redis through the geo collector, read from a real SQLite source;
a row that is not a GeoJSON polygon, or names an unknown node, is rejected with its reason."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import create_engine, insert

from collectors.base import Context
from collectors.plugins.geo import GeoCollector
from collectors.plugins.topology import TopologyCollector
from collectors.runner import Runner
from collectors.sources.adapter import SourceAdapter
from collectors.sources.schema import grid_area
from config import settings as settings_mod
from config.clock import Clock

SQUARE = {"type": "Polygon", "coordinates": [[[120, 30], [120.1, 30], [120.1, 30.1], [120, 30], [120, 30]]]}


def test_outlines_published_and_bad_rows_rejected(settings_env, source_url, redis_client):
    stamp = datetime(2026, 7, 1)
    with create_engine(source_url).begin() as conn:
        conn.execute(insert(grid_area), [
            {"code": "PC01", "geometry": json.dumps(SQUARE), "updated_at": stamp},
            {"code": "PC02", "geometry": '{"type": "Point", "coordinates": [1, 2]}', "updated_at": stamp},
            {"code": "NOPE", "geometry": json.dumps(SQUARE), "updated_at": stamp}])
    settings = settings_mod.load()
    ctx = Context(SourceAdapter(settings.source_url, 5.0), Clock(), settings)
    for cls in (TopologyCollector, GeoCollector):
        runner = Runner(cls(ctx), redis_client)
        assert runner.run_once(), runner.health["last_error"]

    assert json.loads(redis_client.hget("pw:ds:geo", "PC01")) == SQUARE
    assert redis_client.hkeys("pw:ds:geo") == ["PC01"]
    reasons = {(r["key"], r["rule"]) for r in map(json.loads, redis_client.lrange("pw:rejects", 0, -1))}
    assert {("PC02", "geojson_polygon"), ("NOPE", "known_code")} <= reasons
