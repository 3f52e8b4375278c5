"""预警 Warnings: the node's 红橙黄 level with its reasons, the map of the nodes one level down
coloured by level, every evaluated node below with its level, and the history of changes."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashboard import components as c
from dashboard import geomap, ids, scope, warning_tiles
from dashboard.grid import rows_for, table
from dashboard.i18n import t
from dashboard.security.views import ack_form
from dashboard.theme import LEVEL_LABELS

PAGE = "warnings"
DATASETS = ("warnings", "geo")
HISTORY_ROWS = 200
NODES = [("name", "name", "text"), ("level_label", "warning_level", "level"), ("why", "warning_reasons", "text"),
         ("started_at", "warning_since", "time"), ("evaluated_at", "evaluated_at", "time")]
HISTORY = [("at", "at", "time"), ("name", "name", "text"), ("from_label", "level_from", "text"),
           ("level_label", "level_to", "level"), ("why", "warning_reasons", "text")]


def reason_titles(reasons: list[dict], lang: str) -> str:
    """The dimensions that raised a level, by name ("负荷、抢修工单增长")."""
    sep = "、" if lang == "zh" else ", "
    return sep.join(r["title"][lang] for r in reasons or [] if isinstance(r.get("title"), dict))


def level_name(level, lang: str) -> str:
    return t(LEVEL_LABELS.get(level, "level_unknown"), lang)


def node_rows(view: scope.View) -> list[dict]:
    """Every evaluated node at and below the view's node, highest level first."""
    found = view.store.warnings_below(view.code)
    names = {n["code"]: n["name"] for n in scope.named(view.store, [w["code"] for w in found])}
    rows = [{"code": w["code"], "name": names.get(w["code"], w["code"]), "level": w["level"],
             "level_label": level_name(w["level"], view.lang), "why": reason_titles(w["reasons"], view.lang),
             "started_at": w.get("started_at"), "evaluated_at": w.get("evaluated_at")} for w in found]
    rows.sort(key=lambda r: (-r["level"], r["code"]))
    return rows_for(rows, "code", "code")


def history_rows(view: scope.View) -> list[dict]:
    changes = view.store.warning_history(view.code, HISTORY_ROWS)
    names = {n["code"]: n["name"] for n in scope.named(view.store, sorted({c["code"] for c in changes}))}
    lv = {v: k for k, v in enumerate(("none", "yellow", "orange", "red"))}
    rows = [{**ch, "n": i, "name": names.get(ch["code"], ch["code"]), "level": ch["level"],
             "from_label": level_name(lv.get(ch["from"]), view.lang), "level_label": level_name(ch["level"], view.lang),
             "why": reason_titles(ch.get("reasons"), view.lang)} for i, ch in enumerate(changes)]
    return rows_for(rows, "code", "n")


def node_card(view: scope.View, warning: dict | None):
    if not warning:
        below_stations = (view.node or {}).get("level") in ("feeder", "tarea")
        return html.Div(t("warnings_not_evaluated" if below_stations else "no_data", view.lang), className="pw-nodata")
    return warning_tiles.tile(view.code, view.node.get("name", view.code) if view.node else view.code,
                              warning, view.lang)


def map_data(view: scope.View) -> tuple[list, dict]:
    kids = scope.child_codes(view)
    return geomap.areas(view.store, kids), geomap.levels(view.store, kids)


def view_body(view: scope.View) -> list:
    lang = view.lang
    warning = view.store.entry("warnings", view.code)
    items, lv = map_data(view)
    the_map = geomap.figure(items, lv, lang, view.theme, height=520, outline=view.store.entry("geo", view.code))
    return [
        dbc.Row([
            dbc.Col(c.tile(t("warnings_title", lang), "warnings",
                           [html.Div(node_card(view, warning), id=ids.part(PAGE, "node")),
                            ack_form(view.code, warning, lang)]), md=4),
            dbc.Col(dbc.Card([dbc.CardHeader(html.Div([html.Span(t("map_title", lang), className="pw-tile-title"),
                                                       geomap.legend(lang)],
                                                      className="d-flex justify-content-between")),
                              c.graph(ids.drill(PAGE, "map"), the_map)], className="pw-tile h-100"), md=8),
        ], className="g-2 mb-2"),
        table(PAGE, "nodes", NODES, node_rows(view), lang, height="360px", title=t("warnings_below", lang)),
        table(PAGE, "history", HISTORY, history_rows(view), lang, height="360px", title=t("warning_history", lang)),
    ]


def layout(code: str | None = None, **query):
    view = scope.resolve(PAGE, code, query)
    if not isinstance(view, scope.View):
        return view
    return scope.frame(view, "warnings_title", view_body(view))


scope.register(__name__, PAGE, "warnings_title", 40, layout)
