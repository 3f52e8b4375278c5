"""Read-only JSON API, served from Redis: /api/health, /api/v1/versions, /api/v1/regions,
/api/v1/summary, /api/v1/warnings, /api/v1/warnings/history. Errors are JSON with a 4xx/503
status, never a traceback."""
from __future__ import annotations

import re

from flask import Blueprint, Response, g, jsonify, request

from dashboard.store import RedisUnavailable, Store
from dashboard.tick import TickCache

CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
RECENT_REJECTS = 20
HISTORY_DEFAULT = 200   # warning level changes per request
HISTORY_MAX = 2000


def valid_code(code) -> bool:
    return isinstance(code, str) and bool(CODE.match(code))


def error(status: int, message: str, **extra):
    resp = jsonify({"error": message, **extra})
    resp.status_code = status
    return resp


def create_blueprint(store_factory, tick_cache_s: float = 0.0) -> Blueprint:
    # imported here: the security package itself uses valid_code from this module
    from dashboard.security import acks
    from dashboard.security.principal import engine
    from dashboard.security.regions import visible
    api = Blueprint("api", __name__)

    @api.errorhandler(RedisUnavailable)
    def redis_down(exc):
        return error(503, "redis unavailable", detail=str(exc)[:200], redis={"ok": False})

    @api.get("/api/health")
    def health():
        store: Store = store_factory()
        try:
            collectors = store.health()
            redis_ok = True
        except RedisUnavailable as exc:
            return jsonify({"redis": {"ok": False, "error": str(exc)[:200]}, "collectors": {}}), 503
        now = store.clock.now()
        for h in collectors.values():
            h["age_s"] = _age(now, h.get("last_success"))
            h["stale"] = h["age_s"] is None or h["age_s"] > (h.get("stale_after_s") or float("inf"))
        return jsonify({"redis": {"ok": redis_ok}, "now": now.isoformat(timespec="seconds"),
                        "collectors": collectors, "datasets": store.staleness(store.as_of().keys()),
                        "processes": store.processes(), "rejects": store.rejects(RECENT_REJECTS)})

    def tick_state() -> dict:
        state = store_factory().tick()
        state["v"]["acks"] = acks.version(engine())    # a new acknowledgement refreshes screens too
        return state

    ticks = TickCache(tick_state, ttl_s=tick_cache_s)

    @api.get("/api/v1/versions")
    def versions():
        """The refresh tick: the only request an unchanged screen makes. 304 when nothing moved
        since the ETag the screen holds, else what moved (or everything)."""
        now = store_factory().clock.now().isoformat(timespec="seconds")
        try:
            etag, body = ticks.answer(request.headers.get("If-None-Match"))
        except RedisUnavailable:
            # 200 on purpose: the page shows the outage as data, and the browser logs no error
            return jsonify({"ok": False, "redis": False, "now": now})
        if body is None:
            resp = Response(status=304)
            resp.headers["X-Now"] = now       # the screen's clock for the tiles' ages
        else:
            resp = jsonify({"ok": True, "now": now, **body})
        resp.headers["ETag"] = etag
        return resp

    @api.get("/api/v1/regions")
    def regions():
        return jsonify(visible(g.principal, store_factory().regions()))

    @api.get("/api/v1/summary")
    def summary():
        store: Store = store_factory()
        code = request.args.get("region") or default_region(g.principal, store)
        if code is None:
            return error(503, "topology not loaded yet")
        if not valid_code(code):
            return error(400, "malformed region code", region=code[:40])
        if store.node(code) is None:
            return error(404, "unknown region", region=code)
        return jsonify(store.summary(code))

    @api.get("/api/v1/warnings")
    def warnings():
        """Service warnings of the region and the evaluated nodes below it, with their reasons."""
        store: Store = store_factory()
        code, problem = _region(store)
        if problem:
            return problem
        nodes = store.warnings_below(code)
        names = store.entries("topology", [n["code"] for n in nodes])
        for n, info in zip(nodes, names):
            n.update(name=info["name"] if info else None, grid_level=info["level"] if info else None)
        return jsonify({"region": code, "as_of": store.as_of().get("warnings"), "nodes": nodes})

    @api.get("/api/v1/warnings/history")
    def warnings_history():
        """Level changes at the region and below, newest first (?limit=1..HISTORY_MAX)."""
        store: Store = store_factory()
        code, problem = _region(store)
        if problem:
            return problem
        raw = request.args.get("limit", str(HISTORY_DEFAULT))
        if not raw.isdigit() or not 1 <= int(raw) <= HISTORY_MAX:
            return error(400, f"limit must be an integer from 1 to {HISTORY_MAX}", limit=raw[:20])
        return jsonify({"region": code, "changes": store.warning_history(code, int(raw))})

    return api


def default_region(principal, store: Store):
    from dashboard.security.regions import default_region as scope_default
    return scope_default(principal, store)


def _region(store: Store):
    """The ?region= code (default: the viewer's scope, else the city) and None, or None and the
    4xx/503 to answer with. The scope itself is checked by dashboard/security/guard.py."""
    code = request.args.get("region") or default_region(g.principal, store)
    if code is None:
        return None, error(503, "topology not loaded yet")
    if not valid_code(code):
        return None, error(400, "malformed region code", region=code[:40])
    if store.node(code) is None:
        return None, error(404, "unknown region", region=code)
    return code, None


def _age(now, iso):
    from datetime import datetime
    return None if not iso else round((now - datetime.fromisoformat(iso)).total_seconds(), 1)
