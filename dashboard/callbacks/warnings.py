"""Warnings page refresh: runs only when a warnings evaluation, the outlines or the tree moved."""
from __future__ import annotations

from dash import Input, Output, Patch, State, callback
from dash.exceptions import PreventUpdate

from dashboard import geomap, ids, scope
from dashboard.pages.warnings import (DATASETS, PAGE, history_rows, map_data, node_card, node_rows)
from dashboard.store import RedisUnavailable


@callback(
    Output(ids.part(PAGE, "node"), "children"), Output(ids.drill(PAGE, "map"), "figure"),
    Output(ids.grid(PAGE, "nodes"), "rowData"), Output(ids.grid(PAGE, "history"), "rowData"),
    Output(ids.rendered(PAGE), "data"),
    Input(ids.VERSIONS, "data"), State(ids.VIEW, "data"), State(ids.rendered(PAGE), "data"),
    prevent_initial_call=True,
)
def refresh(versions, view_data, rendered):
    moved, view = scope.refresh_target(versions, rendered, view_data, DATASETS)
    try:
        view.node = view.store.node(view.code) or {}
        items, lv = map_data(view)
        if moved & {"geo", "topology"}:
            the_map = geomap.figure(items, lv, view.lang, view.theme, height=520,   # new outlines: redraw
                                    outline=view.store.entry("geo", view.code))
        else:
            the_map = Patch()
            geomap.recolour(the_map, items, lv, view.lang)
        card = node_card(view, view.store.entry("warnings", view.code))
        return card, the_map, node_rows(view), history_rows(view), scope.rendered(versions, DATASETS)
    except RedisUnavailable:
        raise PreventUpdate  # the banner says so; the last good values stay on screen
