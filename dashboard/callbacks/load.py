"""Load page refresh: runs only when load, AMI or topology moved, and sends only what they touch."""
from __future__ import annotations

from dash import Output, no_update

from dashboard import figures, ids
from dashboard.callbacks.patches import bars_patch, traces_patch
from dashboard.callbacks.refresh import page_refresh
from dashboard.pages.load import DATASETS, PAGE, kpi_parts, node_rows


@page_refresh(PAGE, DATASETS,
              Output(ids.part(PAGE, "load"), "children"), Output(ids.part(PAGE, "feeder_load_flags"), "children"),
              Output(ids.part(PAGE, "tarea_load_flags"), "children"), Output(ids.timechart(PAGE, "curve"), "figure"),
              Output(ids.drill(PAGE, "children"), "figure"), Output(ids.grid(PAGE, "children"), "rowData"))
def draw(moved, view):
    load, ami = view.store.entry("load", view.code), view.store.entry("ami", view.code)
    rows = node_rows(view.store, view.store.children(view.code))
    kpis = kpi_parts(load, ami, view.lang)
    out = [no_update] * 6
    if "load" in moved:
        out[0], out[1] = kpis[0], kpis[1]
        out[3] = traces_patch(figures.load_patch_values(load))
    if "ami" in moved:
        out[2] = kpis[2]
    if rows:
        out[4], out[5] = bars_patch(rows, "load_mw"), rows
    return out
