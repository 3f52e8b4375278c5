"""Load page refresh: runs only when load, AMI or topology moved, and sends only what they touch."""
from __future__ import annotations

from dash import Input, Output, State, callback, no_update
from dash.exceptions import PreventUpdate

from dashboard import figures, ids, scope
from dashboard.callbacks.patches import bars_patch, traces_patch
from dashboard.pages.load import DATASETS, PAGE, kpi_parts, node_rows
from dashboard.store import RedisUnavailable


@callback(
    Output(ids.part(PAGE, "load"), "children"), Output(ids.part(PAGE, "feeder_load_flags"), "children"),
    Output(ids.part(PAGE, "tarea_load_flags"), "children"), Output(ids.timechart(PAGE, "curve"), "figure"),
    Output(ids.drill(PAGE, "children"), "figure"),
    Output(ids.grid(PAGE, "children"), "rowData"),
    Output(ids.rendered(PAGE), "data"),
    Input(ids.VERSIONS, "data"), State(ids.VIEW, "data"), State(ids.rendered(PAGE), "data"),
    prevent_initial_call=True,
)
def refresh(versions, view_data, rendered):
    moved, view = scope.refresh_target(versions, rendered, view_data, DATASETS)
    try:
        load, ami = view.store.entry("load", view.code), view.store.entry("ami", view.code)
        rows = node_rows(view.store, view.store.children(view.code))
    except RedisUnavailable:
        raise PreventUpdate  # the banner says so; the last good values stay on screen
    kpis = kpi_parts(load, ami, view.lang)
    out = [no_update] * 7
    if "load" in moved:
        out[0], out[1] = kpis[0], kpis[1]
        out[3] = traces_patch(figures.load_patch_values(load))
    if "ami" in moved:
        out[2] = kpis[2]
    if rows:
        out[4], out[5] = bars_patch(rows, "load_mw"), rows
    out[6] = scope.rendered(versions, DATASETS)
    return out
