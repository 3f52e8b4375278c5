"""Response headers on everything the server sends, and errors without tracebacks.

The Content-Security-Policy allows the app's own origin only; that is also the intranet
guarantee (a page cannot load or send anything elsewhere). No 'unsafe-eval' and no inline
scripts; the relaxations, each one needed by a library Chromium showed violating the policy
without it (tests/test_security_browser.py fails on any violation in the console):
  script-src  'sha256-…'      Dash's own inline boot script (hashed by app.csp_hashes, not
                               'unsafe-inline')
  style-src   'unsafe-inline' Plotly, AG Grid and React set style attributes and <style> tags
  img-src     data:           AG Grid's icons (inline SVG)
Responses that are not HTML documents (the JSON API, callback answers, scripts) get the
strictest policy instead (default-src 'none'), and the tick's 304 no
headers of this kind at all: it has no body for a policy to govern.
"""
from __future__ import annotations

import logging

from flask import jsonify, request

log = logging.getLogger("dashboard.security")


API_POLICY = "default-src 'none'; frame-ancestors 'none'"


def policy(script_hashes: list[str]) -> str:
    hashes = " ".join(script_hashes)          # Dash gives them quoted: 'sha256-…'
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' {hashes}".strip(),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def install(app) -> None:
    server = app.server
    cached: dict[str, str] = {}

    @server.after_request
    def secure_headers(resp):
        if resp.status_code == 304:
            return resp     # no body for any policy to govern (the tick's 304), and every byte counts
        resp.headers["X-Content-Type-Options"] = "nosniff"
        if request.path.startswith(("/api/", "/login", "/logout")):
            resp.headers["Cache-Control"] = "no-store"
        if resp.mimetype != "text/html":
            # JSON (the API, callback answers) and scripts are never documents: nothing may load
            # from them and nothing may frame them. The short policy also keeps the screens'
            # ticks and refreshes (one every second or two per wall) small.
            resp.headers["Content-Security-Policy"] = API_POLICY
            return resp
        if "csp" not in cached:
            # the hashes exist once every callback is registered, i.e. by the first response
            cached["csp"] = policy(app.csp_hashes())
        resp.headers["Content-Security-Policy"] = cached["csp"]
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "same-origin"
        return resp

    @server.errorhandler(Exception)
    def no_traceback(exc):
        from werkzeug.exceptions import HTTPException
        if isinstance(exc, HTTPException):
            return exc          # 404, 405, 413 …: Werkzeug's own short answer
        log.exception("unhandled error on %s", request.path)
        resp = jsonify({"error": "internal error"})
        resp.status_code = 500
        return resp
