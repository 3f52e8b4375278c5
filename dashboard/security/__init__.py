"""Who may see and do what (issue 8; the model is in docs/security.md): the app DB of users,
kiosk tokens and acknowledgements, the login pages, the request guard that holds every page,
API call and Dash callback to the principal's region scope, and the secure response headers."""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import request
from flask.sessions import SecureCookieSessionInterface

from config import settings as settings_mod
from dashboard.security import text  # noqa: F401  (adds the feature's strings to the i18n table)
from dashboard.security import acks, db, guard, headers, login
from dashboard.security.recent import RecentLookups

log = logging.getLogger("dashboard.security")
KIOSK_COOKIE_DAYS = 30


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the browser reached us over https (directly,
    or through a configured proxy that says so).

    Checking and decoding the cookie (HMAC, base64, zlib, JSON) was 12 % of a worker's time on a
    refresh; every screen sends the same cookie each second, so a worker keeps what a cookie text
    decoded to, for at most DECODED_FOR_S (the 30-day expiry is then checked up to that late), by
    its exact text, signature included (a bad signature decodes to an empty session)."""

    DECODED_FOR_S = 60.0

    def __init__(self):
        self._decoded = RecentLookups()

    def open_session(self, app, request):
        raw = request.cookies.get(self.get_cookie_name(app))
        if not raw:
            return super().open_session(app, request)
        decode = super().open_session
        return self.session_class(self._decoded.get((raw,), lambda: dict(decode(app, request)),
                                                    self.DECODED_FOR_S))

    def get_cookie_secure(self, app) -> bool:
        proxies = app.config["PW_SECURITY"].trusted_proxies
        forwarded = request.remote_addr in proxies and request.headers.get("X-Forwarded-Proto") == "https"
        return request.is_secure or forwarded


def secret_key(cfg) -> str:
    if cfg.secret_key:
        return cfg.secret_key
    if cfg.production:
        raise RuntimeError("PEAKWATCH_ENV=production needs SECRET_KEY (e.g. python -c "
                           "'import secrets; print(secrets.token_urlsafe(48))')")
    # dev without app.py (which keeps one under var/): sessions last as long as this process
    log.warning("SECRET_KEY is not set: using a random one; sessions end when the server stops")
    return secrets.token_urlsafe(48)


def install(app, cfg=None) -> None:
    cfg = cfg or settings_mod.load_security()
    server = app.server
    server.config.update(
        SECRET_KEY=secret_key(cfg), PW_SECURITY=cfg, PW_APP_DB=db.engine(cfg.app_db_url),
        SESSION_COOKIE_NAME="pw_session", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(days=KIOSK_COOKIE_DAYS), DEBUG=False, PW_DASH_APP=app,
        # the cookie is re-sent only when the session changes (principal.touch: once a minute), not
        # on every tick: a kiosk's unchanged tick stays a bare 304
        SESSION_REFRESH_EACH_REQUEST=False)
    server.session_interface = SessionInterface()
    server.before_request(guard.guard)
    server.register_blueprint(login.blueprint())
    server.register_blueprint(acks.blueprint())
    headers.install(app)
