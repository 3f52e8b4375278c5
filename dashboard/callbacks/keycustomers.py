"""Key customers page refresh: runs only when key-customer status or the tree moved."""
from __future__ import annotations

from dash import Input, Output, State, callback
from dash.exceptions import PreventUpdate

from dashboard import ids, scope
from dashboard.pages.keycustomers import DATASETS, PAGE, customers, notice_kpis, notice_rows, status_kpis
from dashboard.store import RedisUnavailable


@callback(
    Output(ids.part(PAGE, "status"), "children"), Output(ids.part(PAGE, "notices"), "children"),
    Output(ids.grid(PAGE, "customers"), "rowData"), Output(ids.grid(PAGE, "notices"), "rowData"),
    Output(ids.rendered(PAGE), "data"),
    Input(ids.VERSIONS, "data"), State(ids.VIEW, "data"), State(ids.rendered(PAGE), "data"),
    prevent_initial_call=True,
)
def refresh(versions, view_data, rendered):
    moved, view = scope.refresh_target(versions, rendered, view_data, DATASETS)
    try:
        k = view.store.entry("keycustomers", view.code)
        rows = customers(view)
    except RedisUnavailable:
        raise PreventUpdate  # the banner says so; the last good values stay on screen
    lang = view.lang
    return (status_kpis(k, lang), notice_kpis(k, lang), rows, notice_rows(rows, lang),
            scope.rendered(versions, DATASETS))
