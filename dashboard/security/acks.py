"""Acknowledging a service warning: POST /api/v1/warnings/ack, and the acknowledged state every
screen shows. The app DB is the record (and the audit log says who, when, the level they saw and
what they wrote); Redis only tells which warning is current, so an acknowledgement applies to the
warning episode it was given for (node, level, start) and lapses when the level changes."""
from __future__ import annotations

import time

from flask import Blueprint, g, jsonify, request
from sqlalchemy import func, insert, select

from dashboard import runtime
from dashboard.api import valid_code
from dashboard.security import accounts, csrf, regions
from dashboard.security.db import acknowledgements, now_iso
from dashboard.security.principal import client_address, engine
from dashboard.store import RedisUnavailable

MAX_COMMENT = 500
VERSION_TTL_S = 1.0        # the tick asks every second or two; one query per second per worker
_version_cache = {"at": 0.0, "url": None, "value": 0}


def version(eng) -> int:
    """The newest acknowledgement's id: the tick's "acks" version, so screens refresh on a new one."""
    now = time.monotonic()
    if now - _version_cache["at"] > VERSION_TTL_S or _version_cache["url"] != str(eng.url):
        with eng.connect() as conn:
            value = conn.execute(select(func.max(acknowledgements.c.id))).scalar() or 0
        _version_cache.update(at=now, url=str(eng.url), value=value)
    return _version_cache["value"]


def current(eng, warnings: list[dict]) -> dict[str, dict]:
    """The acknowledgement standing for each of these warnings (code -> ack), newest first."""
    raised = {w["code"]: w for w in warnings if w.get("level")}
    if not raised:
        return {}
    with eng.connect() as conn:
        rows = conn.execute(select(acknowledgements).where(acknowledgements.c.node_code.in_(list(raised)))
                            .order_by(acknowledgements.c.id.desc())).all()
    out: dict[str, dict] = {}
    for r in rows:
        w = raised[r.node_code]
        if r.node_code not in out and r.level == w["level"] and r.started_at == w.get("started_at"):
            out[r.node_code] = {"code": r.node_code, "level": r.level, "user": r.user_name, "at": r.at,
                                "comment": r.comment}
    return out


def _refusal(who, body):
    if not who.can("operator"):
        return 403, "operator role required"
    problem = csrf.problem()
    if problem:
        return 403, problem
    if not isinstance(body, dict) or not valid_code(body.get("code")):
        return 400, "code required"
    comment = body.get("comment")
    if not isinstance(comment, str) or not comment.strip() or len(comment) > MAX_COMMENT:
        return 400, f"comment required (1 to {MAX_COMMENT} characters)"
    return None


def acknowledge(who, store, body):
    """Check, record and audit one acknowledgement; (status, JSON body)."""
    refusal = _refusal(who, body)
    if refusal:
        return refusal[0], {"error": refusal[1]}
    code = body["code"]
    if not regions.covers(who, code, store):
        return 403, {"error": "outside your scope"}
    warning = store.entry("warnings", code)
    if not warning or not warning.get("level"):
        return 409, {"error": "no warning to acknowledge", "code": code}
    if "level" in body and body["level"] != warning["level"]:
        return 409, {"error": "the warning changed since it was shown", "level": warning["level"]}
    eng, at = engine(), now_iso()
    with eng.begin() as conn:
        ack_id = conn.execute(insert(acknowledgements).values(
            node_code=code, level=warning["level"], started_at=warning.get("started_at"),
            comment=body["comment"].strip(), user_name=who.name, at=at)).inserted_primary_key[0]
    _version_cache["at"] = 0.0          # this worker's screens see it at their next tick
    accounts.audit(eng, who.name, "ack", code, client_address(), old_level=warning.get("level_name"),
                   started_at=warning.get("started_at"), new_state="acknowledged", comment=body["comment"].strip())
    return 201, {"id": ack_id, "code": code, "level": warning["level"], "user": who.name, "at": at}


def blueprint() -> Blueprint:
    bp = Blueprint("acks", __name__)

    @bp.post("/api/v1/warnings/ack")
    def ack():
        try:
            status, body = acknowledge(g.principal, runtime.store(), request.get_json(silent=True))
        except RedisUnavailable:
            status, body = 503, {"error": "redis unavailable"}
        return jsonify(body), status

    return bp
