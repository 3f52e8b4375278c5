"""Repairs page refresh: runs only when orders, countdowns or topology moved."""
from __future__ import annotations

from dash import Output, Patch, no_update

from dashboard import figures, ids
from dashboard.callbacks.patches import bars_patch, traces_patch
from dashboard.callbacks.refresh import page_refresh
from dashboard.pages.repairs import (DATASETS, PAGE, STEPS, countdown_rows, node_rows, open_kpis,
                                     volume_kpis)


def backlog_patch(counts: dict) -> Patch:
    patch = Patch()
    patch["data"][0]["x"] = [counts.get(s, 0) for s in STEPS]
    return patch


@page_refresh(PAGE, DATASETS,
              Output(ids.part(PAGE, "volume"), "children"), Output(ids.part(PAGE, "open"), "children"),
              Output(ids.part(PAGE, "backlog"), "figure"), Output(ids.timechart(PAGE, "hourly"), "figure"),
              Output(ids.grid(PAGE, "countdowns"), "rowData"),
              Output(ids.drill(PAGE, "children"), "figure"), Output(ids.grid(PAGE, "children"), "rowData"))
def draw(moved, view):
    out = [no_update] * 7
    if moved & {"orders", "topology"}:
        orders = view.store.entry("orders", view.code) or {}
        rows = node_rows(view.store, view.store.children(view.code))
        out[:4] = [volume_kpis(orders, view.lang), open_kpis(orders, view.lang),
                   backlog_patch(orders.get("backlog", {})), traces_patch(figures.hourly_patch_values(orders))]
        if rows:
            out[5], out[6] = bars_patch(rows, "repair_today"), rows
    if moved & {"countdowns", "topology"}:
        out[4] = countdown_rows(view)
    return out
