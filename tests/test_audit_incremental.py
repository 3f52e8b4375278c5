"""The audit's and the outages' incremental state (per-feeder episodes, per-case base rebuilt only for the touched
cases, findings re-serialised only when they may have changed, month and pending counts rolled
up from the changes, the audit and outages hashes published as patches of the changed entries, the
outages entries re-serialised only where a value moved) against a full
recomputation: after every cycle of a run with new, corrected and closed events, malformed rows,
OMS reports arriving, changing and leaving, and events leaving the 35-day window, the live
collectors publish what freshly started ones publish, and Redis holds exactly those entries."""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from collectors.domain import audit as kpi
from collectors.plugins.events import _months
from collectors.plugins.outages import OutagesLog
from collectors.publish import dumps, encode
from collectors.redis_schema import connect, dataset_key
from config.limits import limits
from tests.kpi_harness import Harness, insert
from tests.sourcedata import fmt
from tests.test_events_incremental import COLLECTORS, FEEDERS, Source, published

START = datetime(2026, 7, 15, 3, 0)


class Mutations:
    """What the random Source does not: corrections of events already absorbed (a later
    updated_at with another timestamp or kind), closes arriving long after the trip, and
    malformed rows (unknown code, unknown kind, a stamp that is not a time)."""

    def __init__(self, url: str, seed: int):
        self.url, self.rnd, self.n = url, random.Random(seed * 7919), 0

    def step(self, now: datetime) -> int:
        rnd, bad = self.rnd, 0
        engine = create_engine(self.url)
        with engine.begin() as c:
            rows = c.execute(text("SELECT event_id, ts FROM scada_breaker_event WHERE event = 'trip' AND event_id NOT LIKE 'BAD%' "
                                  "ORDER BY event_id")).fetchall()
            for event_id, ts in rnd.sample(rows, min(len(rows), rnd.randint(0, 2))):
                moved = datetime.fromisoformat(str(ts)) + timedelta(seconds=rnd.choice([-90, 30, 400]))
                c.execute(text("UPDATE scada_breaker_event SET ts = :ts, updated_at = :u WHERE event_id = :e"),
                          {"ts": fmt(min(moved, now)), "u": fmt(now), "e": event_id})
            gasps = c.execute(text("SELECT event_id FROM ami_power_event ORDER BY event_id")).fetchall()
            for (event_id,) in rnd.sample(gasps, min(len(gasps), rnd.randint(0, 2))):
                c.execute(text("UPDATE ami_power_event SET event = CASE event WHEN 'power_off' THEN 'power_on' "
                               "ELSE 'power_off' END, updated_at = :u WHERE event_id = :e"),
                          {"u": fmt(now), "e": event_id})
            opened = c.execute(text("SELECT feeder_code, MAX(ts) FROM scada_breaker_event GROUP BY feeder_code "
                                    "HAVING SUM(event = 'trip') > SUM(event = 'close')")).fetchall()
            for feeder, _ in opened[:rnd.randint(0, 2)]:
                self.n += 1
                c.execute(text("INSERT INTO scada_breaker_event (event_id, feeder_code, event, ts, updated_at) "
                               "VALUES (:e, :f, 'close', :t, :t)"), {"e": f"X{self.n:05d}", "f": feeder, "t": fmt(now)})
        engine.dispose()
        if rnd.random() < 0.5:
            self.n += 1
            feeder = rnd.choice(FEEDERS)
            broken = rnd.choice([{"feeder_code": "PC99S99F999"}, {"event": "explode"}, {"ts": "yesterday"}])
            row = {"event_id": f"BAD{self.n:04d}", "feeder_code": feeder, "event": "trip", "ts": fmt(now),
                   "updated_at": fmt(now), **broken}
            insert(self.url, "scada_breaker_event", [row])
            bad += 1
        return bad


def redis_hash(client, name: str) -> dict[str, str]:
    return client.hgetall(dataset_key(name))


