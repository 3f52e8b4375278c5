"""Outages page refresh: runs only when outages or topology moved."""
from __future__ import annotations

from dash import Input, Output, State, callback, no_update
from dash.exceptions import PreventUpdate

from dashboard import audit_view, ids, scope
from dashboard.callbacks.patches import bars_patch
from dashboard.pages.outages import DATASETS, KPIS, PAGE, active_rows, node_rows
from dashboard.store import RedisUnavailable


@callback(
    *[Output(ids.part(PAGE, key), "children") for key, _ in KPIS],
    Output(ids.grid(PAGE, "active"), "rowData"),
    Output(ids.drill(PAGE, "children"), "figure"), Output(ids.grid(PAGE, "children"), "rowData"),
    Output(ids.part(PAGE, "audit"), "children"), Output(ids.grid(PAGE, "findings"), "rowData"),
    Output(ids.grid(PAGE, "frequent"), "rowData"),
    Output(ids.rendered(PAGE), "data"),
    Input(ids.VERSIONS, "data"), State(ids.VIEW, "data"), State(ids.rendered(PAGE), "data"),
    prevent_initial_call=True,
)
def refresh(versions, view_data, rendered):
    moved, view = scope.refresh_target(versions, rendered, view_data, DATASETS)
    out = [no_update] * (len(KPIS) + 6)
    try:
        if moved & {"outages", "topology"}:
            o = view.store.entry("outages", view.code)
            rows = node_rows(view.store, view.store.children(view.code))
            out[:len(KPIS) + 1] = [*[fn(o, view.lang) for _, fn in KPIS], active_rows(view)]
            if rows:
                out[len(KPIS) + 1:len(KPIS) + 3] = [bars_patch(rows, "outage_customers"), rows]
        if moved & {"audit", "topology"}:
            out[len(KPIS) + 3] = audit_view.month_kpis(view.store.entry("audit", view.code), view.lang)
            out[len(KPIS) + 4] = audit_view.finding_rows(view)
        if moved & {"frequent_outages", "topology"}:
            out[len(KPIS) + 5] = audit_view.frequent_rows(view)
    except RedisUnavailable:
        raise PreventUpdate  # the banner says so; the last good values stay on screen
    return [*out, scope.rendered(versions, DATASETS)]
