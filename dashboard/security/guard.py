"""The one gate every request passes (Flask before_request): who is asking, and whether the
region the request names is inside their scope. Pages and callbacks need no checks of their own:
a callback only ever runs for a region this gate let through."""
from __future__ import annotations

import logging
from urllib.parse import quote

from dash import html
from flask import current_app, g, jsonify, redirect, request
from plotly.io.json import to_json_plotly

from dashboard import runtime
from dashboard.i18n import t
from dashboard.scope import href
from dashboard.security import login, principal, regions
from dashboard.store import RedisUnavailable

log = logging.getLogger("dashboard.security")
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico", "/login")
CALLBACK = "/_dash-update-component"
ROUTING_OUTPUT = "_pages_content.children"


def json_error(status: int, message: str):
    resp = jsonify({"error": message})
    resp.status_code = status
    return resp


def page_content(component, refused: bool):
    """The page-routing callback's answer with `component` as the page: a 200 the Dash renderer
    shows (a 4xx would leave the previous page up and log an error)."""
    body = to_json_plotly({"multi": True, "response": {"_pages_content": {"children": component}}})
    return body, 200, {"Content-Type": "application/json", "X-Peakwatch-Refused": "scope" if refused else "redis"}


def forbidden_component(who: principal.Principal):
    lang = runtime.lang()
    home = href(regions.OVERVIEW, who.scope)
    return html.Div([html.Div(t("sec_forbidden", lang), className="alert alert-warning pw-message"),
                     html.A(t("sec_go_home", lang), href=home, className="btn btn-outline-primary")],
                    className="m-4", id="pw-forbidden")


def unauthenticated():
    if request.path.startswith(("/api/", "/_dash-")) or request.method != "GET":
        return json_error(401, "login required")
    target = request.full_path if request.query_string else request.path
    return redirect(f"/login?next={quote(target, safe='/')}", 303)


def check_callback(who, store):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return None                     # Dash answers malformed requests itself (4xx)
    routing = ROUTING_OUTPUT in str(body.get("output", ""))
    targets = regions.callback_targets(body, current_app.config["PW_DASH_APP"].callback_map)
    if targets is None:
        return json_error(400, "malformed callback request")
    try:
        refused = [x for x in targets if not regions.allows(who, x, store)]
    except RedisUnavailable:
        return page_content(html.Div(t("redis_down", runtime.lang()), className="alert alert-secondary m-4"),
                            refused=False) if routing else ("", 204)
    if not refused:
        return None
    log.warning("refused callback %s for %s: %s", body.get("output"), who.name, refused[0])
    return page_content(forbidden_component(who), refused=True) if routing else json_error(403, "outside your scope")


def check_api(who, store):
    code = request.args.get("region")
    if not code:
        return None                     # the API defaults to the principal's scope
    try:
        inside = regions.covers(who, code, store)
    except RedisUnavailable:
        return json_error(503, "redis unavailable")
    return None if inside else json_error(403, "outside your scope")


def check_page(who, store):
    """A page load outside the scope: the scope's own page when the path named no node, else 403."""
    target = regions.page_target(request.path)
    if target is None:
        return None
    try:
        if regions.allows(who, target, store):
            return None
        at_scope = regions.Target(target.page, who.scope)
        redirect_home = target.code is None and who.scope is not None and regions.allows(who, at_scope, store)
    except RedisUnavailable:
        return None                     # the index carries no data; its callbacks are checked
    if redirect_home:
        query = f"?{request.query_string.decode()}" if request.query_string else ""
        return redirect(href(target.page, who.scope) + query, 303)
    return login.message(t("sec_forbidden", runtime.lang()), 403, href(regions.OVERVIEW, who.scope))


def guard():
    if request.path.startswith(PUBLIC_PREFIXES):
        return None
    if request.method == "GET" and login.TOKEN_PARAM in request.args and not request.path.startswith("/api/"):
        return login.exchange_token()
    who = principal.current()
    if who is None:
        return unauthenticated()
    g.principal = who
    principal.touch()
    store = runtime.store()
    if request.path == CALLBACK:
        return check_callback(who, store)
    if request.path.startswith("/api/"):
        return check_api(who, store)
    if request.method == "GET" and not request.path.startswith("/_"):
        return check_page(who, store)
    return None
