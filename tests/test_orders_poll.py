"""The orders poll tells the overlap's rows seen before apart on the driver's own tuples (not a
frame of every row hashed as pandas text): cycle after cycle it must absorb what the generic
Collector.poll (SeenRows over the whole frame) absorbs, reject the same rows, and reject each bad
row version exactly once. (The generic poll hashes a row by its batch's column dtypes: a column
all NULL in one batch and mixed in the next hashes the same row differently, so it can read an
unchanged row again and count its reject twice; the driver's tuples do not depend on the batch.)

Two collectors on one source and one tree, stepped together: new orders, newer versions,
same-stamp rewrites (the source changed a row without a new stamp: rejected as a conflict),
rewrites to the very same content (nothing to do), malformed rows, rows re-read by the overlap.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from collectors.base import Collector
from collectors.plugins.orders import OrdersCollector
from collectors.plugins.topology import TopologyCollector
from tests.kpi_harness import Harness
from tests.sourcedata import fmt
from tests.test_orders_incremental import AREAS, START, history, row, write


class GenericPoll(OrdersCollector):
    """The reference: the base class's poll (whole frame, SeenRows content hashes)."""
    poll = Collector.poll


def _rejects(result) -> list[tuple]:
    return sorted((r["key"], r["field"], r["rule"]) for r in result.rejects)


def _same_store(a: OrdersCollector, b: OrdersCollector) -> None:
    fa, fb = a.state.sort_index(), b.state.sort_index()
    pd.testing.assert_frame_equal(fa, fb)


@pytest.mark.parametrize("seed", [4, 5])
def test_poll_on_driver_tuples_absorbs_and_rejects_as_the_generic_poll(settings_env, source_url, redis_client,
                                                                       seed):
    rng = np.random.default_rng(seed)
    write(source_url, history(rng))
    h = Harness(redis_client, [TopologyCollector], START).run()
    mine, ref = OrdersCollector(h.ctx), GenericPoll(h.ctx)
    now = START
    for c in (mine, ref):
        c.cycle(now)
    _same_store(mine, ref)
    live: list[dict] = []
    n = 0
    seen: dict[str, set] = {}                      # order -> every content written for it
    want_conflicts: dict[str, int] = {}
    got_rejects: list[tuple] = []
    ref_rejects: set = set()
    for cycle in range(25):                        # under an hour: the overlap re-reads every row
        now += timedelta(seconds=int(rng.integers(30, 120)))
        new = []
        for _ in range(int(rng.integers(1, 4))):
            n += 1
            new.append(row(f"P{n}", rng.choice(AREAS), now - timedelta(seconds=int(rng.integers(0, 40))),
                           updated=now - timedelta(seconds=int(rng.integers(0, 20)))))
        if rng.random() < 0.3:        # malformed: an unknown 台区
            n += 1
            new.append(row(f"P{n}", "NOWHERE", now, updated=now))
        moves = []
        for r in list(live):          # orders the collector has read (one write each per cycle)
            u = rng.random()
            if u < 0.15:              # a newer version
                r2 = dict(r, status="arrived", arrived_at=fmt(now), updated_at=fmt(now))
            elif u < 0.25:            # the same stamp, maybe other content, maybe as it was
                r2 = dict(r, tarea_code=str(rng.choice(AREAS)))
                if tuple(r2.items()) not in seen[r["order_no"]]:
                    want_conflicts[r["order_no"]] = want_conflicts.get(r["order_no"], 0) + 1
            else:
                continue
            seen[r["order_no"]].add(tuple(r2.items()))
            moves.append(r2)
            live[live.index(r)] = r2
        write(source_url, moves, update=True)
        write(source_url, new)
        for r in new:
            seen[r["order_no"]] = {tuple(r.items())}
        live += [r for r in new if r["tarea_code"] != "NOWHERE"]
        h.at(now)
        got, want = mine.cycle(now)[0], ref.cycle(now)[0]
        got_rejects += _rejects(got)
        ref_rejects |= set(_rejects(want))
        _same_store(mine, ref)
        assert mine.watermarks == ref.watermarks
    assert set(got_rejects) == ref_rejects
    bad = {k for k, _, rule in got_rejects if rule == "known_code"}
    assert bad and all(got_rejects.count((k, "tarea_code", "known_code")) == 1 for k in bad)
    conflicts = {k: sum(1 for r in got_rejects if r == (k, "order_no", "duplicate_conflict"))
                 for k in want_conflicts}
    assert want_conflicts and conflicts == want_conflicts
