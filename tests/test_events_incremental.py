"""The outages and events collectors keep state between cycles (audit base, month roll-ups,
evidence, per-node counts reused while their inputs are unchanged). After every cycle of a random
run (events and OMS reports arriving late, corrected, restored, cancelled; the clock moving across
the must-report and report-within limits and out of the event window) what they publish must
equal what freshly started collectors publish from the same source at the same time."""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from collectors.plugins.events import EventsCollector
from collectors.plugins.outages import OutagesCollector
from collectors.plugins.topology import TopologyCollector
from collectors.publish import dumps
from tests.kpi_harness import Harness, insert
from tests.sourcedata import fmt, tiny_nodes

COLLECTORS = [TopologyCollector, OutagesCollector, EventsCollector]
START = datetime(2026, 7, 15, 3, 0)
FEEDERS = [n["code"] for n in tiny_nodes() if n["level"] == "feeder"]
TAREAS = [n["code"] for n in tiny_nodes() if n["level"] == "tarea"]


def published(h: Harness) -> dict[str, str]:
    return {ds.name: dumps(sorted(ds.entries.items())) for r in h.runners for ds in r.last_datasets}


class Source:
    """Writes random device events and OMS reports around a moving clock."""

    def __init__(self, url: str, seed: int):
        self.url, self.rnd, self.n = url, random.Random(seed), 0
        self.outages: dict[str, dict] = {}

    def _id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n:05d}"

    def step(self, before: datetime, now: datetime, events: bool = True, reports: bool = True) -> None:
        if events:
            self._events(before, now)
        if reports:
            self._reports(before, now)

    def _events(self, before: datetime, now: datetime) -> None:
        rnd = self.rnd
        breakers, gasps = [], []
        for _ in range(rnd.randint(0, 3)):
            feeder = rnd.choice(FEEDERS)
            off = before + (now - before) * rnd.random()
            late = rnd.random() < 0.3      # committed after the watermark passed its timestamp
            on = off + timedelta(minutes=rnd.choice([1, 4, 6, 20, 45]))
            for kind, ts in (("trip", off), ("close", on)):
                if ts <= now and (kind == "trip" or rnd.random() < 0.8):
                    breakers.append({"event_id": self._id("B"), "feeder_code": feeder, "event": kind,
                                     "ts": fmt(ts), "updated_at": fmt(now if late else ts)})
            for tarea in rnd.sample([t for t in TAREAS if t.startswith(feeder)], rnd.randint(0, 3)):
                gasps += self._gasps(tarea, off + timedelta(seconds=rnd.randint(-60, 600)), on, now, late)
        for _ in range(rnd.randint(0, 3)):
            tarea = rnd.choice(TAREAS)
            off = before + (now - before) * rnd.random()
            gasps += self._gasps(tarea, off, off + timedelta(minutes=rnd.choice([2, 8, 30, 90])), now, False)
        insert(self.url, "scada_breaker_event", breakers)
        insert(self.url, "ami_power_event", gasps)

    def _gasps(self, tarea, off, on, now, late) -> list[dict]:
        rnd, rows = self.rnd, []
        meter = f"M{rnd.randint(1, 3)}" if rnd.random() < 0.3 else None
        for kind, ts in (("power_off", off), ("power_on", on)):
            if ts <= now and (kind == "power_off" or rnd.random() < 0.85):
                rows.append({"event_id": self._id("A"), "tarea_code": tarea,
                             "device": "meter" if meter else "concentrator", "meter_id": meter,
                             "event": kind, "ts": fmt(ts), "updated_at": fmt(now if late else ts)})
        return rows

    def _reports(self, before: datetime, now: datetime) -> None:
        rnd = self.rnd
        engine = create_engine(self.url)
        with engine.begin() as c:
            for _ in range(rnd.randint(0, 2)):           # a new report
                feeder_level = rnd.random() < 0.5
                feeder = rnd.choice(FEEDERS)
                tareas = [t for t in TAREAS if t.startswith(feeder)]
                equipment = feeder if feeder_level else rnd.choice(tareas)
                start = before + (now - before) * rnd.random()
                if rnd.random() < 0.2:     # announced to start a little later: in progress from then on
                    start = now + timedelta(minutes=rnd.choice([1, 3, 10]))
                row = {"outage_id": self._id("O"), "outage_type": rnd.choice(["fault", "temporary", "planned"]),
                       "equipment_type": "feeder" if feeder_level else "tarea", "equipment_code": equipment,
                       "cause": "test", "customers": rnd.choice([100, 300, 600, 900]), "start_at": fmt(start),
                       "reported_at": fmt(min(now, start + timedelta(minutes=rnd.choice([3, 10, 25])))),
                       "etr": fmt(start + timedelta(minutes=rnd.choice([20, 60]))), "restored_at": None,
                       "status": "active", "notice_published_at": None, "updated_at": fmt(now)}
                scope = tareas if feeder_level else [equipment]
                scope = rnd.sample(scope, max(1, len(scope) - rnd.randint(0, 1)))
                self._write(c, row, scope)
            for oid in rnd.sample(sorted(self.outages), min(len(self.outages), rnd.randint(0, 2))):
                row = dict(self.outages[oid], updated_at=fmt(now))   # restore, cancel or re-scope
                choice = rnd.random()
                if choice < 0.5 and row["restored_at"] is None:
                    row.update(status="restored", restored_at=fmt(now - timedelta(minutes=rnd.randint(0, 30))))
                    scope = None
                elif choice < 0.65:
                    row.update(status="cancelled")
                    scope = None
                else:
                    feeder = row["equipment_code"][:11]
                    scope = rnd.sample([t for t in TAREAS if t.startswith(feeder)], rnd.randint(1, 3))
                if row["restored_at"] and row["restored_at"] < row["start_at"]:
                    row["restored_at"] = row["start_at"]
                c.execute(text("DELETE FROM oms_outage WHERE outage_id = :o"), {"o": oid})
                if scope is not None:
                    c.execute(text("DELETE FROM oms_outage_tarea WHERE outage_id = :o"), {"o": oid})
                self._write(c, row, scope)
        engine.dispose()

    def _write(self, c, row: dict, scope: list[str] | None) -> None:
        cols = list(row)
        c.execute(text(f"INSERT INTO oms_outage ({', '.join(cols)}) VALUES ({', '.join(':' + k for k in cols)})"),
                  row)
        for tarea in scope or []:
            c.execute(text("INSERT INTO oms_outage_tarea (outage_id, tarea_code, updated_at) VALUES (:o, :t, :u)"),
                      {"o": row["outage_id"], "t": tarea, "u": row["updated_at"]})
        self.outages[row["outage_id"]] = row


