"""The orders collector's numbers equal an independent SQL recomputation over the source table."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from collectors.base import Context
from collectors.plugins.orders import OrdersCollector
from collectors.plugins.topology import TopologyCollector
from collectors.redis_schema import VERSIONS, dataset_key
from collectors.runner import Runner
from collectors.sources.adapter import SourceAdapter
from config import settings as settings_mod
from config.clock import Clock
from tests.sourcedata import fmt, insert_order

NOW = datetime(2026, 7, 15, 14, 20)   # a Wednesday (workday)


def frozen(at: datetime) -> Clock:
    return Clock(origin=at, speed=1e-9)


@pytest.fixture
def runners(settings_env, redis_client):
    settings = settings_mod.load()
    ctx = Context(SourceAdapter(settings.source_url, 5.0), frozen(NOW), settings)
    return Runner(TopologyCollector(ctx), redis_client), Runner(OrdersCollector(ctx), redis_client)


def seed_orders(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as c:
        t = "PC01S01F001T001"
        rural = "PC02S01F001T001"
        insert_order(c, "A1", t, NOW - timedelta(minutes=10))                         # last hour, open
        insert_order(c, "A2", t, NOW - timedelta(minutes=70), status="arrived",        # today, open
                     dispatched_at=NOW - timedelta(minutes=65), arrived_at=NOW - timedelta(minutes=30))
        insert_order(c, "A3", rural, NOW - timedelta(minutes=100))                     # overdue (rural 90)
        insert_order(c, "A4", t, NOW - timedelta(hours=3), status="restored",          # closed
                     restored_at=NOW - timedelta(hours=2), arrived_at=NOW - timedelta(hours=2, minutes=30))
        insert_order(c, "A5", t, NOW - timedelta(minutes=5), order_type="consult")     # not a repair
        # baseline days: the last 4 workdays before Wed 15 July: 14, 13, 10, 9 July
        for i, day in enumerate([14, 13, 10, 9, 12]):                                  # 12 July is a Sunday
            insert_order(c, f"B{i}", t, datetime(2026, 7, day, 14, 0), status="restored",
                         restored_at=datetime(2026, 7, day, 15, 0), arrived_at=datetime(2026, 7, day, 14, 30))
        insert_order(c, "B9", rural, datetime(2026, 7, 14, 13, 50), status="restored",
                     restored_at=datetime(2026, 7, 14, 15, 0), arrived_at=datetime(2026, 7, 14, 14, 30))
    engine.dispose()


def sql_truth(url: str, node_like: str) -> dict:
    """Independent recomputation in SQL, for one node (a code prefix selects its subtree)."""
    engine = create_engine(url)
    today, now = fmt(NOW.replace(hour=0, minute=0)), fmt(NOW)
    hour_ago = fmt(NOW - timedelta(hours=1))
    q = lambda sql: c.execute(text(sql), dict(p=node_like + "%", today=today, now=now, h=hour_ago)).scalar()
    with engine.connect() as c:
        base = "FROM wo_order WHERE order_type='repair' AND tarea_code LIKE :p"
        truth = {
            "repair_today": q(f"SELECT count(*) {base} AND accepted_at >= :today AND accepted_at <= :now"),
            "repair_last_hour": q(f"SELECT count(*) {base} AND accepted_at > :h AND accepted_at <= :now"),
            "open_repair": q(f"SELECT count(*) {base} AND restored_at IS NULL AND status <> 'cancelled'"),
        }
        days = ["2026-07-14", "2026-07-13", "2026-07-10", "2026-07-09"]
        total = sum(q(f"SELECT count(*) {base} AND accepted_at > '{d} 13:20:00' AND accepted_at <= '{d} 14:20:00'")
                    for d in days)
        truth["baseline_last_hour"] = total / 4
    engine.dispose()
    return truth


@pytest.mark.parametrize("node", ["PC", "PC01", "PC02", "PC01S01", "PC01S01F001"])
def test_orders_equal_sql_recomputation(runners, source_url, redis_client, node):
    seed_orders(source_url)
    topo, orders = runners
    assert topo.run_once() and orders.run_once(), orders.health["last_error"]
    got = json.loads(redis_client.hget(dataset_key("orders"), node))
    truth = sql_truth(source_url, node)
    for k, v in truth.items():
        assert got[k] == pytest.approx(v, abs=1e-9), k


def test_overdue_and_backlog(runners, source_url, redis_client):
    seed_orders(source_url)
    topo, orders = runners
    assert topo.run_once() and orders.run_once()
    city = json.loads(redis_client.hget(dataset_key("orders"), "PC"))
    assert city["overdue_arrival"] == 1            # A3: rural, 100 min > 90 min, not arrived
    assert city["backlog"] == {"accepted": 2, "dispatched": 0, "received": 0, "departed": 0, "arrived": 1}
    assert city["baseline_days"] == ["2026-07-14", "2026-07-13", "2026-07-10", "2026-07-09"]


def test_reread_counts_once_and_unchanged_publish_keeps_version(runners, source_url, redis_client):
    seed_orders(source_url)
    topo, orders = runners
    assert topo.run_once() and orders.run_once()
    version = redis_client.hget(VERSIONS, "orders")
    assert orders.run_once()     # the overlap window re-reads every row
    assert redis_client.hget(VERSIONS, "orders") == version
    assert json.loads(redis_client.hget(dataset_key("orders"), "PC"))["repair_today"] == 4   # A1–A4 (A4 already restored)
