"""停电 Outages: outages in progress with their scope and ETR, the month's reliability, and the
nodes one level down."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashboard import components as c
from dashboard import audit_view, figures, ids, scope
from dashboard.grid import rows_for, table
from dashboard.i18n import label, number, percent, t

PAGE = "outages"
DATASETS = ("outages", "audit", "frequent_outages")
ACTIVE = [("outage_id", "outage_id", "text"), ("type_label", "outage_type", "text"),
          ("equipment_name", "equipment", "text"), ("cause_label", "cause", "text"),
          ("customers_reported", "outage_customers", "int"), ("tareas", "outage_tareas", "int"),
          ("start_at", "start_at", "time"), ("etr", "etr", "time")]
GRID = [("name", "name", "text"), ("outages_active", "outages_active", "int"),
        ("outages_fault", "outages_fault", "int"), ("outages_planned", "outages_planned", "int"),
        ("outage_transformer_areas", "outage_tareas", "int"), ("outage_customers", "outage_customers", "int"),
        ("customer_hours_mtd", "customer_hours_mtd", "float"), ("rs1_mtd", "rs1_mtd", "percent")]


def node_rows(store, codes: list[str]) -> list[dict]:
    rows = []
    for node, o in zip(scope.named(store, codes), store.entries("outages", codes)):
        o = o or {}
        rows.append({**node, **{k: o.get(k) for k, _, _ in GRID[1:]}})
    return rows_for(rows, "code", "code")


def active_rows(view: scope.View) -> list[dict]:
    """Outages in progress at or below the node; a click opens the equipment that is out."""
    rows = scope.under(view, view.store.entry("outages", "_active") or [], "equipment")
    names = {n["code"]: n["name"] for n in scope.named(view.store, sorted({r["equipment"] for r in rows}))}
    out = [{**r, "equipment_name": names.get(r["equipment"], r["equipment"]),
            "type_label": label("outage", r["type"], view.lang), "cause_label": label("cause", r.get("cause"), view.lang)}
           for r in rows]
    return rows_for(out, "equipment", "outage_id")


def now_kpis(o: dict | None, lang: str):
    if not o:
        return html.Div(t("no_data", lang), className="pw-nodata")
    return [c.big(number(o.get("outages_active"), lang), t("unit_count", lang)),
            c.line(t("outages_fault", lang), number(o.get("outages_fault"), lang)),
            c.line(t("outages_planned", lang), number(o.get("outages_planned"), lang))]


def scope_kpis(o: dict | None, lang: str):
    if not o:
        return html.Div(t("no_data", lang), className="pw-nodata")
    return [c.big(number(o.get("outage_customers"), lang), t("unit_households", lang)),
            c.line(t("outage_tareas", lang), number(o.get("outage_transformer_areas"), lang)),
            c.line(t("customer_hours_active", lang), number(o.get("customer_hours_active"), lang, 1))]


def month_kpis(o: dict | None, lang: str):
    if not o or o.get("rs1_mtd") is None:
        return html.Div(t("no_data", lang), className="pw-nodata")
    return [c.big(percent(o.get("rs1_mtd"), lang, 3), "RS-1"),
            c.line("SAIDI", f'{number(o.get("saidi_mtd_h"), lang, 3)} {t("unit_hours", lang)}'),
            c.line("SAIFI", number(o.get("saifi_mtd"), lang, 4)),
            c.line(t("customer_hours_mtd", lang), number(o.get("customer_hours_mtd"), lang, 1))]


KPIS = (("outages_active", now_kpis), ("outage_scope", scope_kpis), ("month_reliability", month_kpis))


def view_body(view: scope.View) -> list:
    lang, store = view.lang, view.store
    o = store.entry("outages", view.code)
    rows = node_rows(store, scope.child_codes(view))
    title = f'{t("outage_customers", lang)} · {t("children", lang)}'
    return [
        dbc.Row([*[dbc.Col(c.tile(t(key, lang), "outages", html.Div(fn(o, lang), id=ids.part(PAGE, key))), md=3)
                   for key, fn in KPIS],
                 dbc.Col(c.tile(t("audit_title", lang), "audit",
                                html.Div(audit_view.month_kpis(view.store.entry("audit", view.code), lang),
                                         id=ids.part(PAGE, "audit"))), md=3)], className="g-2 mb-2"),
        table(PAGE, "active", ACTIVE, active_rows(view), lang, height="340px", title=t("outages_active", lang)),
        table(PAGE, "findings", audit_view.FINDINGS, audit_view.finding_rows(view), lang, height="380px",
              title=t("audit_findings", lang)),
        table(PAGE, "frequent", audit_view.FREQUENT, audit_view.frequent_rows(view), lang, height="300px",
              title=t("frequent_outages", lang)),
        *scope.below(view, rows, [
            dbc.Card(c.graph(ids.drill(PAGE, "children"), figures.node_bars(rows, "outage_customers", title,
                                                                           view.theme)), className="pw-tile mb-2"),
            table(PAGE, "children", GRID, rows, lang, title=t("children", lang))]),
    ]


def layout(code: str | None = None, **query):
    view = scope.resolve(PAGE, code, query)
    if not isinstance(view, scope.View):
        return view
    return scope.frame(view, "outages", view_body(view))


scope.register(__name__, PAGE, "outages", 30, layout)
