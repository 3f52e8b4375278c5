"""Plain Flask pages outside Dash: GET/POST /login, POST /logout, and the kiosk token exchange
(a wall opens /wall?kiosk=1&token=…; the token becomes a session and leaves the address bar)."""
from __future__ import annotations

import math
import time
from urllib.parse import urlencode

from flask import Blueprint, g, redirect, render_template, request, session

from dashboard import runtime
from dashboard.i18n import t
from dashboard.security import accounts, csrf, ratelimit
from dashboard.security.principal import ANONYMOUS, client_address, config, engine

TOKEN_PARAM = "token"


def render(template: str, status: int = 200, **values):
    lang = runtime.lang()
    html = render_template(template, t=t, lang=lang, app_title=t("app_title", lang), **values)
    return html, status, {"Content-Type": "text/html; charset=utf-8"}


def message(text: str, status: int, link: str | None = None):
    return render("message.html", status, title=text, message=text, link=link,
                  link_text=t("sec_go_home", runtime.lang()))


def safe_next(raw: str | None) -> str:
    """Only a path on this site: never //host or a scheme (no open redirect)."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/"
    return raw


def login_form(status: int = 200, error: str | None = None, user: str = ""):
    return render("login.html", status, title=t("sec_login_title", runtime.lang()), error=error,
                  csrf=csrf.token(), next=safe_next(request.values.get("next")), user=user)


def start_session(**values) -> None:
    """A fresh session (no fixation): old keys, the old CSRF token included, are dropped."""
    session.clear()
    now = time.time()
    session.update(born=now, seen=now, **values)
    csrf.token()


def attempt_login():
    lang, eng, address = runtime.lang(), engine(), client_address()
    if csrf.problem():
        return login_form(400, t("sec_bad_request", lang))
    name = (request.form.get("user") or "").strip()[:64]
    wait = ratelimit.locked_for(eng, config(), name, address)
    if wait > 0:
        accounts.audit(eng, name or "-", "login_locked", name, address)
        return login_form(429, t("sec_locked", lang, n=math.ceil(wait / 60)), name)
    user = accounts.verify_password(eng, name, request.form.get("password") or "")
    ratelimit.record(eng, name, address, ok=user is not None)
    if user is None:
        accounts.audit(eng, name or "-", "login_failed", name, address)
        return login_form(401, t("sec_bad_login", lang), name)
    start_session(uid=user.id, epoch=user.session_epoch)
    accounts.audit(eng, user.name, "login", user.name, address)
    return redirect(safe_next(request.form.get("next")), 303)


def exchange_token():
    """A kiosk URL with ?token=: check it, keep it as a long-lived session, drop it from the URL."""
    token = accounts.token_by_secret(engine(), request.args.get(TOKEN_PARAM, ""))
    if token is None or token.revoked:
        return message(t("sec_token_invalid", runtime.lang()), 401)
    start_session(tid=token.id)
    session.permanent = True          # the wall keeps it across browser restarts; revocation ends it
    accounts.audit(engine(), f"kiosk:{token.label}", "kiosk_session", str(token.id), client_address())
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != TOKEN_PARAM]
    return redirect(request.path + (f"?{urlencode(rest)}" if rest else ""), 303)


def blueprint() -> Blueprint:
    bp = Blueprint("security", __name__, template_folder="templates")

    @bp.route("/login", methods=["GET", "POST"])
    def login():
        return attempt_login() if request.method == "POST" else login_form()

    @bp.post("/logout")
    def logout():
        if csrf.problem():
            return message(t("sec_bad_request", runtime.lang()), 400)
        who = g.get("principal")
        if who is not None and who.kind != ANONYMOUS:
            accounts.audit(engine(), who.name, "logout", who.name, client_address())
        session.clear()
        return redirect("/login", 303)

    return bp
