"""重要客户 Key customers and lifeline projects: power status, supply sources, and the
planned-outage notice chain (written 2 days and 12 h before, a call 30 min before)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashboard import components as c
from dashboard import ids, scope
from dashboard.grid import rows_for, table
from dashboard.i18n import label, number, t

PAGE = "keycustomers"
DATASETS = ("keycustomers",)
CUSTOMER_PREFIX = "kc:"
CUSTOMERS = [("name", "customer_name", "text"), ("category_label", "category", "text"),
             ("lifeline_label", "lifeline", "text"), ("importance_label", "importance", "text"),
             ("status_label", "power_status", "text"), ("primary_label", "primary_source", "text"),
             ("backup_label", "backup_source", "text"), ("single_source_minutes", "single_source_minutes", "float"),
             ("chain", "notice_chain", "text"), ("tarea_name", "level_tarea", "text")]
NOTICES = [("customer", "customer_name", "text"), ("outage_id", "outage_id", "text"),
           ("outage_start", "start_at", "time"), ("step_label", "notice_step", "text"),
           ("due_at", "deadline", "time"), ("done_at", "done_at", "time"), ("state_label", "notice_state", "text")]


def source_label(feeder: str | None, lost: bool, names: dict, lang: str) -> str:
    if not feeder:
        return t("no_backup", lang)
    return f'{names.get(feeder, feeder)}（{t("source_lost" if lost else "source_ok", lang)}）'


def chain_text(notices: list[dict], lang: str) -> str:
    return " · ".join(f'{label("notice", n["step"], lang)} {label("notice_state", n["state"], lang)}' for n in notices)


def customers(view: scope.View) -> list[dict]:
    """Key customers at or below the node, those without power first."""
    found = scope.under(view, view.store.entries_with_prefix("keycustomers", CUSTOMER_PREFIX), "tarea_code")
    codes = {x for k in found for x in (k["tarea_code"], k["primary_feeder"], k.get("backup_feeder")) if x}
    names = {n["code"]: n["name"] for n in scope.named(view.store, sorted(codes))}
    lang = view.lang
    rows = [{**k, "category_label": label("category", k["category"], lang),
             "lifeline_label": t("yes", lang) if k.get("lifeline") else "",
             "importance_label": label("importance", k["importance"], lang),
             "status_label": label("power", k["status"], lang),
             "primary_label": source_label(k["primary_feeder"], k.get("primary_lost"), names, lang),
             "backup_label": source_label(k.get("backup_feeder"), k.get("backup_lost"), names, lang),
             "chain": chain_text(k.get("notices", []), lang), "tarea_name": names.get(k["tarea_code"], k["tarea_code"])}
            for k in found]
    rows.sort(key=lambda r: (r["status"] == "supplied", r["name"]))
    return rows_for(rows, "tarea_code", "customer_id")


def notice_rows(rows: list[dict], lang: str) -> list[dict]:
    out = [{**n, "customer": r["name"], "tarea_code": r["tarea_code"], "step_label": label("notice", n["step"], lang),
            "state_label": label("notice_state", n["state"], lang), "key": f'{r["customer_id"]}/{n["outage_id"]}/{n["step"]}'}
           for r in rows for n in r.get("notices", [])]
    return rows_for(sorted(out, key=lambda n: n["due_at"]), "tarea_code", "key")


def status_kpis(k: dict | None, lang: str):
    if not k:
        return html.Div(t("no_data", lang), className="pw-nodata")
    return [c.big(number(k.get("key_customers"), lang), t("unit_customers_key", lang)),
            c.line(t("lifeline", lang), number(k.get("lifelines"), lang)),
            c.line(t("power_out", lang), html.Span(number(k.get("keycust_outages"), lang),
                                                  className="pw-emph" if k.get("keycust_outages") else "")),
            c.line(t("power_one_source_lost", lang), number(k.get("keycust_one_source_lost"), lang))]


def notice_kpis(k: dict | None, lang: str):
    if not k:
        return html.Div(t("no_data", lang), className="pw-nodata")
    return [c.big(number(k.get("notices_missed"), lang), t("notices_missed", lang)),
            c.line(t("notices_late", lang), number(k.get("notices_late"), lang)),
            c.line(t("notices_pending", lang), number(k.get("notices_pending"), lang)),
            c.line(t("notices_done", lang), number(k.get("notices_done"), lang))]


def view_body(view: scope.View) -> list:
    lang = view.lang
    k = view.store.entry("keycustomers", view.code)
    rows = customers(view)
    return [
        dbc.Row([dbc.Col(c.tile(t("power_status", lang), "keycustomers",
                                html.Div(status_kpis(k, lang), id=ids.part(PAGE, "status"))), md=6),
                 dbc.Col(c.tile(t("notice_chain", lang), "keycustomers",
                                html.Div(notice_kpis(k, lang), id=ids.part(PAGE, "notices"))), md=6)],
                className="g-2 mb-2"),
        table(PAGE, "customers", CUSTOMERS, rows, lang, height="460px", title=t("keycustomers", lang)),
        table(PAGE, "notices", NOTICES, notice_rows(rows, lang), lang, height="320px", title=t("notice_chain", lang)),
    ]


def layout(code: str | None = None, **query):
    view = scope.resolve(PAGE, code, query)
    if not isinstance(view, scope.View):
        return view
    return scope.frame(view, "keycustomers", view_body(view))


scope.register(__name__, PAGE, "keycustomers", 50, layout)
