"""Patches for figures: only the data arrays travel; layout, zoom and fonts stay in the browser."""
from __future__ import annotations

from dash import Patch


def traces_patch(ys: list[list]) -> Patch:
    """New y arrays for the first len(ys) traces, in trace order."""
    patch = Patch()
    for i, y in enumerate(ys):
        patch["data"][i]["y"] = y
    return patch


def bars_patch(rows: list[dict], value: str) -> Patch:
    """A node_bars figure's bars: names, values and the codes a click drills into."""
    patch = Patch()
    patch["data"][0]["x"] = [r["name"] for r in rows]
    patch["data"][0]["y"] = [r.get(value) or 0 for r in rows]
    patch["data"][0]["customdata"] = [r["code"] for r in rows]
    return patch
