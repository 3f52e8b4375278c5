"""Sensitive orders page refresh: runs only when the sensitive dataset or the tree moved."""
from __future__ import annotations

from dash import Output, no_update

from dashboard import ids
from dashboard.callbacks.patches import bars_patch
from dashboard.callbacks.refresh import page_refresh
from dashboard.pages.sensitive import DATASETS, PAGE, count_kpis, node_rows, order_rows, reason_counts


@page_refresh(PAGE, DATASETS,
              Output(ids.part(PAGE, "counts"), "children"), Output(ids.part(PAGE, "reasons"), "figure"),
              Output(ids.grid(PAGE, "orders"), "rowData"),
              Output(ids.drill(PAGE, "children"), "figure"), Output(ids.grid(PAGE, "children"), "rowData"))
def draw(moved, view):
    s = view.store.entry("sensitive", view.code)
    rows = node_rows(view.store, view.store.children(view.code))
    orders = order_rows(view)
    below = [bars_patch(rows, "sensitive"), rows] if rows else [no_update, no_update]
    return [count_kpis(s, view.lang), bars_patch(reason_counts(s, view.lang), "count"), orders, *below]
