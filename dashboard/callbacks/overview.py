"""Overview refresh: runs only when a dataset version changed, and sends only the tiles it touches."""
from __future__ import annotations

from dash import ClientsideFunction, Input, Output, Patch, State, callback, clientside_callback, no_update
from dash.exceptions import PreventUpdate

from dashboard import components as c
from dashboard import ids, runtime, scope, warning_tiles
from dashboard.api import valid_code
from dashboard.pages.overview import (CHILD_COLUMNS, DATASETS, WARNING_VERSIONS, children_columns, children_rows,
                                      column, node_data)
from dashboard.store import RedisUnavailable


def curve_patch(load: dict | None) -> Patch:
    """Only the curves' y values travel; the figure's layout stays in the browser."""
    patch = Patch()
    for i, key in enumerate(("today", "yesterday", "last_year")):
        patch["data"][i]["y"] = (load or {}).get(f"curve_{key}") or [None] * 96
    return patch


def orders_patch(orders: dict | None) -> Patch:
    patch = Patch()
    patch["data"][0]["y"] = (orders or {}).get("hourly") or [0] * 24
    patch["data"][1]["y"] = (orders or {}).get("baseline_hourly") or [0] * 24
    return patch


def children_patch(kids: list[dict], changed: set[str]):
    """The whole table when the children themselves may have changed, else the moved columns."""
    if "topology" in changed:
        return children_columns(kids)
    moved = [ds for ds in CHILD_COLUMNS if ds in changed]
    if not moved:
        return no_update
    patch = Patch()
    for ds in moved:
        patch[ds] = column(kids, ds)
    return patch


@callback(
    Output(ids.OV_LOAD, "children"), Output(ids.OV_CURVE, "figure"),
    Output(ids.OV_ORDERS, "children"), Output(ids.OV_ORDERS_CHART, "figure"),
    Output(ids.OV_OPEN, "children"), Output(ids.OV_OUTAGES, "children"),
    Output(ids.OV_CHILDREN_DATA, "data"), Output(ids.OV_RENDERED, "data"),
    Input(ids.VERSIONS, "data"),
    State(ids.OV_REGION, "data"), State(ids.OV_RENDERED, "data"), State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def refresh(versions, code, rendered, lang):
    if not versions or not valid_code(code) or not isinstance(versions, dict):
        raise PreventUpdate   # a forged or half-loaded request gets nothing
    changed = scope.changed(versions, rendered, DATASETS)
    if not changed:
        raise PreventUpdate
    store = runtime.store()
    try:
        data = node_data(store, code)
        kids = children_rows(store, code)
    except RedisUnavailable:
        raise PreventUpdate  # the banner says so; the last good values stay on screen
    out = [no_update] * 8
    if "load" in changed:
        out[0], out[1] = c.load_body(data["load"], lang), curve_patch(data["load"])
    if "orders" in changed:
        out[2], out[3] = c.orders_body(data["orders"], lang), orders_patch(data["orders"])
        out[4] = c.open_body(data["orders"], lang)
    if "outages" in changed:
        out[5] = c.outages_body(data["outages"], lang)
    out[6] = children_patch(kids, changed) if kids else no_update
    out[7] = scope.rendered(versions, DATASETS)
    return out


clientside_callback(
    ClientsideFunction("peakwatch", "childrenTable"),
    Output(ids.OV_CHILDREN, "children"),
    Input(ids.OV_CHILDREN_DATA, "data"), State(ids.I18N, "data"),
)


@callback(
    Output(ids.OV_WARNINGS, "children"), Output(ids.OV_WARN_RENDERED, "data"),
    Input(ids.VERSIONS, "data"),
    State(ids.OV_REGION, "data"), State(ids.OV_WARN_RENDERED, "data"), State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def refresh_warnings(versions, code, rendered, lang):
    """The warning tiles, re-rendered only when a warnings evaluation (or the tree) was published."""
    wanted = {k: (versions or {}).get(k) for k in WARNING_VERSIONS}
    if not versions or not valid_code(code) or wanted == rendered:
        raise PreventUpdate
    try:
        return warning_tiles.row(runtime.store(), code, lang), wanted
    except RedisUnavailable:
        raise PreventUpdate  # the banner says so; the last tiles stay on screen
