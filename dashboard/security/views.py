"""What the security feature adds to the screens: the signed-in user with a sign-out button (the
navigation bar), the strip of acknowledged warnings (every screen, the wall too), and the
acknowledgement form (the warnings page, operators only)."""
from __future__ import annotations

from datetime import datetime

import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import g, has_request_context
from sqlalchemy.exc import SQLAlchemyError

from config.clock import CST
from dashboard import ids, runtime
from dashboard.i18n import t
from dashboard.security import acks, csrf, regions
from dashboard.security.principal import ANONYMOUS, engine
from dashboard.store import RedisUnavailable
from dashboard.warning_tiles import LEVELS

STRIP_ITEMS = 6
STRIP_VERSIONS = ("acks", "warnings", "topology")


def viewer():
    return g.get("principal") if has_request_context() else None


def user_menu(lang: str):
    """Name and role, and a sign-out form (a POST with the CSRF token, never a link)."""
    who = viewer()
    if who is None or who.kind == ANONYMOUS:
        label = t("sec_anonymous", lang) if who else ""
        return html.Span([label, " ", html.A(t("sec_login", lang), href="/login", className="text-light")],
                         className="pw-user me-2 small")
    return html.Form([
        html.Span(t("sec_signed_in_as", lang, name=who.name, role=t(f"sec_role_{who.role}", lang)),
                  className="pw-user me-2 small"),
        dcc.Input(type="hidden", name=csrf.FIELD, value=csrf.token()),
        html.Button(t("sec_logout", lang), type="submit", className="btn btn-sm btn-outline-light me-2"),
    ], method="post", action="/logout", className="d-flex align-items-center m-0")


def _level(level: int, lang: str) -> str:
    return t(f"warn_level_{LEVELS[level]}", lang)


def ack_line(ack: dict, name: str, lang: str) -> str:
    at = datetime.fromisoformat(ack["at"]).astimezone(CST)       # China time, as on every screen
    return f'{name} · ' + t("ack_by", lang, level=_level(ack["level"], lang), user=ack["user"],
                            at=f"{at:%m-%d %H:%M}", comment=ack["comment"])


def strip_items(store, lang: str) -> list:
    """The standing acknowledgements of warnings in the viewer's scope, newest first."""
    root = regions.default_region(viewer(), store)
    if root is None:
        return []
    standing = sorted(acks.current(engine(), store.warnings_below(root)).values(), key=lambda a: a["at"], reverse=True)
    shown = standing[:STRIP_ITEMS]
    names = store.entries("topology", [a["code"] for a in shown])
    return [html.Span(ack_line(a, n["name"] if n else a["code"], lang), className=f'pw-ack-item pw-warn-{a["level"]}')
            for a, n in zip(shown, names)]


def strip(store, versions: dict, lang: str):
    """The shell's strip; rendered with the page, then by callbacks/ack.py when acks or warnings move."""
    try:
        items = strip_items(store, lang)
    except (RedisUnavailable, SQLAlchemyError):
        items = []        # the strip never takes the page down; the next move re-renders it
    return html.Div([dcc.Store(id=ids.ACK_RENDERED, data={k: versions.get(k) for k in STRIP_VERSIONS}),
                     html.Div(items, id=ids.ACK_STRIP, className="pw-ack-strip", title=t("ack_strip", lang))])


def ack_form(code: str, warning: dict | None, lang: str):
    """The acknowledgement form of the node in view: operators only, and only for a raised level."""
    who = viewer()
    if who is None or not who.can("operator") or not warning or not warning.get("level"):
        return html.Div()
    standing = acks.current(engine(), [{"code": code, **warning}]).get(code)
    return html.Div([
        dcc.Store(id=ids.ACK_TARGET, data={"code": code, "level": warning["level"], "csrf": csrf.token()}),
        html.Div(t("ack_done", lang) + " · " + ack_line(standing, code, lang) if standing else "",
                 className="pw-note"),
        dbc.Textarea(id=ids.ACK_COMMENT, placeholder=t("ack_comment", lang), maxLength=acks.MAX_COMMENT,
                     rows=2, className="mb-2"),
        dbc.Button(t("ack_submit", lang), id=ids.ACK_SUBMIT, color="danger", size="sm"),
        html.Span(id=ids.ACK_RESULT, className="ms-2 pw-ack-result", role="status"),
    ], className="pw-ack mt-2")


def versions_now() -> dict:
    try:
        return {**runtime.store().versions(), "acks": acks.version(engine())}
    except (RedisUnavailable, SQLAlchemyError):
        return {}         # unknown versions: the strip re-renders at the first tick
