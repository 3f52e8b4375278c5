"""Fault injection with real parts: a real SQLite source made unreachable, locked and slow, rows
that arrive late and out of order, a real Valkey killed and restarted empty, a hung cycle.
Each ends by comparing what Redis holds with an independent recomputation from the source."""
from __future__ import annotations

import json
import shutil
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis

from collectors.base import Context
from collectors.embedded_redis import EmbeddedRedis
from collectors.plugins.orders import OrdersCollector
from collectors.plugins.outages import OutagesCollector
from collectors.plugins.topology import TopologyCollector
from collectors.redis_schema import AS_OF, EPOCH, HEALTH, connect
from collectors.runner import Runner
from collectors.sources.adapter import SourceAdapter
from collectors.watchdog import HANG_EXIT_CODE, Watchdog
from config import settings as settings_mod
from config.clock import Clock
from tests.sourcedata import fmt
from tests.truth import assert_orders_match

NOW = datetime(2026, 7, 15, 14, 20)
T = "PC01S01F001T001"


def frozen(at: datetime) -> Clock:
    return Clock(origin=at, speed=1e-9)


def make_runners(settings, client, timeout_s: float = 5.0, now: datetime = NOW):
    ctx = Context(SourceAdapter(settings.source_url, timeout_s), frozen(now), settings)
    return [Runner(cls(ctx), client) for cls in (TopologyCollector, OrdersCollector, OutagesCollector)]


def db_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def write(url: str, *orders) -> None:
    with sqlite3.connect(db_path(url)) as conn:
        for o in orders:
            conn.execute(
                "INSERT OR REPLACE INTO wo_order (order_no, order_type, customer_id, tarea_code, channel,"
                " key_customer, status, accepted_at, arrived_at, restored_at, updated_at)"
                " VALUES (?, 'repair', 'C', ?, '95598', 0, ?, ?, ?, ?, ?)", o)


def order(no, accepted, status="accepted", arrived=None, restored=None, updated=None, tarea=T):
    return (no, tarea, status, fmt(accepted), arrived and fmt(arrived), restored and fmt(restored),
            fmt(updated or accepted))


@pytest.fixture
def setup(settings_env, redis_client, source_url):
    runners = make_runners(settings_mod.load(), redis_client)
    write(source_url, order("O1", NOW - timedelta(minutes=30)), order("O2", NOW - timedelta(hours=2)))
    for r in runners:
        assert r.run_once(), r.health["last_error"]
    return runners


def test_source_unreachable_keeps_last_values_then_catches_up(setup, source_url, redis_client):
    topo, orders, outages = setup
    before = redis_client.hget(AS_OF, "orders")
    assert_orders_match(redis_client, source_url, NOW)
    away = db_path(source_url).with_suffix(".away")
    shutil.move(db_path(source_url), away)                       # the source goes down
    assert not orders.run_once() and not outages.run_once()
    assert "SourceError" in orders.health["last_error"]
    assert redis_client.hget(AS_OF, "orders") == before          # last good values, with their age
    assert json.loads(redis_client.hget(HEALTH, "orders"))["last_error"]
    shutil.move(away, db_path(source_url))
    write(source_url, order("O3", NOW - timedelta(minutes=5)))    # written while we were away
    assert orders.run_once(), orders.health["last_error"]
    assert_orders_match(redis_client, source_url, NOW)


