"""Sensitive orders page refresh: runs only when the sensitive dataset or the tree moved."""
from __future__ import annotations

from dash import Input, Output, State, callback, no_update
from dash.exceptions import PreventUpdate

from dashboard import ids, scope
from dashboard.callbacks.patches import bars_patch
from dashboard.pages.sensitive import DATASETS, PAGE, count_kpis, node_rows, order_rows, reason_counts
from dashboard.store import RedisUnavailable


@callback(
    Output(ids.part(PAGE, "counts"), "children"), Output(ids.part(PAGE, "reasons"), "figure"),
    Output(ids.grid(PAGE, "orders"), "rowData"),
    Output(ids.drill(PAGE, "children"), "figure"), Output(ids.grid(PAGE, "children"), "rowData"),
    Output(ids.rendered(PAGE), "data"),
    Input(ids.VERSIONS, "data"), State(ids.VIEW, "data"), State(ids.rendered(PAGE), "data"),
    prevent_initial_call=True,
)
def refresh(versions, view_data, rendered):
    moved, view = scope.refresh_target(versions, rendered, view_data, DATASETS)
    try:
        s = view.store.entry("sensitive", view.code)
        rows = node_rows(view.store, view.store.children(view.code))
        orders = order_rows(view)
    except RedisUnavailable:
        raise PreventUpdate  # the banner says so; the last good values stay on screen
    below = [bars_patch(rows, "sensitive"), rows] if rows else [no_update, no_update]
    return [count_kpis(s, view.lang), bars_patch(reason_counts(s, view.lang), "count"), orders, *below,
            scope.rendered(versions, DATASETS)]
