"""The refresh tick: one Redis read per cache window however many screens ask, 304 when nothing
moved, and a delta that rebuilds exactly the state a fresh full answer gives."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine

from collectors.base import Context
from collectors.plugins import REGISTRY
from collectors.runner import Runner
from collectors.sources.adapter import SourceAdapter
from config import settings as settings_mod
from config.clock import Clock
from dashboard.tick import TickCache, delta, etag_of
from tests.sourcedata import insert_order

STATE = {"v": {"orders": 3, "load": 7}, "as_of": {"orders": "2026-07-15T14:00:00", "load": "2026-07-15T13:59:00"},
         "stale_after": {"orders": 15, "load": 180}}


def apply_delta(state: dict, moved: dict) -> dict:
    """What assets/peakwatch.js does with a delta."""
    out = {s: dict(state.get(s, {})) for s in ("v", "as_of", "stale_after")}
    for section, keys in moved.items():
        for k, v in keys.items():
            if v is None:
                out[section].pop(k, None)
            else:
                out[section][k] = v
    return out


class Source:
    def __init__(self, state):
        self.state, self.reads = state, 0

    def __call__(self):
        self.reads += 1
        return json.loads(json.dumps(self.state))


def test_one_read_serves_every_tick_inside_the_window():
    source = Source(STATE)
    cache = TickCache(source, ttl_s=3600)
    answers = {cache.answer(None)[0] for _ in range(50)}
    assert source.reads == 1 and answers == {etag_of(STATE)}
    cache.forget()
    cache.answer(None)
    assert source.reads == 2


def test_zero_window_reads_every_time():
    source = Source(STATE)
    cache = TickCache(source, ttl_s=0)
    for _ in range(3):
        cache.answer(None)
    assert source.reads == 3


def test_not_modified_delta_and_full():
    source = Source(STATE)
    cache = TickCache(source, ttl_s=0)
    held, body = cache.answer(None)
    assert body == STATE
    assert cache.answer(held) == (held, None)                              # nothing moved: 304
    source.state = {**STATE, "v": {"orders": 4, "load": 7}, "as_of": {"orders": "2026-07-15T14:00:05"},
                    "stale_after": STATE["stale_after"]}
    etag, body = cache.answer(held)
    assert etag != held
    assert body == {"delta": {"v": {"orders": 4}, "as_of": {"orders": "2026-07-15T14:00:05", "load": None}}}
    assert apply_delta(STATE, body["delta"]) == source.state
    assert cache.answer('"unknown"')[1] == source.state                    # a state it never saw: all of it


def test_delta_is_exact_for_any_change():
    old = STATE
    new = {"v": {"orders": 3, "weather": 1}, "as_of": {"orders": "x", "load": "2026-07-15T13:59:00"},
           "stale_after": {"orders": 15, "load": 180}}
    assert apply_delta(old, delta(old, new)) == new
    assert delta(new, new) == {}


def test_etag_ignores_key_order():
    flipped = {"stale_after": STATE["stale_after"], "as_of": dict(reversed(STATE["as_of"].items())), "v": STATE["v"]}
    assert etag_of(flipped) == etag_of(STATE)


# ---- over HTTP, with the collectors publishing into a real Valkey ----

NOW = datetime.now().replace(microsecond=0)


@pytest.fixture
def web(web_app, settings_env, redis_client):
    settings = settings_mod.load()
    ctx = Context(SourceAdapter(settings.source_url, 5.0), Clock(), settings)
    runners = {cls.name: Runner(cls(ctx), redis_client) for cls in REGISTRY}
    for r in runners.values():
        assert r.run_once(), (r.collector.name, r.health["last_error"])
    return web_app.server.test_client(), runners, settings


def test_http_tick_304_then_delta_after_a_new_order(web):
    client, runners, settings = web
    first = client.get("/api/v1/versions")
    assert first.status_code == 200 and first.headers["ETag"]
    state = {k: first.get_json()[k] for k in ("v", "as_of", "stale_after")}

    same = client.get("/api/v1/versions", headers={"If-None-Match": first.headers["ETag"]})
    assert same.status_code == 304 and same.data == b""
    assert same.headers["ETag"] == first.headers["ETag"]
    datetime.fromisoformat(same.headers["X-Now"])                           # the screen's clock
    assert "Content-Security-Policy" not in same.headers

    engine = create_engine(settings.source_url)
    with engine.begin() as conn:
        insert_order(conn, "TICK1", "PC01S01F001T001", NOW - timedelta(minutes=1))
    engine.dispose()
    assert runners["orders"].run_once()

    moved = client.get("/api/v1/versions", headers={"If-None-Match": first.headers["ETag"]})
    assert moved.status_code == 200
    body = moved.get_json()
    assert body["ok"] is True and body["delta"]["v"]["orders"] == state["v"]["orders"] + 1
    fresh = client.get("/api/v1/versions").get_json()
    assert apply_delta(state, body["delta"]) == {k: fresh[k] for k in ("v", "as_of", "stale_after")}
    assert moved.headers["ETag"] != first.headers["ETag"]