def test_locked_source_fails_within_the_timeout(settings_env, redis_client, source_url):
    runners = make_runners(settings_mod.load(), redis_client, timeout_s=1.0)
    for r in runners:
        assert r.run_once()
    holder = sqlite3.connect(db_path(source_url), isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")                  # readers wait on writers
    holder.execute("BEGIN EXCLUSIVE")                              # a batch job locks the database
    try:
        assert not runners[1].run_once()
        assert "locked" in runners[1].health["last_error"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    write(source_url, order("O9", NOW - timedelta(minutes=1)))
    assert runners[1].run_once(), runners[1].health["last_error"]
    assert_orders_match(redis_client, source_url, NOW)


def test_slow_source_is_interrupted_and_others_carry_on(setup, source_url, redis_client):
    _, orders, outages = setup
    with sqlite3.connect(db_path(source_url)) as conn:             # a query that would run for ages
        conn.executescript("""
            ALTER TABLE wo_order RENAME TO wo_order_real;
            CREATE VIEW wo_order AS SELECT o.* FROM wo_order_real o,
              (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000000)
               SELECT max(i) AS m FROM n) spin;""")
    orders.collector.ctx.source.timeout_s = 1.0
    assert not orders.run_once()
    assert "exceeded" in orders.health["last_error"]
    assert outages.run_once(), outages.health["last_error"]         # another table still answers
    with sqlite3.connect(db_path(source_url)) as conn:
        conn.executescript("DROP VIEW wo_order; ALTER TABLE wo_order_real RENAME TO wo_order;")
    assert orders.run_once(), orders.health["last_error"]
    assert_orders_match(redis_client, source_url, NOW)


def test_late_and_out_of_order_rows_count_once(setup, source_url, redis_client):
    _, orders, _ = setup
    # committed late: stamped 40 min before the newest write already seen (inside the overlap)
    write(source_url, order("L1", NOW - timedelta(minutes=50), updated=NOW - timedelta(minutes=40)))
    # an update to an old order: O2 arrived and was restored
    write(source_url, order("O2", NOW - timedelta(hours=2), "restored", NOW - timedelta(hours=1, minutes=30),
                            NOW - timedelta(hours=1), updated=NOW - timedelta(minutes=1)))
    # an event an hour old, written now
    write(source_url, order("L2", NOW - timedelta(minutes=65), updated=NOW))
    for _ in range(3):                                              # re-reads change nothing
        assert orders.run_once(), orders.health["last_error"]
        assert_orders_match(redis_client, source_url, NOW)


def test_redis_killed_and_restarted_empty(settings_env, source_url):
    server = EmbeddedRedis().start()
    client = connect(server.url, timeout_s=0.5)
    try:
        runners = make_runners(settings_mod.load(), client)
        watchdog = Watchdog(runners, client, hang_after_s=600)
        write(source_url, order("R1", NOW - timedelta(minutes=10)))
        for r in runners:
            assert r.run_once()
        watchdog.check_wipe()
        server.stop()                                               # Redis dies
        write(source_url, order("R2", NOW - timedelta(minutes=2)))
        assert not runners[1].run_once()
        assert "ConnectionError" in runners[1].health["last_error"]
        assert runners[1].retry_at > time.monotonic()               # backing off, not hammering
        server = EmbeddedRedis(port=server.port).start()            # back, and empty
        assert watchdog.check_wipe()                                # refilled from memory at once
        assert client.get(EPOCH) == watchdog.token
        assert client.hget("pw:ds:topology", "PC")                  # the tree is back too
        deadline = time.monotonic() + 60
        while not runners[1].run_once() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert_orders_match(client, source_url, NOW)
    finally:
        server.stop()


def test_hung_cycle_exits_the_process_for_a_restart(setup, redis_client):
    exits = []
    watchdog = Watchdog(setup, redis_client, hang_after_s=60, exit_process=exits.append)
    setup[1].running_since = time.monotonic() - 61                 # a cycle stuck for a minute
    watchdog.check_hangs()
    assert exits == [HANG_EXIT_CODE]
    assert "hung" in json.loads(redis_client.hget(HEALTH, "orders"))["last_error"]


def test_redis_down_web_tier_answers_with_status(web_app):
    from flask import Flask

    from dashboard.api import create_blueprint
    from dashboard.store import Store
    from collectors.embedded_redis import free_port
    dead = Store(redis.Redis(port=free_port(), socket_connect_timeout=0.2, decode_responses=True), Clock())
    app = Flask(__name__)
    app.register_blueprint(create_blueprint(lambda: dead))
    client = app.test_client()
    tick = client.get("/api/v1/versions")
    assert tick.status_code == 200 and tick.get_json()["ok"] is False
    assert client.get("/api/health").status_code == 503
    assert client.get("/api/v1/summary?region=PC").status_code == 503


def test_a_row_stamped_in_the_future_does_not_hide_later_rows(setup, source_url, redis_client):
    _, orders, _ = setup
    write(source_url, order("F1", NOW - timedelta(minutes=3), updated=NOW + timedelta(days=400)))
    assert orders.run_once()
    assert any(json.loads(r)["key"] == "F1" for r in redis_client.lrange("pw:rejects", 0, -1))
    assert orders.collector.watermarks["wo_order"] <= NOW + timedelta(minutes=5)
    write(source_url, order("F2", NOW - timedelta(minutes=1)))          # an ordinary row after it
    assert orders.run_once()
    assert_orders_match(redis_client, source_url, NOW, rejected=("F1",))
