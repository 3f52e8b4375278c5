"""Who is asking: a logged-in user, an SSO user vouched for by the configured proxy, a kiosk
token, or (dev mode only) an anonymous viewer. Checked against the app DB, so a disabled user or a
revoked token stops working at its next request once the worker's look-up of that account is older
than PEAKWATCH_ACCOUNT_RECHECK_MS (default 1 s, one wall tick; 0 checks on every request). Every
screen ticks each second: one look-up per account per second per worker instead of one per tick."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import current_app, request, session

from dashboard.security import accounts
from dashboard.security.db import ROLES, WHOLE_TREE
from dashboard.security.recent import RecentLookups

log = logging.getLogger("dashboard.security")
USER, SSO, KIOSK, ANONYMOUS = "user", "sso", "kiosk", "anonymous"


@dataclass(frozen=True)
class Principal:
    kind: str
    name: str
    role: str
    scope: str | None          # a node code; None is the whole tree
    playlist: str | None = None

    def can(self, role: str) -> bool:
        """Kiosk tokens are read-only whatever else they are bound to."""
        return self.kind != KIOSK and ROLES.index(self.role) >= ROLES.index(role)


_recent = RecentLookups()


def _account(kind: str, key, lookup):
    eng = engine()
    return _recent.get((eng, kind, key), lambda: lookup(eng, key), config().account_recheck_s)


def config():
    return current_app.config["PW_SECURITY"]


def engine():
    return current_app.config["PW_APP_DB"]


def scope_of(stored: str) -> str | None:
    return None if stored == WHOLE_TREE else stored


def _from_user(user, kind: str) -> Principal | None:
    if user is None or user.disabled:
        return None
    return Principal(kind, user.name, user.role, scope_of(user.scope))


def _sso() -> Principal | None:
    cfg = config()
    name = request.headers.get(cfg.sso_header) if cfg.sso_header else None
    if not name:
        return None
    if request.remote_addr not in cfg.trusted_proxies:
        log.warning("ignored %s header from %s: not a trusted proxy", cfg.sso_header, request.remote_addr)
        return None
    return _from_user(_account("name", name, accounts.get_user), SSO)   # SSO says who; the app DB says what


def client_address() -> str:
    """The browser's address: a trusted proxy's X-Forwarded-For (the hop it appended), else the peer."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if request.remote_addr in config().trusted_proxies and forwarded:
        return forwarded.split(",")[-1].strip()[:64]
    return request.remote_addr or "-"


def _session_user() -> Principal | None:
    cfg, now = config(), time.time()
    if now - session.get("seen", 0) > cfg.session_idle_minutes * 60 or \
            now - session.get("born", 0) > cfg.session_max_hours * 3600:
        return None
    user = _account("uid", session["uid"], accounts.user_by_id)
    if user is None or user.session_epoch != session.get("epoch"):
        return None          # password changed or account disabled since this login
    return _from_user(user, USER)


def _session_kiosk() -> Principal | None:
    token = _account("tid", session["tid"], accounts.token_by_id)
    if token is None or token.revoked:
        return None
    return Principal(KIOSK, f"kiosk:{token.label}", "viewer", scope_of(token.scope), token.playlist)


def current() -> Principal | None:
    """The request's principal, or None: the caller answers 401 or sends to the login page."""
    found = _sso()
    if found is None and "uid" in session:
        found = _session_user()
    elif found is None and "tid" in session:
        found = _session_kiosk()
    if found is None and not config().auth_required:
        found = Principal(ANONYMOUS, "anonymous", "viewer", None)
    return found


def touch() -> None:
    """Idle expiry counts from the last request; rewrite the cookie at most once a minute."""
    if ("uid" in session or "tid" in session) and time.time() - session.get("seen", 0) > 60:
        session["seen"] = time.time()
