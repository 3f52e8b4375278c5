"""Warning tiles: one per node (the node in view and its children), coloured by level and named
in words, so colour is never the only signal; the reasons open with one click (<details>)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashboard.i18n import number, percent, t

LEVELS = ("none", "yellow", "orange", "red")
# how each warning input reads on screen: fractions as percentages, the rest as numbers
PERCENT_INPUTS = {"load_vs_peak", "heavy_share", "overload_share", "repair_growth", "overdue_arrival_share"}
UNITS = {"temp_max_c": "°C"}


def _value(name: str, value) -> str:
    if value is None or name in PERCENT_INPUTS:
        return percent(value)
    digits = 0 if float(value).is_integer() else 1
    return f"{number(value, digits=digits)}{UNITS.get(name, '')}"


def _level(level: int, lang: str) -> str:
    return t(f"warn_level_{LEVELS[level]}", lang)


def _time(iso: str) -> str:
    """"07-15 23:15": month, day and time, the same in both languages."""
    return iso[5:16].replace("T", " ")


def reason_line(reason: dict, lang: str) -> html.Li:
    """"台区重过载：heavy_share 6.1% ≥ 5.0%（假定阈值）", the gate reason as one sentence."""
    if reason["dimension"] == "season_gate":
        return html.Li(t("warn_season_gate", lang))
    title = (reason.get("title") or {}).get(lang, reason["dimension"])
    rule = reason["rule"].split(" ")[1]            # the comparison: ">=" or ">"
    text = (f'{title}{"：" if lang == "zh" else ": "}{reason["input"]} {_value(reason["input"], reason["value"])} {rule.replace(">=", "≥")} '
            f'{_value(reason["input"], reason["threshold"])}')
    assumed = t("warn_assumed", lang) if reason.get("source") == "ASSUMED" else ""
    return html.Li([html.Span(_level(reason["level"], lang), className=f'pw-warn-chip pw-warn-{reason["level"]}'),
                    " ", text + assumed])


def tile(code: str, name: str, warning: dict, lang: str) -> dbc.Card:
    level = warning["level"]
    reasons = warning["reasons"]
    pending = warning.get("pending_level")
    notes = [html.Div(t("warn_since", lang, t=_time(warning["started_at"])), className="pw-note")] \
        if warning.get("started_at") else []
    if pending is not None:
        notes.append(html.Div(t("warn_pending", lang, level=_level(pending, lang), n=warning["pending_count"]),
                              className="pw-note"))
    details = html.Details([
        html.Summary(t("warn_reasons", lang, n=len(reasons))),
        html.Ul([reason_line(r, lang) for r in reasons] or [html.Li(t("warn_no_reason", lang))],
                className="pw-warn-reasons"),
    ])
    return dbc.Card([
        dbc.CardHeader(html.A(name, href=f"/region/{code}", className="pw-warn-node")),
        dbc.CardBody([html.Div(_level(level, lang), className="pw-warn-label"),
                      *notes, details]),
    ], className=f"pw-tile pw-warn pw-warn-{level} h-100")


def row(store, code: str, lang: str) -> list:
    """Columns of tiles for the node and those of its children that are evaluated."""
    codes = [code, *store.children(code)]
    shown = [(c, w) for c, w in zip(codes, store.entries("warnings", codes)) if w]
    names = store.entries("topology", [c for c, _ in shown])
    return [dbc.Col(tile(c, n["name"] if n else c, w, lang), xs=6, md=4, xl=2) for (c, w), n in zip(shown, names)]
