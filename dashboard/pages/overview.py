"""总览 Overview: load, repair orders, open orders and outages for one node, and its children."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import components as c
from dashboard import ids, runtime, warning_tiles
from dashboard.i18n import t
from dashboard.scope import is_kiosk
from dashboard.store import RedisUnavailable

dash.register_page(__name__, path="/", name="nav_overview", nav=True, order=0)

DATASETS = ("load", "orders", "outages")
WARNING_VERSIONS = ("warnings", "topology")   # the warning tiles change with these
# The children table's columns by dataset. The server sends numbers only, and only the columns
# of a dataset that moved; assets/peakwatch.js (childrenTable) formats and draws the table.
CHILD_COLUMNS = {"load": ("load_mw", "load_rate"), "orders": ("repair_today", "open_repair"),
                 "outages": ("outages_active", "outage_customers")}


def node_data(store, code: str) -> dict:
    return {ds: store.entry(ds, code) for ds in DATASETS}


def children_rows(store, code: str) -> list[dict]:
    kids = store.children(code)
    nodes = store.entries("topology", kids)
    data = {ds: store.entries(ds, kids) for ds in DATASETS}
    return [{"code": k, "name": n["name"] if n else k,
             **{ds: data[ds][i] or {} for ds in DATASETS}} for i, (k, n) in enumerate(zip(kids, nodes))]


def column(rows: list[dict], dataset: str) -> list[list]:
    return [[r[dataset].get(f) for f in CHILD_COLUMNS[dataset]] for r in rows]


def children_columns(rows: list[dict]) -> dict:
    return {"nodes": [[r["code"], r["name"]] for r in rows], **{ds: column(rows, ds) for ds in CHILD_COLUMNS}}


def breadcrumb(store, code: str, lang: str):
    chain = store.ancestors(code)
    items = [{"label": f'{n["name"]}', "href": f'/region/{n["code"]}'} for n in chain[:-1]]
    items.append({"label": f'{chain[-1]["name"]} · {t("level_" + chain[-1]["level"], lang)}', "active": True})
    return dbc.Breadcrumb(items=items, id=ids.OV_BREADCRUMB, className="pw-breadcrumb")


def message(text: str):
    return dbc.Alert(text, color="secondary", className="m-4 pw-message")


def view(code: str | None = None, query: dict | None = None):
    lang, theme = runtime.lang(), runtime.theme(is_kiosk(query or {}))
    store = runtime.store()
    try:
        code = code or store.city_code()
        if code is None:
            return message(t("no_data", lang))
        if store.node(code) is None:
            return message(t("unknown_region", lang, code=code[:32]))
        data = node_data(store, code)
        versions = store.versions()
        kids = children_rows(store, code)
        warnings_row = warning_tiles.row(store, code, lang)
    except RedisUnavailable:
        return message(t("redis_down", lang))
    return html.Div([
        dcc.Store(id=ids.OV_REGION, data=code),
        dcc.Store(id=ids.OV_RENDERED, data=versions),
        breadcrumb(store, code, lang),
        dcc.Store(id=ids.OV_WARN_RENDERED, data={k: versions.get(k) for k in WARNING_VERSIONS}),
        dbc.Row(warnings_row, id=ids.OV_WARNINGS, className="g-2 mb-2"),
        dbc.Row([
            dbc.Col(c.tile(t("load", lang), "load", html.Div(c.load_body(data["load"], lang), id=ids.OV_LOAD)), md=3),
            dbc.Col(c.tile(t("repair_today", lang), "orders",
                           html.Div(c.orders_body(data["orders"], lang), id=ids.OV_ORDERS)), md=3),
            dbc.Col(c.tile(t("open_repair", lang), "orders",
                           html.Div(c.open_body(data["orders"], lang), id=ids.OV_OPEN)), md=3),
            dbc.Col(c.tile(t("outages_active", lang), "outages",
                           html.Div(c.outages_body(data["outages"], lang), id=ids.OV_OUTAGES)), md=3),
        ], className="g-2 mb-2"),
        dbc.Row([
            dbc.Col(dbc.Card(c.graph(ids.OV_CURVE, c.curve_figure(data["load"], lang, theme)),
                             className="pw-tile"), md=7),
            dbc.Col(dbc.Card(c.graph(ids.OV_ORDERS_CHART, c.orders_figure(data["orders"], lang, theme)),
                             className="pw-tile"), md=5),
        ], className="g-2 mb-2"),
        dbc.Card([dbc.CardHeader(t("children", lang)),
                  dbc.CardBody([dcc.Store(id=ids.OV_CHILDREN_DATA, data=children_columns(kids)),
                                html.Div(id=ids.OV_CHILDREN)])],
                 className="pw-tile") if kids else None,
    ])


def layout(**query):
    return view(None, query)
