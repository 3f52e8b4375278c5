"""Every kind of bad row is rejected with its reason (source, table, key, field, rule), counted,
and kept; the good rows of the same batch are still used; nothing crashes."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta

import pytest

from collectors.base import Context
from collectors.plugins.ami import AmiCollector
from collectors.plugins.orders import OrdersCollector
from collectors.plugins.scada import ScadaCollector
from collectors.plugins.topology import TopologyCollector
from collectors.redis_schema import REJECTS, dataset_key
from collectors.runner import Runner
from collectors.sources.adapter import SourceAdapter
from config import settings as settings_mod
from config.clock import Clock
from tests.sourcedata import fmt

NOW = datetime(2026, 7, 15, 14, 20)
GOOD_T, GOOD_F = "PC01S01F001T001", "PC01S01F001"
ORDER_COLS = ("order_no, order_type, customer_id, tarea_code, channel, key_customer, content, status,"
              " accepted_at, arrived_at, updated_at")


def order(no, *, type_="repair", customer="C1", tarea=GOOD_T, content="停电", status="accepted",
          accepted=NOW - timedelta(minutes=10), arrived=None, updated=None):
    return (no, type_, customer, tarea, "95598", 0, content, status, accepted, arrived,
            updated or accepted)


BAD_ORDERS = {   # order_no -> (row, expected field, expected rule prefix)
    "B-blank":   (order("B-blank", customer=""), "customer_id", "required"),   # NOT NULL in the schema; blank is how legacy systems send it
    "B-tarea":   (order("B-tarea", tarea="NOWHERE"), "tarea_code", "known_code"),
    "B-future":  (order("B-future", accepted=NOW + timedelta(days=2)), "accepted_at", "timestamp"),
    "B-1999":    (order("B-1999", accepted=datetime(1999, 12, 31)), "accepted_at", "timestamp"),
    "B-1mb":     (order("B-1mb", content="电" * 1_000_000), "content", "text"),
    "B-type":    (order("B-type", accepted="yesterday"), "accepted_at", "timestamp"),
    "B-kind":    (order("B-kind", type_="teleport"), "order_type", "one_of"),
    "B-steps":   (order("B-steps", status="arrived", arrived=NOW - timedelta(minutes=20)),
                  "status", "lifecycle_order"),
}


def scada(feeder=GOOD_F, mw=2.0, amps=100.0, ts=NOW - timedelta(minutes=1)):
    return (feeder, fmt(ts), mw, amps, fmt(ts))


BAD_SCADA = {
    "abc":      (scada(mw="abc", ts=NOW - timedelta(minutes=2)), "active_mw", "number"),
    "negative": (scada(mw=-1.0, ts=NOW - timedelta(minutes=3)), "active_mw", "number"),
    "nan":      (scada(mw="NaN", ts=NOW - timedelta(minutes=4)), "active_mw", "number"),
    "inf":      (scada(mw=float("inf"), ts=NOW - timedelta(minutes=5)), "active_mw", "number"),
    "10x":      (scada(amps=4001.0, ts=NOW - timedelta(minutes=6)), "current_a", "over_10x_rating"),
    "feeder":   (scada(feeder="F-NOWHERE"), "feeder_code", "known_code"),
}


@pytest.fixture
def runners(settings_env, redis_client):
    settings = settings_mod.load()
    ctx = Context(SourceAdapter(settings.source_url, 5.0), Clock(origin=NOW, speed=1e-9), settings)
    return {cls.name: Runner(cls(ctx), redis_client)
            for cls in (TopologyCollector, OrdersCollector, ScadaCollector, AmiCollector)}


def db(url: str) -> sqlite3.Connection:
    return sqlite3.connect(url.removeprefix("sqlite:///"))


def rejects(client) -> list[dict]:
    return [json.loads(r) for r in client.lrange(REJECTS, 0, -1)]


def insert_orders(url, rows):
    with db(url) as conn:
        conn.executemany(f"INSERT INTO wo_order ({ORDER_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                         [tuple(fmt(v) if isinstance(v, datetime) else v for v in r) for r in rows])


def test_bad_orders_are_rejected_with_reasons_and_good_ones_count(runners, source_url, redis_client):
    insert_orders(source_url, [order("G1"), order("G2"), *[bad for bad, _, _ in BAD_ORDERS.values()]])
    with db(source_url) as conn:    # invalid UTF-8, straight from the bytes
        conn.execute(f"INSERT INTO wo_order ({ORDER_COLS}) VALUES ('B-utf8','repair','C1',?, '95598', 0,"
                     " CAST(X'C328E794B5' AS TEXT), 'accepted', ?, NULL, ?)",
                     (GOOD_T, fmt(NOW - timedelta(minutes=9)), fmt(NOW - timedelta(minutes=9))))
    assert runners["topology"].run_once() and runners["orders"].run_once(), runners["orders"].health
    got = {r["key"]: r for r in rejects(redis_client) if r["table"] == "wo_order"}
    for key, (_, field, rule) in {**BAD_ORDERS, "B-utf8": (None, "content", "text")}.items():
        assert got[key]["field"] == field and got[key]["rule"].startswith(rule), (key, got.get(key))
        assert got[key]["source"] == "95598" and got[key]["collector"] == "orders"
    assert runners["orders"].health["rows_rejected"] == len(BAD_ORDERS) + 1
    city = json.loads(redis_client.hget(dataset_key("orders"), "PC"))
    assert city["repair_today"] == 2                        # G1 and G2 made it


def test_conflicting_duplicates_and_backward_status(runners, source_url, redis_client):
    arrived = NOW - timedelta(minutes=5)
    insert_orders(source_url, [order("D1", status="arrived", arrived=arrived, updated=arrived)])
    assert runners["topology"].run_once() and runners["orders"].run_once()
    with db(source_url) as conn:
        # same version stamp, other content: the source changed a row without saying so
        conn.execute("UPDATE wo_order SET tarea_code = 'PC02S01F001T001' WHERE order_no = 'D1'")
    assert runners["orders"].run_once()
    with db(source_url) as conn:
        # a newer version that walks the status back from arrived to accepted
        conn.execute("UPDATE wo_order SET tarea_code = ?, status = 'accepted', arrived_at = NULL,"
                     " updated_at = ? WHERE order_no = 'D1'", (GOOD_T, fmt(NOW - timedelta(minutes=1))))
    assert runners["orders"].run_once()
    rules = [(r["key"], r["rule"]) for r in rejects(redis_client)]
    assert ("D1", "duplicate_conflict") in rules and ("D1", "status_backwards") in rules
    assert json.loads(redis_client.hget(dataset_key("orders"), "PC01"))["backlog"]["arrived"] == 1


def test_bad_load_rows_rejected_and_good_load_kept(runners, source_url, redis_client):
    rows = [scada(), *[bad for bad, _, _ in BAD_SCADA.values()]]
    with db(source_url) as conn:
        conn.executemany("INSERT INTO scada_feeder_load VALUES (?,?,?,?,?)", rows)
    assert runners["topology"].run_once() and runners["scada"].run_once(), runners["scada"].health
    got = [(r["field"], r["rule"].split("[")[0]) for r in rejects(redis_client) if r["table"] == "scada_feeder_load"]
    for _, field, rule in BAD_SCADA.values():
        assert (field, rule) in got
    assert len(got) == len(BAD_SCADA)
    feeder = json.loads(redis_client.hget(dataset_key("load"), GOOD_F))
    assert feeder["load_mw"] == 2.0
