"""Customer-hours, month-to-date SAIDI / SAIFI / RS-1 and frequent-outage 台区 equal SQL."""
from __future__ import annotations

from datetime import datetime

import pytest

from collectors.plugins.outages import OutagesCollector
from collectors.plugins.topology import TopologyCollector
from tests.kpi_harness import Harness, insert, scalar
from tests.sourcedata import fmt

NOW = datetime(2026, 7, 15, 14, 20)
NODES = ["PC", "PC01", "PC02", "PC01S01", "PC02S01", "PC01S01F001", "PC02S01F002", "PC01S01F001T001"]
F1 = "PC01S01F001"
F2 = "PC02S01F002"


def outage(oid, equipment, start, restored=None, *, kind="fault", etype="tarea", status=None, tareas=()):
    status = status or ("restored" if restored else "active")
    row = {"outage_id": oid, "outage_type": kind, "equipment_type": etype, "equipment_code": equipment,
           "cause": "test", "customers": 100, "start_at": fmt(start), "reported_at": fmt(start),
           "etr": None, "restored_at": fmt(restored) if restored else None, "status": status,
           "notice_published_at": None, "updated_at": fmt(min(NOW, restored or start))}
    scope = [{"outage_id": oid, "tarea_code": t, "updated_at": fmt(start)} for t in (tareas or [equipment])]
    return row, scope


CASES = [
    # a feeder outage and a 台区 outage overlapping on T001: T001 is out 08:00-11:00 once
    outage("O1", F1, datetime(2026, 7, 10, 8), datetime(2026, 7, 10, 10, 30), etype="feeder",
           tareas=[f"{F1}T001", f"{F1}T002", f"{F1}T003"]),
    outage("O2", f"{F1}T001", datetime(2026, 7, 10, 9), datetime(2026, 7, 10, 11)),
    # across the month start: 2 h count this month, the interruption was last month
    outage("O3", f"{F1}T002", datetime(2026, 6, 30, 22), datetime(2026, 7, 1, 2)),
    # momentary (2 min): not sustained
    outage("O4", f"{F1}T003", datetime(2026, 7, 12, 10), datetime(2026, 7, 12, 10, 2)),
    # in progress
    outage("O5", "PC02S01F001T002", datetime(2026, 7, 15, 13)),
    # cancelled, and a planned one not started yet: neither counts
    outage("O6", "PC02S01F001T003", datetime(2026, 7, 11, 8), datetime(2026, 7, 11, 12), status="cancelled",
           kind="planned"),
    outage("O7", "PC02S01F001T003", datetime(2026, 7, 16, 8), kind="planned", status="scheduled"),
    # frequent outages: T001 4 in 60 days (red), T002 2 in 30 days (yellow), T003 3 in 60 (orange)
    *[outage(f"R{i}", f"{F2}T001", datetime(2026, m, d, 3), datetime(2026, m, d, 5))
      for i, (m, d) in enumerate([(6, 1), (6, 20), (7, 5), (7, 12)])],
    *[outage(f"Y{i}", f"{F2}T002", datetime(2026, 7, d, 3), datetime(2026, 7, d, 4)) for i, d in enumerate([1, 8])],
    *[outage(f"G{i}", f"{F2}T003", datetime(2026, m, d, 3), datetime(2026, m, d, 4))
      for i, (m, d) in enumerate([(5, 25), (6, 10), (7, 2)])],
]

SUSTAINED = """o.status NOT IN ('cancelled', 'scheduled') AND o.start_at <= :now
   AND unixepoch(coalesce(o.restored_at, :now)) - unixepoch(o.start_at) > 180"""


def sql_union_customer_hours(url, node, lo, only_active=False):
    """Σ customers × hours of the union of each 台区's intervals clipped to [lo, now]."""
    active = "AND o.restored_at IS NULL" if only_active else ""
    return scalar(url, f"""
        WITH p AS (
          SELECT t.tarea_code, g.customers,
                 max(unixepoch(o.start_at), unixepoch(:lo)) s,
                 min(unixepoch(coalesce(o.restored_at, :now)), unixepoch(:now)) e
            FROM oms_outage o JOIN oms_outage_tarea t ON t.outage_id = o.outage_id
            JOIN grid_node g ON g.code = t.tarea_code
           WHERE {SUSTAINED} {active} AND t.tarea_code LIKE :p),
        q AS (SELECT *, max(e) OVER (PARTITION BY tarea_code ORDER BY s, e
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) prev
                FROM p WHERE e > s)
        SELECT coalesce(sum(customers * max(0, e - max(s, coalesce(prev, s))) / 3600.0), 0) FROM q""",
                  p=node + "%", lo=lo, now=fmt(NOW))


