"""Warnings page refresh: runs only when a warnings evaluation, the outlines or the tree moved."""
from __future__ import annotations

from dash import Output, Patch

from dashboard import geomap, ids
from dashboard.callbacks.refresh import page_refresh
from dashboard.pages.warnings import DATASETS, PAGE, history_rows, map_data, node_card, node_rows


@page_refresh(PAGE, DATASETS,
              Output(ids.part(PAGE, "node"), "children"), Output(ids.drill(PAGE, "map"), "figure"),
              Output(ids.grid(PAGE, "nodes"), "rowData"), Output(ids.grid(PAGE, "history"), "rowData"))
def draw(moved, view):
    view.node = view.store.node(view.code) or {}
    items, lv = map_data(view)
    if moved & {"geo", "topology"}:
        the_map = geomap.figure(items, lv, view.lang, view.theme, height=520,   # new outlines: redraw
                                outline=view.store.entry("geo", view.code))
    else:
        the_map = Patch()
        geomap.recolour(the_map, items, lv, view.lang)
    card = node_card(view, view.store.entry("warnings", view.code))
    return card, the_map, node_rows(view), history_rows(view)
