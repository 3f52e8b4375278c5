"""Outages page refresh: runs only when outages or topology moved."""
from __future__ import annotations

from dash import Input, Output, State, callback, no_update
from dash.exceptions import PreventUpdate

from dashboard import ids, scope
from dashboard.callbacks.patches import bars_patch
from dashboard.pages.outages import DATASETS, KPIS, PAGE, active_rows, node_rows
from dashboard.store import RedisUnavailable


@callback(
    *[Output(ids.part(PAGE, key), "children") for key, _ in KPIS],
    Output(ids.grid(PAGE, "active"), "rowData"),
    Output(ids.drill(PAGE, "children"), "figure"), Output(ids.grid(PAGE, "children"), "rowData"),
    Output(ids.rendered(PAGE), "data"),
    Input(ids.VERSIONS, "data"), State(ids.VIEW, "data"), State(ids.rendered(PAGE), "data"),
    prevent_initial_call=True,
)
def refresh(versions, view_data, rendered):
    if not scope.changed(versions, rendered, DATASETS) or not scope.valid_view(view_data):
        raise PreventUpdate
    view = scope.restore(view_data)
    try:
        o = view.store.entry("outages", view.code)
        rows = node_rows(view.store, view.store.children(view.code))
        active = active_rows(view)
    except RedisUnavailable:
        raise PreventUpdate  # the banner says so; the last good values stay on screen
    kpis = [fn(o, view.lang) for _, fn in KPIS]
    below = [bars_patch(rows, "outage_customers"), rows] if rows else [no_update, no_update]
    return [*kpis, active, *below, versions]
