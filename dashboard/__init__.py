"""The Dash app: factory, layout shell, shared components, and the read side of Redis."""
from __future__ import annotations

import logging
from pathlib import Path

import dash
import dash_bootstrap_components as dbc  # noqa: F401  (registers the component library)

from collectors.redis_schema import connect
from config import ROOT_DIR
from config import settings as settings_mod
from config.clock import Clock
from dashboard import render_memo, runtime, security, wallconfig
from dashboard.api import create_blueprint
from dashboard.i18n import t
from dashboard.scope import is_kiosk
from dashboard.store import Store
from dashboard.theme import CSS, DARK

HERE = Path(__file__).resolve().parent
THEME_DARK = CSS[DARK]   # the stylesheet Dash links; interpolate_index swaps in the viewer's


MAX_REQUEST_BYTES = 1 << 20   # no legitimate callback payload comes near 1 MB
log = logging.getLogger("dashboard")


def _keep_last_values(err: Exception):
    """A callback that fails leaves the screen as it was (no traceback reaches the browser)."""
    log.exception("callback failed: %s", err)
    return None   # Dash turns None into no_update for every output


class PeakwatchDash(dash.Dash):
    """Writes the viewer's look into the page itself (theme CSS, data-pw-theme, the kiosk class,
    lang), so the first paint is already right and the browser never shows the other theme."""

    def interpolate_index(self, **kwargs):
        from flask import request
        kiosk = request.path.startswith("/wall") or is_kiosk(request.args)
        theme = runtime.theme(kiosk)
        kwargs["css"] = kwargs.get("css", "").replace(THEME_DARK, CSS[theme])
        attrs = (f'lang="{"en" if runtime.lang() == "en" else "zh-CN"}" data-pw-theme="{theme}" '
                 f'data-ag-theme-mode="{theme}"' + (' class="pw-kiosk"' if kiosk else ""))
        return super().interpolate_index(**kwargs).replace("<html>", f"<html {attrs}>", 1)


def _register_bundles(app: dash.Dash) -> None:
    """Dash registers its script bundles (lazy chunks included) while rendering the index page.
    Each web worker is a fresh process, and one whose first request is a chunk would answer
    500 and leave the screen on "Loading…". Render the index once, here, in every process.

    Dash also finishes its set-up (callbacks into the callback map, the pages router) in hooks of
    the first request, and marks it done before it is: a fresh worker's concurrent first requests
    (a thousand screens reconnecting) then answered 500, "Callback function not found". One
    request here runs those hooks before the server takes any (a public path: no guard)."""
    with app.server.test_request_context("/"):
        app.index()
    app.server.test_client().get("/_favicon.ico")


def create_app(settings=None) -> dash.Dash:
    settings = settings or settings_mod.load()
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set: the web tier reads Redis and nothing else")
    runtime.install(Store(connect(settings.redis_url), Clock.from_env()), settings)
    wallconfig.load()   # a malformed wall playlist stops the start, naming the entry
    app = PeakwatchDash(
        __name__, use_pages=True, pages_folder=str(HERE / "pages"),
        assets_folder=str(ROOT_DIR / "assets"), assets_ignore=r"^bootswatch-",
        external_stylesheets=[{"href": THEME_DARK, "rel": "stylesheet", "id": "theme-css"}],
        title=t("app_title"), update_title=None, serve_locally=True,
        suppress_callback_exceptions=True, compress=False, on_error=_keep_last_values,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}])
    app.server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.server.register_blueprint(create_blueprint(runtime.store, settings.tick_cache_ms / 1000))
    security.install(app)    # logins, the scope guard on every request, CSP; refuses prod without SECRET_KEY
    render_memo.install(app.server, settings.render_memo_s)   # after the guard: one render per change
    from dashboard import shell
    from dashboard.callbacks import overview, shell as shell_callbacks  # noqa: F401  (registers callbacks)
    from dashboard.callbacks import (ack, keycustomers, load, nav, ops, outages, repairs, sensitive,  # noqa: F401
                                     wall, warnings)
    app.layout = shell.layout
    _register_bundles(app)
    return app
