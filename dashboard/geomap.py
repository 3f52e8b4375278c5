"""The map of a node's children, coloured by warning level: outlines from the `geo` dataset
(GeoJSON the collectors publish; no tile server), a marker at the centroid where a node has no
outline. Every area and marker carries its node code, so a click drills into it. The level's
name is written on the map next to each colour."""
from __future__ import annotations

import math

import plotly.graph_objects as go
from dash import html

from dashboard.figures import base
from dashboard.i18n import t
from dashboard.theme import DARK, LEVEL_LABELS, level_colour

FILL_ALPHA = "b3"        # 70 % opaque fills: the outlines stay visible
TILE_HALF = 0.46         # tiles of the tile map: unit spacing, a small gap between them
CLICK_PX = 40            # the click target at a tile's centre


def areas(store, codes: list[str]) -> list[dict]:
    """Name, label point and outline (or None) of some nodes, from Redis. The label sits at the
    outline's centroid; a node without an outline is placed at its own lon/lat."""
    nodes = store.entries("topology", codes)
    shapes = store.entries("geo", codes)
    out = []
    for c, n, g in zip(codes, nodes, shapes):
        lon, lat = centroid(g) if g else ((n or {}).get("lon"), (n or {}).get("lat"))
        out.append({"code": c, "name": n["name"] if n else c, "lon": lon, "lat": lat, "geometry": g})
    return out


def centroid(geometry: dict) -> tuple[float, float]:
    """Area centroid of the largest exterior ring (shoelace formula)."""
    best = (0.0, 0.0, 0.0)
    for ring in rings(geometry):
        a = cx = cy = 0.0
        for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
            cross = x0 * y1 - x1 * y0
            a, cx, cy = a + cross, cx + (x0 + x1) * cross, cy + (y0 + y1) * cross
        if abs(a) > abs(best[0]):
            best = (a, cx, cy)
    a, cx, cy = best
    return (cx / (3 * a), cy / (3 * a)) if a else tuple(rings(geometry)[0][0])


def levels(store, codes: list[str]) -> dict[str, int | None]:
    return {c: (w or {}).get("level") for c, w in zip(codes, store.entries("warnings", codes))}


def level_text(level, lang: str) -> str:
    return t(LEVEL_LABELS[level], lang) if level in LEVEL_LABELS else t("level_unknown", lang)


def rings(geometry: dict) -> list[list]:
    """Exterior rings of a Polygon or MultiPolygon."""
    polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [p[0] for p in polys if p]


def _outline_xy(geometry: dict) -> tuple[list, list]:
    xs, ys = [], []
    for ring in rings(geometry):   # None between rings: one trace draws them all
        xs += [p[0] for p in ring] + [None]
        ys += [p[1] for p in ring] + [None]
    return xs, ys


def _label(area: dict, level, lang: str) -> str:
    return f'<b>{area["name"]}</b><br>{level_text(level, lang)}'


def svg_path(geometry: dict) -> str:
    return " ".join("M " + " L ".join(f"{x},{y}" for x, y in ring) + " Z" for ring in rings(geometry))


