"""Ops page refresh: collector health has no dataset version, so it follows every version move
(each collector cycle that published something) and stays quiet otherwise."""
from __future__ import annotations

from dash import Input, Output, State, callback
from dash.exceptions import PreventUpdate

from dashboard import ids, runtime
from dashboard.callbacks.patches import bars_patch
from dashboard.pages.ops import PAGE, parts, sees_values, snapshot
from dashboard.store import RedisUnavailable


@callback(
    Output(ids.grid(PAGE, "collectors"), "rowData"), Output(ids.grid(PAGE, "processes"), "rowData"),
    Output(ids.part(PAGE, "reject_chart"), "figure"), Output(ids.grid(PAGE, "rejects"), "rowData"),
    Input(ids.VERSIONS, "data"), State(ids.VIEW, "data"),
    prevent_initial_call=True,
)
def refresh(versions, view):
    if not isinstance(view, dict) or view.get("page") != PAGE or view.get("lang") not in ("zh", "en"):
        raise PreventUpdate
    try:
        collectors, processes, counts, rejects = parts(snapshot(runtime.store()), view["lang"],
                                                       sees_values(runtime.principal()))
    except RedisUnavailable:
        raise PreventUpdate  # the banner says so; the last good values stay on screen
    return collectors, processes, bars_patch(counts, "count"), rejects
