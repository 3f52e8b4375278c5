"""负荷 Load: the curve against yesterday, last year and today's peak; heavy and overloaded
feeders and 台区; low-voltage customers; and the nodes one level down."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashboard import components as c
from dashboard import figures, ids, scope
from dashboard.grid import rows_for, table
from dashboard.i18n import number, percent, t

PAGE = "load"
DATASETS = ("load", "ami")
GRID = [("name", "name", "text"), ("load_mw", "load_mw", "dec1"), ("load_rate", "load_rate", "percent"),
        ("load_vs_peak", "load_vs_peak", "percent"), ("heavy_feeders", "heavy_feeders", "int"),
        ("overload_feeders", "overload_feeders", "int"), ("heavy_tareas", "heavy_tareas", "int"),
        ("overload_tareas", "overload_tareas", "int"), ("low_voltage_customers", "low_voltage_customers", "int")]


def node_rows(store, codes: list[str]) -> list[dict]:
    load, ami = store.entries("load", codes), store.entries("ami", codes)
    rows = []
    for node, ld, am in zip(scope.named(store, codes), load, ami):
        ld, am = ld or {}, am or {}
        rows.append({**node, **{k: ld.get(k) for k in ("load_mw", "load_rate", "load_vs_peak",
                                                       "heavy_feeders", "overload_feeders")},
                     **{k: am.get(k) for k in ("heavy_tareas", "overload_tareas", "low_voltage_customers")}})
    return rows_for(rows, "code", "code")


def load_kpis(load: dict | None, lang: str):
    if not load:
        return html.Div(t("no_data", lang), className="pw-nodata")
    return [c.big(number(load.get("load_mw"), lang, 1), t("unit_mw", lang)),
            c.line(t("load_rate", lang), percent(load.get("load_rate"), lang)),
            c.line(t("peak_today", lang), number(load.get("peak_today_mw"), lang, 1)),
            c.line(t("load_vs_peak", lang), percent(load.get("load_vs_peak"), lang)),
            html.Div(t("feeders_reporting", lang, n=load.get("feeders_reporting", 0),
                       total=load.get("feeders_total", 0)), className="pw-note")]


def feeder_kpis(load: dict | None, lang: str):
    if not load:
        return html.Div(t("no_data", lang), className="pw-nodata")
    return [c.big(number(load.get("heavy_feeders"), lang), t("heavy_feeders", lang)),
            c.line(t("overload_feeders", lang), number(load.get("overload_feeders"), lang)),
            html.Div(t("rule_heavy_feeder", lang), className="pw-note")]


def tarea_kpis(ami: dict | None, lang: str):
    if not ami:
        return html.Div(t("no_data", lang), className="pw-nodata")
    return [c.big(number(ami.get("heavy_tareas"), lang), t("heavy_tareas", lang)),
            c.line(t("overload_tareas", lang), number(ami.get("overload_tareas"), lang)),
            c.line(t("low_voltage_customers", lang), number(ami.get("low_voltage_customers"), lang)),
            html.Div(t("tareas_reporting", lang, n=ami.get("tareas_reporting", 0),
                       total=ami.get("tareas_total", 0)), className="pw-note")]


def kpi_parts(load, ami, lang) -> list:
    """The three KPI blocks, in the order of the refresh callback's outputs."""
    return [load_kpis(load, lang), feeder_kpis(load, lang), tarea_kpis(ami, lang)]


def children_chart(view, rows):
    title = f'{t("load", view.lang)} ({t("unit_mw", view.lang)}) · {t("children", view.lang)}'
    return figures.node_bars(rows, "load_mw", title, view.theme, digits=1)


def view_body(view: scope.View) -> list:
    lang, store = view.lang, view.store
    load, ami = store.entry("load", view.code), store.entry("ami", view.code)
    rows = node_rows(store, scope.child_codes(view))
    parts = kpi_parts(load, ami, lang)
    tiles = [("load", "load", parts[0]), ("feeder_load_flags", "load", parts[1]),
             ("tarea_load_flags", "ami", parts[2])]
    body = [dbc.Row([dbc.Col(c.tile(t(key, lang), ds, html.Div(part, id=ids.part(PAGE, key))), md=4)
                     for key, ds, part in tiles], className="g-2 mb-2"),
            dbc.Card(c.graph(ids.timechart(PAGE, "curve"),
                             figures.load_curves(load, lang, view.theme, view.hours)), className="pw-tile mb-2")]
    return body + scope.below(view, rows, [
        dbc.Card(c.graph(ids.drill(PAGE, "children"), children_chart(view, rows)), className="pw-tile mb-2"),
        table(PAGE, "children", GRID, rows, lang, title=t("children", lang))])


def layout(code: str | None = None, **query):
    view = scope.resolve(PAGE, code, query)
    if not isinstance(view, scope.View):
        return view
    return scope.frame(view, "load", view_body(view))


scope.register(__name__, PAGE, "load", 10, layout)