def tiles(items: list[dict]) -> list[dict]:
    """Nodes without outlines (stations, feeders) as a grid of tiles: their centroids crowd
    together and their names would overlap; a tile map keeps every name readable."""
    cols = math.ceil(math.sqrt(len(items))) or 1
    return [{**a, "lon": i % cols, "lat": -(i // cols)} for i, a in enumerate(items)]


def figure(items: list[dict], lv: dict, lang: str, theme: str, height: int | None = 520, font_size: int = 16,
           outline: dict | None = None) -> go.Figure:
    """Outlined children as areas (outline: their parent's, drawn around them); children without
    outlines as a tile map."""
    if not any(a["geometry"] for a in items):
        return tile_figure(tiles(items), lv, lang, theme, height, font_size)
    fig = base(theme, "", height)
    line = "#f1f3f5" if theme == DARK else "#495057"
    if outline:
        fig.add_shape(type="path", path=svg_path(outline), line=dict(color=line, width=3, dash="dot"), layer="below")
    for a in items:
        if not a["geometry"]:
            continue
        xs, ys = _outline_xy(a["geometry"])
        fig.add_scatter(x=xs, y=ys, fill="toself", mode="lines", fillcolor=level_colour(lv.get(a["code"])) + FILL_ALPHA,
                        line=dict(color=line, width=2), customdata=[a["code"]] * len(xs), hoveron="fills",
                        name=a["name"], hoverinfo="name")
    placed = [a for a in items if a["lon"] is not None]
    fig.add_scatter(
        x=[a["lon"] for a in placed], y=[a["lat"] for a in placed], mode="markers+text",
        text=[_label(a, lv.get(a["code"]), lang) for a in placed], customdata=[a["code"] for a in placed],
        textfont=dict(color="#ffffff" if theme == DARK else "#212529"),
        marker=dict(size=[0 if a["geometry"] else 22 for a in placed],
                    line=dict(width=[0 if a["geometry"] else 2 for a in placed], color=line),
                    color=[level_colour(lv.get(a["code"])) for a in placed]),
        textposition="middle center", hoverinfo="text", name="")
    mid_lat = sum(a["lat"] for a in placed) / len(placed) if placed else 30.0
    fig.update_layout(showlegend=False, margin=dict(l=4, r=4, t=4, b=4), dragmode=False, font=dict(size=font_size))
    fig.update_xaxes(visible=False, fixedrange=True)
    # degrees of longitude shrink with latitude: keep the map's proportions true
    fig.update_yaxes(visible=False, fixedrange=True, scaleanchor="x",
                     scaleratio=1 / math.cos(math.radians(mid_lat)))
    return fig


def tile_figure(items: list[dict], lv: dict, lang: str, theme: str, height, font_size: int) -> go.Figure:
    """Tiles are shapes in data units, so they grow with the screen like the type on them."""
    fig = base(theme, "", height)
    for a in items:
        fig.add_shape(type="rect", x0=a["lon"] - TILE_HALF, x1=a["lon"] + TILE_HALF, y0=a["lat"] - TILE_HALF,
                      y1=a["lat"] + TILE_HALF, fillcolor=level_colour(lv.get(a["code"])), opacity=0.85,
                      line=dict(width=0), layer="below")
    fig.add_scatter(x=[a["lon"] for a in items], y=[a["lat"] for a in items], mode="markers+text",
                    text=[_label(a, lv.get(a["code"]), lang) for a in items], customdata=[a["code"] for a in items],
                    marker=dict(size=CLICK_PX, opacity=0), textposition="middle center", hoverinfo="text", name="",
                    textfont=dict(color="#ffffff" if theme == DARK else "#212529"))
    fig.update_layout(showlegend=False, margin=dict(l=4, r=4, t=4, b=4), dragmode=False, font=dict(size=font_size))
    cols = max((a["lon"] for a in items), default=0)
    rows = min((a["lat"] for a in items), default=0)
    fig.update_xaxes(visible=False, fixedrange=True, range=[-0.5, cols + 0.5])
    fig.update_yaxes(visible=False, fixedrange=True, range=[rows - 0.5, 0.5])
    return fig


def recolour(fig_patch, items: list[dict], lv: dict, lang: str) -> None:
    """Fill colours and labels for new levels, into a Patch of a figure() figure."""
    drawn = [a for a in items if a["geometry"]]
    if not drawn:                                   # the tile map
        for i, a in enumerate(items):
            fig_patch["layout"]["shapes"][i]["fillcolor"] = level_colour(lv.get(a["code"]))
        fig_patch["data"][0]["text"] = [_label(a, lv.get(a["code"]), lang) for a in items]
        return
    for i, a in enumerate(drawn):
        fig_patch["data"][i]["fillcolor"] = level_colour(lv.get(a["code"])) + FILL_ALPHA
    placed = [a for a in items if a["lon"] is not None]
    fig_patch["data"][len(drawn)]["text"] = [_label(a, lv.get(a["code"]), lang) for a in placed]
    fig_patch["data"][len(drawn)]["marker"]["color"] = [level_colour(lv.get(a["code"])) for a in placed]


def legend(lang: str):
    """The four levels, each colour with its name (the map's key)."""
    return html.Div([html.Span(t(LEVEL_LABELS[lv], lang), className=f"pw-level pw-level-{lv}") for lv in LEVEL_LABELS],
                    className="pw-map-legend")
