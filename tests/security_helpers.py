"""Helpers for the security tests: production-like auth on the session's web app, users, sign-in
through the real login form, and a raised warning published the way the collectors publish."""
from __future__ import annotations

import dataclasses
import re
from datetime import datetime

from collectors.publish import Dataset, publish
from dashboard.security import accounts, db

PASSWORD = "correct horse battery"
ORIGIN = "http://localhost"          # the Flask test client's host


def require_auth(web_app, monkeypatch, **overrides) -> None:
    """Login required (as in production) for this test, on a clean app DB."""
    cfg = web_app.server.config["PW_SECURITY"]
    monkeypatch.setitem(web_app.server.config, "PW_SECURITY",
                        dataclasses.replace(cfg, auth_required=True, **overrides))
    eng = app_db(web_app)
    with eng.begin() as conn:
        for table in reversed(db.meta.sorted_tables):
            conn.execute(table.delete())


def app_db(web_app):
    return web_app.server.config["PW_APP_DB"]


def add_user(web_app, name: str, role: str, scope: str) -> None:
    accounts.add_user(app_db(web_app), name, PASSWORD, role, scope, "test")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, name: str, password: str = PASSWORD):
    form = client.get("/login")
    return client.post("/login", data={"user": name, "password": password, "csrf_token": csrf_of(form.text),
                                       "next": "/"}, headers={"Origin": ORIGIN})


def signed_in(web_app, name: str, role: str, scope: str):
    client = web_app.server.test_client()
    add_user(web_app, name, role, scope)
    assert login(client, name).status_code == 303
    return client


def session_csrf(client) -> str:
    with client.session_transaction() as s:
        return s["csrf"]


def raise_warning(redis_client, *codes: str, level: int = 3, started_at: str = "2026-07-15T14:00:00") -> dict:
    """A warnings dataset in which these nodes are raised, through the collectors' atomic publish."""
    names = {1: "yellow", 2: "orange", 3: "red"}
    entry = {"level": level, "level_name": names[level], "reasons": [], "started_at": started_at,
             "changed_at": started_at, "evaluated_at": started_at, "raw_level": level, "raw_reasons": [],
             "pending_level": None, "pending_count": 0, "inputs": {}, "no_data": []}
    publish(redis_client, [Dataset("warnings", datetime.fromisoformat(started_at), dict.fromkeys(codes, entry))])
    return entry
