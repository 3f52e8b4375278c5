"""Outages page refresh: runs only when outages, the audit, frequent outages or topology moved."""
from __future__ import annotations

from dash import Output, no_update

from dashboard import audit_view, ids
from dashboard.callbacks.patches import bars_patch
from dashboard.callbacks.refresh import page_refresh
from dashboard.pages.outages import DATASETS, KPIS, PAGE, active_rows, node_rows


@page_refresh(PAGE, DATASETS,
              *[Output(ids.part(PAGE, key), "children") for key, _ in KPIS],
              Output(ids.grid(PAGE, "active"), "rowData"),
              Output(ids.drill(PAGE, "children"), "figure"), Output(ids.grid(PAGE, "children"), "rowData"),
              Output(ids.part(PAGE, "audit"), "children"), Output(ids.grid(PAGE, "findings"), "rowData"),
              Output(ids.grid(PAGE, "frequent"), "rowData"))
def draw(moved, view):
    out = [no_update] * (len(KPIS) + 6)
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
    return out