@pytest.mark.parametrize("seed", [3, 4])
def test_incremental_audit_equals_a_full_recomputation(settings_env, source_url, redis_client, redis_url, seed):
    source, mutations = Source(source_url, seed), Mutations(source_url, seed)
    rnd = random.Random(seed)
    fresh_client = connect(redis_url.rsplit("/", 1)[0] + "/1")   # the fresh collectors write apart
    now = START
    source.step(now - timedelta(hours=3), now)
    live = Harness(redis_client, COLLECTORS, now).run()
    steps = [timedelta(seconds=rnd.choice([5, 5, 60, 240, 600, 1200])) for _ in range(16)]
    steps += [timedelta(days=34, hours=22), timedelta(minutes=30), timedelta(minutes=45), timedelta(days=20),
              timedelta(minutes=5)]
    bad_rows = patched = patched_outages = 0
    for i, step in enumerate(steps):
        before, now = now, now + step
        source.step(max(before, now - timedelta(hours=1)), now, events=rnd.random() < 0.7,
                    reports=rnd.random() < 0.6)
        bad_rows += mutations.step(now)
        live.at(now).run()
        events = next(r for r in live.runners if r.collector.name == "events")
        audit = next(ds for ds in events.last_datasets if ds.name == "audit")
        patched += audit.patch is not None
        outages = next(ds for r in live.runners for ds in r.last_datasets if ds.name == "outages")
        assert redis_hash(redis_client, "outages") == encode(outages), f"Redis outages hash differs at {now}"
        patched_outages += outages.patch is not None
        # what Redis holds after the patch is exactly the dataset's entries
        assert redis_hash(redis_client, "audit") == encode(audit), (f"Redis audit hash differs at {now}", audit.patch and audit.patch.removed, audit.patch and audit.patch.base, events.published)
        fresh_client.flushdb()
        fresh = Harness(fresh_client, COLLECTORS, now).run()
        got, want = published(live), published(fresh)
        for name in ("audit", "outages", "frequent_outages"):
            assert got[name] == want[name], f"{name} differs at step {i}, {now} (seed {seed})"
        assert redis_hash(redis_client, "audit") == redis_hash(fresh_client, "audit")
        check_month_and_pending(events.collector, live.ctx, audit, now)
        check_tripped(events.collector, live.ctx, fresh.ctx)
        check_pair_base(next(r.collector for r in live.runners if r.collector.name == "outages"), live.ctx)
    assert events.health["rejected_total"] >= bad_rows > 0
    assert patched >= len(steps) // 2       # the audit went out as patches (whole after a new tree)
    assert patched_outages >= len(steps) - 1
    fresh_client.close()


def check_month_and_pending(collector, ctx, audit, now) -> None:
    """The month figures and pending counts per node (rolled up from changes) against the whole
    audit derived from the events in one go and rolled up with tree.rollup."""
    cfg = limits()["audit"]
    log = ctx.frames["outages.log"]
    cases, _ = kpi.audit(collector.events["scada_breaker_event"], collector.events["ami_power_event"],
                         log.outages, log.scope, ctx.tree, now, cfg)
    rates = kpi.month_rates(cases, ctx.tree, now)
    months = _months(rates)
    pending = cases[cases["pending"]].groupby("equipment").size().rename("pending").rename_axis("code").reset_index()
    waiting = ctx.tree.rollup(pending, "code", upto="tarea")["pending"] if not pending.empty else {}
    got = {code: json.loads(entry) for code, entry in audit.entries.items()}
    assert set(got) == set(months)
    for code, entry in got.items():
        assert entry["month"] == json.loads(dumps(months[code])), code
        assert entry["pending"] == int(waiting.get(code, 0)), code


def test_outages_log_tells_what_changed_since_a_revision():
    empty = __import__("pandas").DataFrame()
    log = OutagesLog(5, empty, empty, ((3, frozenset({"a"})), (4, frozenset({"b"})), (5, frozenset({"c", "a"}))))
    assert log.changed_since(5) == set()
    assert log.changed_since(4) == {"a", "c"}
    assert log.changed_since(2) == {"a", "b", "c"}
    assert log.changed_since(1) is None          # revision 2 is no longer kept
    assert log.changed_since(None) is None
    assert log.changed_since(6) is None          # another collector's log


def check_tripped(collector, ctx, fresh_ctx) -> None:
    """The feeders whose breaker is open now (read off the incremental episodes) against the
    breaker events' own trip-to-close episodes and a fresh start's."""
    import pandas as pd

    def rows(frame):
        return sorted(zip(frame["feeder_code"].tolist(), pd.to_datetime(frame["since"]).tolist()))

    breaker = collector.events["scada_breaker_event"]
    want = []
    if not breaker.empty:
        eps = kpi.device_episodes(breaker, "feeder_code", "trip", "close")
        want = rows(eps[eps["end"].isna()].rename(columns={"start": "since"}))
    assert rows(ctx.frames["events.tripped"]) == want
    assert rows(fresh_ctx.frames["events.tripped"]) == want


def check_pair_base(collector, ctx) -> None:
    """The outages' (outage, 台区) pairs kept between cycles (only changed outages derived again)
    against reliability.pair_base of the whole frames."""
    from collectors.domain import reliability

    def rows(frame):
        return sorted(frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None))

    kept = collector._memo["pairs"][4]
    assert rows(kept) == rows(reliability.pair_base(collector.outages, collector.scope, ctx.tree))
