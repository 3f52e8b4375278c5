"""The web tier's process-wide objects (set once by create_app): the store and the settings."""
from __future__ import annotations

from dashboard.store import Store

_state: dict = {}


def install(store: Store, settings) -> None:
    _state["store"], _state["settings"] = store, settings


def store() -> Store:
    return _state["store"]


def settings():
    return _state["settings"]


def principal():
    """Who the current request is for (the security guard sets it), or None outside a request."""
    from flask import g, has_request_context
    return g.get("principal") if has_request_context() else None


def lang() -> str:
    """The viewer's language: the cookie the language switch sets (remembered per browser)."""
    from flask import has_request_context, request
    if has_request_context() and request.cookies.get("pw_lang") == "en":
        return "en"
    return "zh"


def theme(kiosk: bool = False) -> str:
    """Dark on the wall; on a desk what the theme switch set (cookie pw_theme), light by default."""
    from flask import has_request_context, request

    from dashboard.theme import DARK, LIGHT
    if kiosk:
        return DARK
    if has_request_context() and request.cookies.get("pw_theme") == DARK:
        return DARK
    return LIGHT
