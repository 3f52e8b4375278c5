"""This year's peak, load vs peak and feeder heavy/overload equal an SQL recomputation."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from collectors.plugins.scada import ScadaCollector
from collectors.plugins.topology import TopologyCollector
from tests.kpi_harness import Harness, insert, scalar
from tests.sourcedata import fmt

NOW = datetime(2026, 7, 15, 14, 20)
FEEDERS = ["PC01S01F001", "PC01S01F002", "PC01S02F001", "PC01S02F002", "PC02S01F001", "PC02S01F002"]
# feeder -> current (A) for today's last 2.5 h; rated 400 A: 350 heavy, 420 overloaded
CURRENT = {"PC01S01F001": 350.0, "PC01S02F001": 420.0, "PC02S01F001": 330.0}
DIP = ("PC02S01F001", datetime(2026, 7, 15, 13, 0))   # one quarter below 80 %: not heavy
NODES = ["PC", "PC01", "PC02", "PC01S01", "PC01S02", "PC02S01", "PC01S01F001"]


def row(feeder, ts, mw, amps):
    return {"feeder_code": feeder, "ts": fmt(ts), "active_mw": mw, "current_a": amps, "updated_at": fmt(ts)}


def seed(url):
    rows = []
    # history at 15-min resolution on three days this year, one last year, and a reading off
    # the quarter hour that the year peak must not see
    for day, scale in ((datetime(2026, 3, 10), 1.0), (datetime(2026, 7, 13), 1.7), (datetime(2026, 7, 14), 1.3),
                       (datetime(2025, 7, 20), 9.0)):
        for q in range(96):
            ts = day + timedelta(minutes=15 * q)
            for i, f in enumerate(FEEDERS):
                rows.append(row(f, ts, scale * (1 + i) * (1 + (q % 48) / 48), 100.0))
    rows.append(row("PC01S01F001", datetime(2026, 7, 14, 12, 7), 500.0, 100.0))
    # today at 1-min resolution from 11:50
    t = datetime(2026, 7, 15, 11, 50)
    while t < NOW:
        for i, f in enumerate(FEEDERS):
            amps = CURRENT.get(f, 150.0)
            if f == DIP[0] and DIP[1] <= t < DIP[1] + timedelta(minutes=15):
                amps = 300.0
            rows.append(row(f, t, 2.0 + i + t.minute / 60, amps + (t.minute % 3)))
        t += timedelta(minutes=1)
    insert(url, "scada_feeder_load", rows)


def sql_year_peak(url, node):
    return scalar(url, """
        SELECT max(s) FROM (SELECT ts, sum(active_mw) s FROM scada_feeder_load
         WHERE feeder_code LIKE :p AND ts >= '2026-01-01' AND ts < '2026-07-15'
           AND CAST(strftime('%M', ts) AS INTEGER) % 15 = 0 GROUP BY ts)""", p=node + "%")


def sql_point(url, node):
    return scalar(url, """
        SELECT sum(m) FROM (SELECT feeder_code, avg(active_mw) m FROM scada_feeder_load
         WHERE feeder_code LIKE :p AND ts >= '2026-07-15 14:00:00' AND ts < '2026-07-15 14:15:00'
         GROUP BY feeder_code)""", p=node + "%")


def sql_flagged(url, node, rate):
    """Feeders whose 15-min mean current / rating reached `rate` in all 8 quarters ending 14:00."""
    return scalar(url, """
        SELECT count(*) FROM (
          SELECT l.feeder_code FROM (
            SELECT feeder_code, strftime('%Y-%m-%d %H:', ts) || printf('%02d', CAST(strftime('%M', ts) AS INTEGER) / 15 * 15) q,
                   avg(current_a) a FROM scada_feeder_load
             WHERE ts >= '2026-07-15 12:15:00' AND ts < '2026-07-15 14:15:00' GROUP BY 1, 2) l
          JOIN grid_node g ON g.code = l.feeder_code
          WHERE l.feeder_code LIKE :p AND l.a / g.rated_current_a >= :r
          GROUP BY l.feeder_code HAVING count(*) = 8)""", p=node + "%", r=rate)


@pytest.fixture
def load(settings_env, source_url, redis_client):
    seed(source_url)
    h = Harness(redis_client, [TopologyCollector, ScadaCollector], NOW).run()
    return h, source_url


def test_year_peak_and_load_vs_peak_equal_sql(load):
    h, url = load
    for node in NODES:
        got = h.entry("load", node)
        peak, point = sql_year_peak(url, node), sql_point(url, node)
        assert got["peak_year_mw"] == pytest.approx(peak, abs=1e-6), node
        assert got["load_15min_mw"] == pytest.approx(point, abs=1e-6), node
        assert got["load_vs_peak"] == pytest.approx(point / peak, abs=1e-9), node
        assert got["load_15min_at"] == "2026-07-15T14:00:00"


def test_feeder_heavy_and_overload_equal_sql(load):
    h, url = load
    for node in NODES:
        got = h.entry("load", node)
        assert got["heavy_feeders"] == sql_flagged(url, node, 0.8), node
        assert got["overload_feeders"] == sql_flagged(url, node, 1.0), node


def test_the_scenario_is_not_trivial(load):
    h, _ = load
    city = h.entry("load", "PC")
    assert (city["heavy_feeders"], city["overload_feeders"]) == (2, 1)   # the dip breaks PC02S01F001's run
    assert city["load_vs_peak"] < 1
