"""The layout shell around every page: title bar, navigation, banner, refresh tick, stores."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import ids, runtime
from dashboard.i18n import t, table


def navbar(lang: str) -> dbc.Navbar:
    links = [dbc.NavItem(dbc.NavLink(t(p["name"], lang), href=p["relative_path"], active="exact"))
             for p in dash.page_registry.values() if p.get("nav")]
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand(t("app_title", lang), href="/", className="fw-bold"),
        dbc.Nav(links, navbar=True, className="me-auto"),
        html.Span(id=ids.CLOCK, className="pw-clock me-3"),
        dbc.Button(t("language", lang), id=ids.LANG_TOGGLE, size="sm", color="secondary", outline=True),
    ], fluid=True), color="dark", dark=True, className="pw-navbar mb-2")


def layout():
    lang = runtime.lang()
    tick = runtime.settings().tick_ms
    return html.Div([
        dcc.Location(id=ids.URL, refresh="callback-nav"),
        dcc.Store(id=ids.VERSIONS, data=None),
        dcc.Store(id=ids.HEARTBEAT, data=None),
        dcc.Store(id=ids.LANG, data=lang),
        dcc.Store(id=ids.I18N, data=table(lang)),
        dcc.Interval(id=ids.TICK, interval=tick, n_intervals=0),
        navbar(lang),
        html.Div(id=ids.BANNER, className="pw-banner", role="alert"),
        dbc.Container(dash.page_container, fluid=True, className="pw-main"),
    ], lang="zh-CN" if lang == "zh" else "en")
