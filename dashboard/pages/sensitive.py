"""敏感工单 Sensitive orders (last 24 h): how many, per 10,000 customers, why (repeat callers,
billing anomalies, escalations, keywords …), the newest orders, and the nodes one level down."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashboard import components as c
from dashboard import figures, ids, scope
from dashboard.grid import rows_for, table
from dashboard.i18n import label, number, t

PAGE = "sensitive"
DATASETS = ("sensitive",)
REASONS = ("repeat_escalated", "billing_anomaly", "escalation_channel", "keyword", "key_customer",
           "frequent_outage", "group_no_outage")
ORDERS = [("order_no", "order_no", "text"), ("accepted_at", "accepted_at", "time"),
          ("type_label", "order_type", "text"), ("subtype", "subtype", "text"), ("channel", "channel", "text"),
          ("status_label", "status", "text"), ("why", "sensitive_reasons", "text"),
          ("tarea_name", "level_tarea", "text")]
GRID = [("name", "name", "text"), ("sensitive", "sensitive_orders", "int"),
        ("sensitive_per_10k", "sensitive_per_10k", "float"), ("repeat_calls", "repeat_calls", "int"),
        ("media_escalations", "media_escalations", "int")]


def order_rows(view: scope.View) -> list[dict]:
    found = scope.listing(view, "sensitive", "orders")
    names = {n["code"]: n["name"] for n in scope.named(view.store, sorted({o["tarea_code"] for o in found}))}
    lang = view.lang
    sep = "、" if lang == "zh" else ", "
    rows = [{**o, "type_label": label("order", o["order_type"], lang), "status_label": label("step", o["status"], lang),
             "why": sep.join(label("reason", r, lang) for r in o.get("reasons", [])),
             "tarea_name": names.get(o["tarea_code"], o["tarea_code"])} for o in found]
    return rows_for(rows, "tarea_code", "order_no")


def node_rows(store, codes: list[str]) -> list[dict]:
    rows = [{**node, **{k: (s or {}).get(k) for k, _, _ in GRID[1:]}}
            for node, s in zip(scope.named(store, codes), store.entries("sensitive", codes))]
    return rows_for(rows, "code", "code")


def reason_counts(s: dict | None, lang: str) -> list[dict]:
    s = s or {}
    return [{"code": "", "name": label("reason", r, lang), "count": s.get(f"reason_{r}", 0)} for r in REASONS]


def count_kpis(s: dict | None, lang: str):
    if not s:
        return html.Div(t("no_data", lang), className="pw-nodata")
    return [c.big(number(s.get("sensitive"), lang), t("unit_orders", lang)),
            c.line(t("sensitive_per_10k", lang), number(s.get("sensitive_per_10k"), lang, 2)),
            c.line(t("repeat_calls", lang), number(s.get("repeat_calls"), lang)),
            c.line(t("media_escalations", lang), html.Span(number(s.get("media_escalations"), lang),
                                                          className="pw-emph" if s.get("media_escalations") else ""))]


def reasons_chart(s: dict | None, lang: str, theme: str):
    fig = figures.node_bars(reason_counts(s, lang), "count", t("sensitive_by_reason", lang), theme, height=260)
    return fig.update_layout(clickmode="none")


def view_body(view: scope.View) -> list:
    lang = view.lang
    s = view.store.entry("sensitive", view.code)
    rows = node_rows(view.store, scope.child_codes(view))
    title = f'{t("sensitive_orders", lang)} · {t("children", lang)}'
    return [
        dbc.Row([dbc.Col(c.tile(t("sensitive_orders_24h", lang), "sensitive",
                                html.Div(count_kpis(s, lang), id=ids.part(PAGE, "counts"))), md=4),
                 dbc.Col(dbc.Card(c.graph(ids.part(PAGE, "reasons"), reasons_chart(s, lang, view.theme)),
                                  className="pw-tile h-100"), md=8)], className="g-2 mb-2"),
        table(PAGE, "orders", ORDERS, order_rows(view), lang, height="420px", title=t("sensitive_newest", lang)),
        *scope.below(view, rows, [
            dbc.Card(c.graph(ids.drill(PAGE, "children"), figures.node_bars(rows, "sensitive", title, view.theme)),
                     className="pw-tile mb-2"),
            table(PAGE, "children", GRID, rows, lang, title=t("children", lang))]),
    ]


def layout(code: str | None = None, **query):
    view = scope.resolve(PAGE, code, query)
    if not isinstance(view, scope.View):
        return view
    return scope.frame(view, "sensitive_orders", view_body(view))


scope.register(__name__, PAGE, "sensitive_orders", 60, layout)
