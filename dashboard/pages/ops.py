"""运行状态 Ops: every collector's health, the supervised processes, and the rejected rows with
where they came from and why. Failure is data: this page is what to look at when a tile is stale.
The page names no region, so every signed-in user may open it; a rejected field's value comes from
any district, so only a whole-network principal (scope None) sees the values."""
from __future__ import annotations

from datetime import datetime

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import components as c
from dashboard import figures, ids, runtime, scope
from dashboard.grid import rows_for, table
from dashboard.i18n import t
from dashboard.store import RedisUnavailable

PAGE = "ops"
REJECTS_SHOWN = 500
COLLECTORS = [("collector", "collector", "text"), ("state_label", "state", "text"),
              ("last_success", "last_success", "time"), ("age_s", "age_s", "int"),
              ("duration_s", "duration_s", "float"), ("interval_s", "interval_s", "int"),
              ("rows_in", "rows_in", "int"), ("rows_rejected", "rows_rejected", "int"),
              ("rejected_total", "rejected_total", "int"), ("cycles_failed", "cycles_failed", "int"),
              ("last_error", "last_error", "text")]
PROCESSES = [("name", "process", "text"), ("pid", "pid", "int"), ("restarts", "restarts", "int"),
             ("last_event", "last_event", "text"), ("at", "at", "time")]
REJECTS = [("at", "at", "time"), ("source", "source", "text"), ("table", "table", "text"),
           ("key", "row_key", "text"), ("field", "field", "text"), ("rule", "rule", "text"),
           ("value", "value", "text"), ("collector", "collector", "text")]


def collector_rows(health: dict, now: datetime, lang: str) -> list[dict]:
    rows = []
    for name, h in sorted(health.items()):
        last = h.get("last_success")
        age = (now - datetime.fromisoformat(last)).total_seconds() if last else None
        stale = age is None or age > (h.get("stale_after_s") or float("inf"))
        rows.append({**h, "collector": name, "age_s": age, "last_error": h.get("last_error") or "",
                     "state_label": t("state_stale" if stale else "state_ok", lang)})
    return rows_for(rows, None, "collector")


def process_rows(processes: dict) -> list[dict]:
    return rows_for([{**p, "name": name} for name, p in sorted(processes.items())], None, "name")


def reject_rows(rejects: list[dict], with_values: bool) -> list[dict]:
    rows = [{**r, "value": "" if r.get("value") is None or not with_values else str(r["value"]), "n": i}
            for i, r in enumerate(rejects)]
    return rows_for(rows, None, "n")


def sees_values(who) -> bool:
    return who is not None and who.scope is None


def reject_counts(rejects: list[dict]) -> list[dict]:
    """Rejected rows by source and rule, most first: which system sends what kind of bad row."""
    counts: dict[str, int] = {}
    for r in rejects:
        key = f'{r.get("source")} · {r.get("rule")}'
        counts[key] = counts.get(key, 0) + 1
    return [{"code": k, "name": k, "count": n} for k, n in sorted(counts.items(), key=lambda kv: -kv[1])]


def snapshot(store) -> dict:
    return {"health": store.health(), "processes": store.processes(), "rejects": store.rejects(REJECTS_SHOWN),
            "now": store.clock.now()}


def parts(snap: dict, lang: str, with_values: bool) -> list:
    """Grid rows and the rejects' counts, in the order of the refresh callback's outputs."""
    return [collector_rows(snap["health"], snap["now"], lang), process_rows(snap["processes"]),
            reject_counts(snap["rejects"]), reject_rows(snap["rejects"], with_values)]


def layout(**query):
    lang, theme = runtime.lang(), runtime.theme(scope.is_kiosk(query))
    try:
        snap = snapshot(runtime.store())
    except RedisUnavailable:
        return scope.message(t("redis_down", lang))
    with_values = sees_values(runtime.principal())
    collectors, processes, counts, rejects = parts(snap, lang, with_values)
    chart = figures.node_bars(counts, "count", t("rejects_by_rule", lang, n=REJECTS_SHOWN), theme, height=280)
    return html.Div([
        dcc.Store(id=ids.VIEW, data={"page": PAGE, "lang": lang, "theme": theme}),
        html.Div(html.H1(t("ops", lang), className="pw-page-title"), className="pw-page-head"),
        table(PAGE, "collectors", COLLECTORS, collectors, lang, height="330px", title=t("collectors", lang)),
        table(PAGE, "processes", PROCESSES, processes, lang, height="200px", title=t("processes", lang)),
        dbc.Card(c.graph(ids.part(PAGE, "reject_chart"), chart), className="pw-tile mb-2"),
        table(PAGE, "rejects", REJECTS, rejects, lang, height="420px",
              title=t("rejected_rows" if with_values else "rejected_rows_scoped", lang)),
    ], className="pw-page")


dash.register_page(__name__, path=f"/{PAGE}", name="ops", nav=True, order=90, slug=PAGE)
