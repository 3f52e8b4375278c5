"""Key customers page refresh: runs only when key-customer status or the tree moved."""
from __future__ import annotations

from dash import Output

from dashboard import ids
from dashboard.callbacks.refresh import page_refresh
from dashboard.pages.keycustomers import DATASETS, PAGE, customers, notice_kpis, notice_rows, status_kpis


@page_refresh(PAGE, DATASETS,
              Output(ids.part(PAGE, "status"), "children"), Output(ids.part(PAGE, "notices"), "children"),
              Output(ids.grid(PAGE, "customers"), "rowData"), Output(ids.grid(PAGE, "notices"), "rowData"))
def draw(moved, view):
    k = view.store.entry("keycustomers", view.code)
    rows = customers(view)
    return status_kpis(k, view.lang), notice_kpis(k, view.lang), rows, notice_rows(rows, view.lang)
