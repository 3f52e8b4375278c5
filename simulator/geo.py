"""Simple offline polygons for the maps: districts (and cities) as Voronoi cells of their
centroids, clipped to a jittered city outline. Deterministic from (scale, seed); no network.

    from simulator.geo import district_geojson, city_geojson
    fc = district_geojson("demo", 20260715)     # GeoJSON FeatureCollection (dict)
    # feature.properties: code, name, level, parent_code, area_type, customers; WGS84 lon/lat

`python -m simulator.geo --scale demo --seed 20260715 --out assets/geo/districts-demo-20260715.geojson`
writes one to a file.
"""
from __future__ import annotations

import argparse
import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from .rng import rng
from .scales import get_scale
from .topology import PROVINCE_SPACING, Topology, build


def _clip(poly: list[tuple[float, float]], a: np.ndarray, b: np.ndarray) -> list[tuple[float, float]]:
    """Keep the part of a convex polygon closer to site a than to site b (Sutherland-Hodgman)."""
    n = b - a
    c = (np.dot(b, b) - np.dot(a, a)) / 2.0

    def inside(p):
        return p[0] * n[0] + p[1] * n[1] <= c

    out = []
    for i in range(len(poly)):
        p, q = poly[i], poly[(i + 1) % len(poly)]
        ip, iq = inside(p), inside(q)
        if ip:
            out.append(p)
        if ip != iq:
            dp = np.array(q) - np.array(p)
            denom = dp @ n
            if denom != 0:
                t = (c - np.array(p) @ n) / denom
                out.append(tuple(np.array(p) + t * dp))
    return out


def _outline(cx: float, cy: float, radius: float, seed: int, key: int, k: int = 28) -> list:
    r = rng(seed, "geo-outline", key)
    ang = np.linspace(0, 2 * math.pi, k, endpoint=False)
    rad = radius * (1 + 0.08 * np.sin(3 * ang + r.uniform(0, 6)) + r.normal(0, 0.03, k))
    return [(cx + rr * math.cos(t), cy + rr * math.sin(t) * 0.9) for t, rr in zip(ang, rad)]


def _voronoi(sites: np.ndarray, bound: list) -> list[list]:
    """Cells of each site within a convex-ish outline (cells clipped by bisectors)."""
    cells = []
    for i, a in enumerate(sites):
        poly = list(bound)
        for j, b in enumerate(sites):
            if i != j and poly:
                poly = _clip(poly, a, b)
        cells.append(poly)
    return cells


def _ring(poly: list) -> list[list[float]]:
    pts = [[round(float(x), 5), round(float(y), 5)] for x, y in poly]
    # GeoJSON exterior rings are counter-clockwise and closed
    area = sum(pts[i][0] * pts[(i + 1) % len(pts)][1] - pts[(i + 1) % len(pts)][0] * pts[i][1]
               for i in range(len(pts)))
    if area < 0:
        pts.reverse()
    return pts + [pts[0]]


def _cities_cells(topo: Topology, seed: int) -> list[list]:
    c = topo.cities
    if len(c) == 1:
        return [_outline(c.lon[0], c.lat[0], 0.55, seed, 0)]
    sites = c[["lon", "lat"]].to_numpy()
    pad = PROVINCE_SPACING * 0.6
    x0, y0 = sites.min(0) - pad
    x1, y1 = sites.max(0) + pad
    bound = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    return _voronoi(sites, bound)


def _feature(row, poly, level) -> dict:
    return {"type": "Feature", "id": row["code"],
            "properties": {"code": row["code"], "name": row["name"], "level": level,
                           "parent_code": row.get("parent_code"), "area_type": row["area_type"],
                           "customers": int(row["customers"])},
            "geometry": {"type": "Polygon", "coordinates": [_ring(poly)]}}


@lru_cache(maxsize=8)
def _topo(scale: str, seed: int) -> Topology:
    return build(get_scale(scale), seed)


def city_geojson(scale: str = "demo", seed: int = 20260715, topo: Topology | None = None) -> dict:
    topo = topo or _topo(scale, seed)
    cells = _cities_cells(topo, seed)
    feats = [_feature({**row, "parent_code": None}, cell, "city")
             for row, cell in zip(topo.cities.to_dict("records"), cells)]
    return {"type": "FeatureCollection", "features": feats}


def district_geojson(scale: str = "demo", seed: int = 20260715, topo: Topology | None = None,
                     city: str | None = None) -> dict:
    """District polygons (optionally of one city) as a GeoJSON FeatureCollection dict."""
    topo = topo or _topo(scale, seed)
    cells = _cities_cells(topo, seed)
    feats = []
    d = topo.districts
    for ci, crow in enumerate(topo.cities.to_dict("records")):
        if city and crow["code"] != city:
            continue
        sub = d[d["city_idx"] == ci]
        sites = sub[["lon", "lat"]].to_numpy()
        for row, cell in zip(sub.to_dict("records"), _voronoi(sites, cells[ci])):
            if len(cell) >= 3:
                feats.append(_feature(row, cell, "district"))
    return {"type": "FeatureCollection", "features": feats}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m simulator.geo")
    p.add_argument("--scale", default="demo")
    p.add_argument("--seed", type=int, default=20260715)
    p.add_argument("--level", choices=["district", "city"], default="district")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    fc = district_geojson(a.scale, a.seed) if a.level == "district" else city_geojson(a.scale, a.seed)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(fc, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
