"""营销 / GIS district outlines for the maps: the `geo` dataset, one GeoJSON geometry per node.

The web tier reads maps from Redis like everything else (no file, no tile server). Read whole:
a few rows that change when the grid is re-planned.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd

from collectors.base import Collector
from collectors.domain import validation as v
from collectors.publish import Dataset
from collectors.sources.schema import grid_area

SOURCE = "营销"
SHAPES = ("Polygon", "MultiPolygon")
MAX_GEOMETRY_CHARS = 2_000_000     # a district outline is kilobytes; anything near this is garbage


def _not_a_shape(df: pd.DataFrame) -> pd.Series:
    """True where the text is not a GeoJSON Polygon or MultiPolygon with coordinates."""
    def broken(raw) -> bool:
        try:
            shape = json.loads(raw)
        except (TypeError, ValueError):
            return True
        return not isinstance(shape, dict) or shape.get("type") not in SHAPES or not shape.get("coordinates")
    return df["geometry"].map(broken)


class GeoCollector(Collector):
    name = "geo"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.areas = pd.DataFrame(columns=["code", "geometry"])

    def collect(self) -> dict[str, pd.DataFrame]:
        return {"grid_area": self.ctx.source.read_table(grid_area)}

    def absorb(self, batches, now: datetime) -> list[dict]:
        rules = [*v.required("code", "geometry", "updated_at"), v.text("code", 32),
                 v.known_code("code", self.tree.nodes.index), v.text("geometry", MAX_GEOMETRY_CHARS),
                 v.Rule("geometry", "geojson_polygon", _not_a_shape),
                 v.timestamp("updated_at", now + timedelta(minutes=5))]
        self.areas, rejects = v.apply_rules(batches["grid_area"], rules, source=SOURCE, table="grid_area",
                                            key=["code"])
        return rejects

    def datasets(self, now: datetime) -> list[Dataset]:
        entries = {row.code: json.loads(row.geometry) for row in self.areas.itertuples(index=False)}
        return [Dataset("geo", now, entries)]
