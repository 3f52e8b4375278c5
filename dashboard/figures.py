"""Plotly figures of the scoped pages. Time runs in hours (0–24) on every time chart, so one
?hours= window applies to 15-min curves and hourly bars alike. Pure functions of data."""
from __future__ import annotations

import plotly.graph_objects as go

from dashboard.i18n import t
from dashboard.theme import SERIES, template

QUARTER_HOURS = [q / 4 for q in range(96)]
HOUR_CENTRES = [h + 0.5 for h in range(24)]
TIME_TICKS = list(range(0, 25, 2))


def base(theme: str, title: str = "", height: int | None = 320) -> go.Figure:
    """height None: the figure fills its container (the wall's grid cells)."""
    return go.Figure(layout=dict(
        template=template(theme), title=dict(text=title, font=dict(size=16), x=0.01),
        margin=dict(l=52, r=16, t=44 if title else 12, b=36), height=height, autosize=height is None,
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"),
        uirevision="keep"))


def time_axis(fig: go.Figure, hours: list[int] | None) -> go.Figure:
    fig.update_xaxes(range=hours or [0, 24], tickvals=TIME_TICKS,
                     ticktext=[f"{h:02d}:00" for h in TIME_TICKS])
    return fig


def load_curves(load: dict | None, lang: str, theme: str, hours=None, height: int = 340) -> go.Figure:
    """Today, yesterday and the same day last year, with today's peak as a line."""
    load = load or {}
    fig = base(theme, f'{t("load", lang)} ({t("unit_mw", lang)})', height)
    for key, dash in (("today", "solid"), ("yesterday", "dot"), ("last_year", "dash")):
        fig.add_scatter(x=QUARTER_HOURS, y=load.get(f"curve_{key}") or [None] * 96, mode="lines",
                        name=t(f"curve_{key}", lang), connectgaps=False,
                        line=dict(color=SERIES[key], dash=dash, width=3 if key == "today" else 2))
    fig.add_scatter(x=[0, 24], y=[load.get("peak_today_mw")] * 2, mode="lines", name=t("peak_today", lang),
                    line=dict(color=SERIES["peak"], width=1, dash="longdash"), hoverinfo="skip")
    return time_axis(fig, hours)


def load_patch_values(load: dict | None) -> list[list]:
    """The y arrays of load_curves' traces, in trace order (for a Patch)."""
    load = load or {}
    return [load.get(f"curve_{k}") or [None] * 96 for k in ("today", "yesterday", "last_year")] + \
        [[load.get("peak_today_mw")] * 2]


def hourly_orders(orders: dict | None, lang: str, theme: str, hours=None, height: int = 320) -> go.Figure:
    orders = orders or {}
    fig = base(theme, t("hourly_orders", lang), height)
    fig.add_bar(x=HOUR_CENTRES, y=orders.get("hourly") or [0] * 24, width=0.8, name=t("curve_today", lang),
                marker_color=SERIES["bars"])
    fig.add_scatter(x=HOUR_CENTRES, y=orders.get("baseline_hourly") or [0] * 24, mode="lines+markers",
                    name=t("baseline", lang), line=dict(color=SERIES["baseline"], dash="dot", width=2))
    return time_axis(fig, hours)


def hourly_patch_values(orders: dict | None) -> list[list]:
    orders = orders or {}
    return [orders.get("hourly") or [0] * 24, orders.get("baseline_hourly") or [0] * 24]


def node_bars(rows: list[dict], value: str, title: str, theme: str, digits: int = 0,
              height: int = 300) -> go.Figure:
    """One bar per node one level down, carrying its code: a click drills into it."""
    fig = base(theme, title, height)
    fig.add_bar(x=[r["name"] for r in rows], y=[r.get(value) or 0 for r in rows],
                customdata=[r["code"] for r in rows], marker_color=SERIES["bars"],
                texttemplate=f"%{{y:,.{digits}f}}", textposition="outside", cliponaxis=False,
                hovertemplate=f"%{{x}}: %{{y:,.{digits}f}}<extra></extra>")
    fig.update_layout(showlegend=False, xaxis=dict(type="category", tickangle=0 if len(rows) <= 8 else -45))
    return fig


def backlog(counts: dict, steps: tuple, lang: str, theme: str, height: int = 300) -> go.Figure:
    """Open repair orders by the step they are waiting at, in lifecycle order."""
    fig = base(theme, t("backlog", lang), height)
    fig.add_bar(y=[t(f"step_{s}", lang) for s in steps], x=[counts.get(s, 0) for s in steps],
                orientation="h", marker_color=SERIES["bars"], texttemplate="%{x}", textposition="outside",
                cliponaxis=False, hovertemplate="%{y}: %{x}<extra></extra>")
    fig.update_layout(showlegend=False, yaxis=dict(autorange="reversed"))
    return fig
