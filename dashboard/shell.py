"""The layout shell around every page: title bar, navigation, banner, refresh tick, stores."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import ids, runtime, wallconfig
from dashboard.i18n import t, table
from dashboard.security import regions, views
from dashboard.store import RedisUnavailable


def navbar(lang: str) -> dbc.Navbar:
    # each link follows the node in view (callbacks/nav.py), so switching pages keeps the scope
    links = [dbc.NavItem(dbc.NavLink(t(p["name"], lang), href=p["relative_path"],
                                     active="exact" if p["path"] == "/" else "partial",
                                     id=ids.nav(p.get("slug", "overview"))))
             for p in dash.page_registry.values() if p.get("nav")]
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand(t("app_title", lang), href="/", className="fw-bold"),
        dbc.Nav(links, navbar=True, className="me-auto"),
        html.Span(id=ids.CLOCK, className="pw-clock me-3"),
        # a plain link: the wall is a full page load (dark look, no chrome, the playlist)
        html.A(t("wall", lang), href="/wall", id=ids.WALL_LINK, className="btn btn-sm btn-outline-light me-2"),
        dbc.Button(t("theme_toggle", lang), id=ids.THEME_TOGGLE, size="sm", color="light", outline=True,
                   className="me-2"),
        dbc.Button(t("language", lang), id=ids.LANG_TOGGLE, size="sm", color="light", outline=True,
                   className="me-2"),
        views.user_menu(lang),
    ], fluid=True), color="primary", dark=True, className="pw-navbar mb-2")


def playlist() -> dict:
    """The wall playlist; used only in kiosk mode (callbacks/wall.py rotates through it). A kiosk
    token's playlist, rooted at its node, with only the screens its scope covers."""
    store = runtime.store()
    who = views.viewer()
    try:
        districts = store.children(store.city_code() or "")
        data = wallconfig.browser_data(districts, who and who.playlist, who and who.scope)
        data["screens"] = [s for s in data["screens"] if regions.allows_url(who, s["url"], store)]
    except RedisUnavailable:
        # the district entries come back with the next scheduled reload
        data = wallconfig.browser_data([], who and who.playlist, who and who.scope)
    return data


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
        dcc.Store(id=ids.PLAYLIST, data=playlist()),
        navbar(lang),
        html.Div(id=ids.BANNER, className="pw-banner", role="alert"),
        views.strip(runtime.store(), views.versions_now(), lang),
        dbc.Container(dash.page_container, fluid=True, className="pw-main"),
    ], lang="zh-CN" if lang == "zh" else "en")
