"""Cross-site request forgery: every write (login, logout, acknowledgement) must come from a page
of this origin (Origin, else Referer) and carry the session's CSRF token. SameSite=Lax cookies
are the third layer, not the only one: intranet browsers are not all new."""
from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlparse

from flask import request, session

HEADER = "X-CSRF-Token"
FIELD = "csrf_token"


def token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def same_origin() -> bool:
    """The request's Origin (or, without one, its Referer) names this host."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    return urlparse(source).netloc == request.host


def problem() -> str | None:
    """Why this write is refused, or None when it may go on."""
    if not same_origin():
        return "cross-origin request"
    sent = request.headers.get(HEADER) or request.form.get(FIELD) or ""
    expected = session.get("csrf")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return "missing or wrong CSRF token"
    return None
