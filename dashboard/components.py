"""Shared view pieces: KPI tiles, figures and the drill-down table. Pure functions of data."""
from __future__ import annotations

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from dashboard import ids
from dashboard.i18n import number, percent, t
from dashboard.theme import template

# 96 quarter-hour labels for curves
QUARTERS = [f"{q // 4:02d}:{q % 4 * 15:02d}" for q in range(96)]
HOURS = [f"{h:02d}" for h in range(24)]
SERIES = {"today": "#4dabf7", "yesterday": "#adb5bd", "last_year": "#845ef7", "baseline": "#adb5bd"}


def age_badge(dataset: str, tile: str = "") -> html.Span:
    return html.Span("", id=ids.age(dataset, tile), className="pw-age")


def tile(title: str, dataset: str, body) -> dbc.Card:
    return dbc.Card([
        dbc.CardHeader([html.Span(title, className="pw-tile-title"), age_badge(dataset, title)],
                       className="d-flex justify-content-between align-items-center"),
        dbc.CardBody(body),
    ], className="pw-tile h-100")


def big(value: str, unit: str = "") -> html.Div:
    return html.Div([html.Span(value, className="pw-big"), html.Span(unit, className="pw-unit")])


def line(label: str, value: str) -> html.Div:
    return html.Div([html.Span(label, className="pw-label"), html.Span(value, className="pw-value")],
                    className="pw-line")


def growth(actual, baseline) -> str:
    if actual is None or not baseline:
        return "—"
    return f"{(actual - baseline) / baseline * 100:+.0f}%"


def load_body(load: dict | None, lang: str):
    if not load:
        return html.Div(t("no_data", lang), className="pw-nodata")
    return [big(number(load.get("load_mw"), lang, 1), t("unit_mw", lang)),
            line(t("load_rate", lang), percent(load.get("load_rate"), lang)),
            line(t("peak_today", lang), number(load.get("peak_today_mw"), lang, 1)),
            html.Div(t("feeders_reporting", lang, n=load.get("feeders_reporting", 0),
                       total=load.get("feeders_total", 0)), className="pw-note")]


def orders_body(orders: dict | None, lang: str):
    if not orders:
        return html.Div(t("no_data", lang), className="pw-nodata")
    return [big(number(orders["repair_today"], lang), t("unit_orders", lang)),
            line(t("vs_baseline", lang), growth(orders["repair_today"], orders["baseline_today"])),
            line(t("repair_last_hour", lang), f'{orders["repair_last_hour"]} / '
                 f'{t("baseline", lang)} {orders["baseline_last_hour"]:.1f}')]


def open_body(orders: dict | None, lang: str):
    if not orders:
        return html.Div(t("no_data", lang), className="pw-nodata")
    overdue = orders["overdue_arrival"]
    return [big(number(orders["open_repair"], lang), t("unit_orders", lang)),
            line(t("overdue_arrival", lang), html.Span(str(overdue), className="pw-alert" if overdue else ""))]


def outages_body(outages: dict | None, lang: str):
    if not outages:
        return html.Div(t("no_data", lang), className="pw-nodata")
    return [big(number(outages["outages_active"], lang), t("unit_count", lang)),
            line(t("outage_customers", lang), number(outages["outage_customers"], lang)),
            line(t("outage_tareas", lang), number(outages["outage_transformer_areas"], lang))]


def _base_layout(title: str, theme: str) -> dict:
    return dict(template=template(theme), title=dict(text=title, font=dict(size=16)),
                paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                margin=dict(l=48, r=12, t=40, b=32), height=300,
                legend=dict(orientation="h", y=1.12, x=1, xanchor="right"), uirevision="keep")


def curve_figure(load: dict | None, lang: str, theme: str) -> go.Figure:
    fig = go.Figure(layout=_base_layout(f'{t("load", lang)} ({t("unit_mw", lang)})', theme))
    load = load or {}
    for key, dash in (("today", "solid"), ("yesterday", "dot"), ("last_year", "dash")):
        fig.add_scatter(x=QUARTERS, y=load.get(f"curve_{key}") or [None] * 96, mode="lines",
                        name=t(f"curve_{key}", lang), line=dict(color=SERIES[key], dash=dash,
                                                                 width=3 if key == "today" else 2))
    fig.update_xaxes(nticks=12)
    return fig


def orders_figure(orders: dict | None, lang: str, theme: str) -> go.Figure:
    fig = go.Figure(layout=_base_layout(t("hourly_orders", lang), theme))
    orders = orders or {}
    fig.add_bar(x=HOURS, y=orders.get("hourly") or [0] * 24, name=t("curve_today", lang),
                marker_color=SERIES["today"])
    fig.add_scatter(x=HOURS, y=orders.get("baseline_hourly") or [0] * 24, mode="lines",
                    name=t("baseline", lang), line=dict(color=SERIES["baseline"], dash="dot"))
    fig.update_xaxes(type="category")   # "00".."23" are hours, not numbers to rescale
    return fig


def graph(graph_id: str, figure: go.Figure) -> dcc.Graph:
    return dcc.Graph(id=graph_id, figure=figure, config={"displayModeBar": False, "responsive": True})
