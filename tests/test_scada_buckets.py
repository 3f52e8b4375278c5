"""SCADA keeps raw minutes only for a recent window; curves stay exact for every bucket, including
one straddling the window start and an old bucket corrected by a late row (read back from the source)."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from collectors.base import Context
from collectors.plugins.scada import RAW_WINDOW, ScadaCollector
from collectors.plugins.topology import TopologyCollector
from collectors.redis_schema import dataset_key
from collectors.runner import Runner
from collectors.sources.adapter import SourceAdapter
from config import settings as settings_mod
from config.clock import Clock
from tests.sourcedata import fmt

NOW = datetime(2026, 7, 15, 14, 7)
FEEDER = "PC01S01F001"


class Manual(Clock):
    def __init__(self, at):
        super().__init__(origin=at, speed=1.0)
        self.at = at

    def now(self):
        return self.at


def minutes(url, start, end, mw=lambda t: 1.0 + t.hour + t.minute / 100):
    rows, t = [], start
    while t < end:
        rows.append((FEEDER, fmt(t), mw(t), 100.0, fmt(t)))
        t += timedelta(minutes=1)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.executemany("INSERT OR REPLACE INTO scada_feeder_load VALUES (?,?,?,?,?)", rows)


def sql_curve(url, day) -> list:
    """Independent recomputation: the mean reading per 15-min bucket of one day."""
    engine = create_engine(url)
    with engine.connect() as c:
        got = c.execute(text(
            "SELECT (CAST(strftime('%H', ts) AS INTEGER) * 4 + CAST(strftime('%M', ts) AS INTEGER) / 15) b,"
            " avg(active_mw) FROM scada_feeder_load WHERE feeder_code = :f AND ts >= :d AND ts < :e"
            " GROUP BY b"), dict(f=FEEDER, d=fmt(day), e=fmt(day + timedelta(days=1)))).all()
    engine.dispose()
    curve = [None] * 96
    for b, v in got:
        curve[b] = round(v, 3)
    return curve


@pytest.fixture
def runners(settings_env, redis_client, source_url):
    clock = Manual(NOW)
    settings = settings_mod.load()
    ctx = Context(SourceAdapter(settings.source_url, 5.0), clock, settings)
    minutes(source_url, NOW.replace(hour=0, minute=0) - timedelta(days=1), NOW + timedelta(minutes=1))
    topo, scada = Runner(TopologyCollector(ctx), redis_client), Runner(ScadaCollector(ctx), redis_client)
    assert topo.run_once() and scada.run_once(), scada.health["last_error"]
    return clock, scada


def curve(client, which):
    return json.loads(client.hget(dataset_key("load"), FEEDER))[f"curve_{which}"]


def test_curves_equal_sql_with_a_bounded_raw_window(runners, redis_client, source_url):
    clock, scada = runners
    today = NOW.replace(hour=0, minute=0)
    assert curve(redis_client, "today") == sql_curve(source_url, today)
    assert curve(redis_client, "yesterday") == sql_curve(source_url, today - timedelta(days=1))
    assert scada.collector.rows["ts"].min() >= NOW - RAW_WINDOW - timedelta(minutes=15)


def test_late_correction_of_an_old_bucket_is_read_back(runners, redis_client, source_url):
    clock, scada = runners
    old = NOW - timedelta(hours=6)                          # far outside the raw window
    with sqlite3.connect(source_url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE scada_feeder_load SET active_mw = 99.0, updated_at = ? WHERE feeder_code = ?"
                     " AND ts = ?", (fmt(NOW), FEEDER, fmt(old.replace(second=0))))
    clock.at = NOW + timedelta(minutes=1)
    minutes(source_url, NOW + timedelta(minutes=1), clock.at + timedelta(minutes=1))
    assert scada.run_once(), scada.health["last_error"]
    assert curve(redis_client, "today") == sql_curve(source_url, NOW.replace(hour=0, minute=0))