@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_cycles_equal_a_fresh_start(settings_env, source_url, redis_client, seed):
    source = Source(source_url, seed)
    rnd = random.Random(seed)
    now = START
    source.step(now - timedelta(hours=3), now)
    live = Harness(redis_client, COLLECTORS, now).run()
    steps = [timedelta(seconds=rnd.choice([5, 60, 240, 600, 1200])) for _ in range(14)]
    # events leave the 35-day window a few at a time, then all at once
    steps += [timedelta(days=34, hours=22), timedelta(minutes=30), timedelta(minutes=30), timedelta(minutes=40),
              timedelta(days=20)]
    findings = decided = 0
    for step in steps:
        before, now = now, now + step
        what = rnd.random()     # device events only, OMS reports only, both, or nothing new
        source.step(max(before, now - timedelta(hours=1)), now, events=what < 0.6, reports=what > 0.3)
        live.at(now).run()
        fresh = Harness(redis_client, COLLECTORS, now).run()
        got, want = published(live), published(fresh)
        for name in ("outages", "frequent_outages", "audit"):
            assert got[name] == want[name], f"{name} differs at {now} (seed {seed})"
        for ds in (ds for r in live.runners for ds in r.last_datasets if ds.name in ("audit", "outages")):
            for code, entry in ds.entries.items():   # entries assembled as JSON text: what dumps writes
                if code != "_active":
                    assert isinstance(entry, str) and dumps(json.loads(entry)) == entry, (ds.name, code)
        city = live.entry("audit", "PC")
        findings += len(city["findings"]) if city else 0
        decided += city["month"]["must_report"] if city else 0
    # the run must have exercised the audit: findings listed and cases decided along the way
    assert findings > 5 and decided > 5, (findings, decided)