def sql_truth(url, node):
    served = scalar(url, "SELECT customers FROM grid_node WHERE code = :c", c=node)
    mtd = sql_union_customer_hours(url, node, "2026-07-01 00:00:00")
    interruptions = scalar(url, f"""
        SELECT coalesce(sum(g.customers), 0) FROM oms_outage o JOIN oms_outage_tarea t ON t.outage_id = o.outage_id
          JOIN grid_node g ON g.code = t.tarea_code
         WHERE {SUSTAINED} AND o.start_at >= '2026-07-01' AND t.tarea_code LIKE :p""", p=node + "%", now=fmt(NOW))
    period_h = (NOW - datetime(2026, 7, 1)).total_seconds() / 3600
    return {"customer_hours_mtd": mtd, "interruptions_mtd": interruptions,
            "customer_hours_active": sql_union_customer_hours(url, node, "2000-01-01", only_active=True),
            "saidi_mtd_h": mtd / served, "saifi_mtd": interruptions / served,
            "rs1_mtd": 1 - mtd / served / period_h}


def sql_frequent_levels(url, node):
    """(red, orange, yellow) 台区 counts: ≥ 4 in 60 d, ≥ 3 in 60 d, ≥ 2 in 30 d, highest wins."""
    row = {}
    for level, cond in ((3, "c60 >= 4"), (2, "c60 = 3"), (1, "c60 < 3 AND c30 >= 2")):
        row[level] = scalar(url, f"""
            SELECT count(*) FROM (
              SELECT t.tarea_code,
                     count(DISTINCT CASE WHEN unixepoch(o.start_at) > unixepoch(:now) - 60 * 86400 THEN o.outage_id END) c60,
                     count(DISTINCT CASE WHEN unixepoch(o.start_at) > unixepoch(:now) - 30 * 86400 THEN o.outage_id END) c30
                FROM oms_outage o JOIN oms_outage_tarea t ON t.outage_id = o.outage_id
               WHERE {SUSTAINED} AND t.tarea_code LIKE :p GROUP BY t.tarea_code) WHERE {cond}""",
                            p=node + "%", now=fmt(NOW))
    return row[3], row[2], row[1]


@pytest.fixture
def outages(settings_env, source_url, redis_client):
    insert(source_url, "oms_outage", [row for row, _ in CASES])
    insert(source_url, "oms_outage_tarea", [s for _, scope in CASES for s in scope])
    return Harness(redis_client, [TopologyCollector, OutagesCollector], NOW).run(), source_url


def test_reliability_equals_sql(outages):
    h, url = outages
    for node in NODES:
        got, truth = h.entry("outages", node), sql_truth(url, node)
        assert got["interruptions_mtd"] == truth["interruptions_mtd"], node
        for k in ("customer_hours_mtd", "customer_hours_active"):
            assert got[k] == pytest.approx(truth[k], abs=1e-6), (node, k)
        for k in ("saidi_mtd_h", "saifi_mtd", "rs1_mtd"):
            assert got[k] == pytest.approx(truth[k], abs=1e-9), (node, k)


def test_overlap_counts_once_and_month_start_clips(outages):
    h, _ = outages
    city = h.entry("outages", "PC")
    # T001 (100) 3 h once, T002 (200) 2.5 h + 2 h, T003 (300) 2.5 h; F2 areas; O5 in progress
    f1 = h.entry("outages", F1)
    assert f1["customer_hours_mtd"] == pytest.approx(100 * 3 + 200 * 4.5 + 300 * 2.5)
    assert f1["interruptions_mtd"] == 100 + 200 + 300 + 100        # O1 three 台区, O2 once; O3 began in June
    assert city["customer_hours_active"] == pytest.approx(200 * (80 / 60))


def test_frequent_outage_tareas_equal_sql(outages):
    h, url = outages
    for node in NODES:
        got = h.entry("outages", node)
        assert (got["frequent_red"], got["frequent_orange"], got["frequent_yellow"]) == sql_frequent_levels(url, node), node
    assert [t["tarea_code"] for t in h.entry("frequent_outages", "PC02")] == [f"{F2}T001", f"{F2}T003", f"{F2}T002"]
