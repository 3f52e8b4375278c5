"""Simulator smoke tests at the tiny scale: schema, live advance, resume, determinism, prune."""
from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from simulator import Simulation

NOW = datetime(2026, 7, 15, 15, 0)
ROOT = Path(__file__).resolve().parents[1]


def _url(p: Path) -> str:
    return f"sqlite:///{p}"


def _digest(db: Path, table: str, cols: str = "*") -> str:
    con = sqlite3.connect(db)
    rows = con.execute(f"SELECT {cols} FROM {table} ORDER BY 1, 2").fetchall()
    con.close()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.fixture
def tiny(tmp_path):
    sim = Simulation(_url(tmp_path / "s.db"), scale="tiny", scenario="normal", seed=1)
    assert sim.bootstrap(NOW, backfill_days=2) == "rebuilt"
    yield sim, tmp_path / "s.db"
    sim.close()


def test_bootstrap_writes_every_source_table(tiny):
    sim, db = tiny
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for table in ("grid_node", "key_customer", "scada_feeder_load", "ami_tarea_load", "wo_order",
                  "weather_obs", "sim_outage", "sim_order_plan"):
        assert con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] > 0, table
    # nothing from the future is visible
    now = NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    for table, c in (("wo_order", "accepted_at"), ("scada_feeder_load", "ts"), ("ami_tarea_load", "ts"),
                     ("oms_outage", "reported_at"), ("ami_power_event", "ts"), ("weather_obs", "ts")):
        assert con.execute(f"SELECT COUNT(*) FROM {table} WHERE {c} > ?", (now,)).fetchone()[0] == 0
    for step in ("dispatched", "arrived", "restored", "visited"):
        assert con.execute(f"SELECT COUNT(*) FROM wo_order WHERE {step}_at > ?", (now,)).fetchone()[0] == 0
    # customers of a station = sum of its 台区
    bad = con.execute("""SELECT COUNT(*) FROM grid_node s WHERE s.level = 'station' AND s.customers !=
        (SELECT SUM(t.customers) FROM grid_node t WHERE t.level = 'tarea' AND t.code LIKE s.code || '%')""").fetchone()[0]
    assert bad == 0


def test_advance_writes_minutes_and_stamps_updated_at_now(tiny):
    sim, db = tiny
    until = NOW + timedelta(minutes=3)
    sim.advance(until)
    con = sqlite3.connect(db)
    stamp = until.strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = con.execute("SELECT COUNT(*), MIN(updated_at) FROM scada_feeder_load WHERE ts > ?",
                       (NOW.strftime("%Y-%m-%d %H:%M:%S.%f"),)).fetchone()
    assert rows[0] == 3 * len(sim.topo.feeders)
    assert rows[1] == stamp


def test_resume_fills_the_gap_and_matches_a_continuous_run(tmp_path):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    s1 = Simulation(_url(a), scale="tiny", seed=3)
    s1.bootstrap(NOW, backfill_days=1)
    s1.advance(NOW + timedelta(hours=2))
    s1.close()
    s2 = Simulation(_url(b), scale="tiny", seed=3)
    s2.bootstrap(NOW, backfill_days=1)
    s2.close()
    s3 = Simulation(_url(b), scale="tiny", seed=3)
    assert s3.bootstrap(NOW + timedelta(hours=2)) == "resumed"
    s3.close()
    assert _digest(a, "sim_order_plan") == _digest(b, "sim_order_plan")
    assert _digest(a, "sim_outage") == _digest(b, "sim_outage")
    cols = "order_no, status, accepted_at, arrived_at, restored_at"
    assert _digest(a, "wo_order", cols) == _digest(b, "wo_order", cols)


def test_cli_prints_ready(tmp_path):
    db = tmp_path / "cli.db"
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "--url", _url(db), "--scale", "tiny",
                             "--backfill-days", "1", "--start", "2026-07-15T10:00:00", "--speed", "60"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "simulator ready"
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0


TABLES = ("grid_node", "scada_feeder_load", "ami_tarea_load", "wo_order", "oms_outage",
          "ami_power_event", "weather_obs", "sim_outage", "sim_order_plan")


def _build(path: Path, seed: int, scenario: str = "heatwave") -> None:
    sim = Simulation(_url(path), scale="tiny", scenario=scenario, seed=seed)
    sim.bootstrap(NOW, backfill_days=2)
    sim.advance(NOW + timedelta(minutes=20))
    sim.close()


def test_same_seed_gives_the_same_rows(tmp_path):
    _build(tmp_path / "a.db", 7)
    _build(tmp_path / "b.db", 7)
    for table in TABLES:
        assert _digest(tmp_path / "a.db", table) == _digest(tmp_path / "b.db", table), table


def test_different_seed_gives_different_rows(tmp_path):
    _build(tmp_path / "a.db", 7)
    _build(tmp_path / "b.db", 8)
    for table in TABLES:
        assert _digest(tmp_path / "a.db", table) != _digest(tmp_path / "b.db", table), table


def test_prune_keeps_quarter_hours_of_old_minute_rows(tmp_path):
    sim = Simulation(_url(tmp_path / "p.db"), scale="tiny", seed=2)
    sim.bootstrap(NOW, backfill_days=1)
    sim.advance(NOW + timedelta(hours=1))          # 1-min rows from NOW on
    sim.advance(NOW + timedelta(days=2, hours=3))  # a gap: later minutes only at quarter-hours
    sim.prune()
    sim.close()
    con = sqlite3.connect(tmp_path / "p.db")
    minutes = [int(r[0][14:16]) for r in con.execute(
        "SELECT ts FROM scada_feeder_load WHERE ts > ? AND ts < ?",
        (NOW.strftime("%Y-%m-%d %H:%M:%S.%f"), (NOW + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f")))]
    assert minutes and all(m % 15 == 0 for m in minutes)


def test_district_geojson_covers_every_district():
    from simulator.geo import district_geojson
    fc = district_geojson("tiny", 5)
    sim_codes = {f["properties"]["code"] for f in fc["features"]}
    assert sim_codes == {"PC01", "PC02"}
    for f in fc["features"]:
        ring = f["geometry"]["coordinates"][0]
        assert len(ring) >= 4 and ring[0] == ring[-1]


def test_every_simulated_order_keeps_its_lifecycle_in_order(tmp_path):
    """Repeat calls join a crew already on its way: their departure is never before the call
    (1.2 % of the demo's repair orders were rejected by the lifecycle rule before this)."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    Simulation(url, "small", "heatwave", 20260715).bootstrap(datetime(2026, 7, 15, 13, 0), backfill_days=5)
    con = sqlite3.connect(tmp_path / "s.db")
    steps = ["accepted_at", "dispatched_at", "received_at", "departed_at", "arrived_at", "restored_at"]
    pairs = " + ".join(f"COALESCE({b} < {a}, 0)" for a, b in zip(steps, steps[1:]))
    repeats, broken = con.execute(f"SELECT SUM(content LIKE '再次来电%'), SUM(({pairs}) > 0) FROM wo_order").fetchone()
    assert repeats > 0 and broken == 0
