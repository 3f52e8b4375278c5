"""抢修 Repairs: orders per hour against their baseline, the open backlog by step, the running
time limits (countdowns), overdue orders, and the nodes one level down."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashboard import components as c
from dashboard import figures, ids, scope
from dashboard.grid import rows_for, table
from dashboard.i18n import number, t

PAGE = "repairs"
DATASETS = ("orders", "countdowns")
STEPS = ("accepted", "dispatched", "received", "departed", "arrived")
GRID = [("name", "name", "text"), ("repair_today", "repair_today", "int"),
        ("baseline_today", "baseline", "float"), ("growth", "vs_baseline", "percent"),
        ("repair_last_hour", "repair_last_hour", "int"), ("open_repair", "open_repair", "int"),
        ("overdue_arrival", "overdue_arrival", "int"), ("key_customer_overdue", "key_customer_overdue", "int")]
COUNTDOWNS = [("order_no", "order_no", "text"), ("tarea_name", "level_tarea", "text"),
              ("stage_label", "stage", "text"), ("status_label", "status", "text"),
              ("minutes_left", "minutes_left", "minutes"), ("state_label", "limit_state", "text"),
              ("key_label", "key_customer", "text"), ("accepted_at", "accepted_at", "time"),
              ("deadline", "deadline", "time")]


def growth(actual, baseline):
    return None if actual is None or not baseline else (actual - baseline) / baseline


def node_rows(store, codes: list[str]) -> list[dict]:
    rows = []
    for node, o in zip(scope.named(store, codes), store.entries("orders", codes)):
        o = o or {}
        rows.append({**node, **{k: o.get(k) for k, _, _ in GRID[1:] if k != "growth"},
                     "growth": growth(o.get("repair_today"), o.get("baseline_today"))})
    return rows_for(rows, "code", "code")


def countdown_rows(view: scope.View) -> list[dict]:
    """Open orders nearest to or past their limit. Past / nearly used up is said in words:
    red, orange and yellow belong to warning levels."""
    rows = scope.listing(view, "countdowns")
    names = {n["code"]: n["name"] for n in scope.named(view.store, sorted({r["tarea_code"] for r in rows}))}
    lang = view.lang
    out = [{**r, "tarea_name": names.get(r["tarea_code"], r["tarea_code"]),
            "stage_label": t(f'stage_{r["stage"]}', lang), "status_label": t(f'step_{r["status"]}', lang),
            "state_label": t({"red": "limit_passed", "yellow": "limit_near"}.get(r.get("colour"), "limit_ok"), lang),
            "key_label": t("yes", lang) if r.get("key_customer") else ""} for r in rows]
    return rows_for(out, "tarea_code", "order_no")


def volume_kpis(o: dict | None, lang: str):
    if not o:
        return html.Div(t("no_data", lang), className="pw-nodata")
    g = growth(o.get("repair_today"), o.get("baseline_today"))
    return [c.big(number(o.get("repair_today"), lang), t("unit_orders", lang)),
            c.line(t("vs_baseline", lang), "—" if g is None else f"{g * 100:+.0f}%"),
            c.line(t("repair_last_hour", lang),
                   f'{number(o.get("repair_last_hour"), lang)} / {t("baseline", lang)} '
                   f'{number(o.get("baseline_last_hour"), lang, 1)}')]


def open_kpis(o: dict | None, lang: str):
    if not o:
        return html.Div(t("no_data", lang), className="pw-nodata")
    return [c.big(number(o.get("open_repair"), lang), t("unit_orders", lang)),
            c.line(t("open_not_arrived", lang), number(o.get("open_not_arrived"), lang)),
            c.line(t("overdue_arrival", lang), html.Span(number(o.get("overdue_arrival"), lang),
                                                          className="pw-emph" if o.get("overdue_arrival") else "")),
            c.line(t("key_customer_overdue", lang), number(o.get("key_customer_overdue"), lang))]


def view_body(view: scope.View) -> list:
    lang, store = view.lang, view.store
    orders = store.entry("orders", view.code)
    rows = node_rows(store, scope.child_codes(view))
    title = f'{t("repair_today", lang)} · {t("children", lang)}'
    return [
        dbc.Row([dbc.Col(c.tile(t("repair_today", lang), "orders",
                                html.Div(volume_kpis(orders, lang), id=ids.part(PAGE, "volume"))), md=4),
                 dbc.Col(c.tile(t("open_repair", lang), "orders",
                                html.Div(open_kpis(orders, lang), id=ids.part(PAGE, "open"))), md=4),
                 dbc.Col(dbc.Card(c.graph(ids.part(PAGE, "backlog"),
                                          figures.backlog((orders or {}).get("backlog", {}), STEPS, lang,
                                                          view.theme, height=230)), className="pw-tile h-100"),
                         md=4)], className="g-2 mb-2"),
        dbc.Card(c.graph(ids.timechart(PAGE, "hourly"), figures.hourly_orders(orders, lang, view.theme, view.hours)),
                 className="pw-tile mb-2"),
        table(PAGE, "countdowns", COUNTDOWNS, countdown_rows(view), lang, height="360px",
              title=t("countdowns", lang)),
        *scope.below(view, rows, [
            dbc.Card(c.graph(ids.drill(PAGE, "children"),
                             figures.node_bars(rows, "repair_today", title, view.theme)), className="pw-tile mb-2"),
            table(PAGE, "children", GRID, rows, lang, title=t("children", lang))]),
    ]


def layout(code: str | None = None, **query):
    view = scope.resolve(PAGE, code, query)
    if not isinstance(view, scope.View):
        return view
    return scope.frame(view, "repairs", view_body(view))


scope.register(__name__, PAGE, "repairs", 20, layout)
