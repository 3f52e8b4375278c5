"""AMI keeps its 3 h of 台区 points as compact arrays (province-sized memory). The KPIs from that
state equal (1) the frame computation it replaced, on random batches with late rows, corrections,
ties, gaps, off-grid stamps and 台区 without a capacity, and (2) an SQL recomputation end to end."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from collectors.domain import load as kpi
from collectors.domain.tree import Tree
from collectors.plugins.ami import KEEP, AmiCollector
from collectors.plugins.topology import TopologyCollector
from collectors.redis_schema import dataset_key
from tests.kpi_harness import Harness, scalar
from tests.sourcedata import fmt, tiny_nodes

CFG = {"heavy_rate": 0.8, "overload_rate": 1.0, "consecutive_points": 8, "low_voltage_points": 4}
NOW = datetime(2026, 7, 15, 14, 7)


def tiny_tree(no_capacity=("PC01S01F002T003",)) -> Tree:
    nodes = pd.DataFrame(tiny_nodes()).set_index("code")
    nodes.loc[list(no_capacity), "capacity_kva"] = np.nan
    nodes["capacity_kva"] = nodes["capacity_kva"].astype("float64")
    return Tree(nodes)


def reference_merge(state: pd.DataFrame, good: pd.DataFrame, now) -> pd.DataFrame:
    """The frame state AmiCollector kept before: newest updated_at wins, ties to the later row."""
    both = pd.concat([state, good], ignore_index=True) if not state.empty else good
    both = both.sort_values("updated_at", kind="stable").drop_duplicates(["tarea_code", "ts"], keep="last")
    return both[both["ts"] >= pd.Timestamp(now) - KEEP].reset_index(drop=True)


def random_batch(rng, tree: Tree, now: datetime, n: int) -> pd.DataFrame:
    """Most 台区 × quarters of the last 3.5 h around a per-台区 level (some heavy or overloaded
    throughout, some not), with gaps and dips, plus n random extra versions of random points."""
    tareas = tree.codes("tarea").to_numpy()
    quarters = [pd.Timestamp(now).floor("15min") - k * kpi.QUARTER for k in range(14)]
    level = dict(zip(tareas, rng.choice([0.5, 0.85, 1.05, 0.79], len(tareas))))
    low = dict(zip(tareas, rng.integers(0, 3, len(tareas))))
    grid = [(t, q) for t in tareas for q in quarters if rng.random() < 0.93]
    extra = [(rng.choice(tareas), quarters[i]) for i in rng.integers(0, len(quarters), n)]
    extra.append((tareas[0], pd.Timestamp(now).floor("15min") - pd.Timedelta(minutes=7)))   # off the grid
    keys = grid + extra
    m = len(keys)
    rate = np.array([level[t] for t, _ in keys]) * np.where(rng.random(m) < 0.04, 0.5, 1.0)
    rate[rng.random(m) < 0.03] = 0.8                                           # exactly on the limit
    lv = np.array([low[t] for t, _ in keys]) - (rng.random(m) < 0.05)
    return pd.DataFrame({
        "tarea_code": [t for t, _ in keys], "ts": pd.to_datetime([q for _, q in keys]).astype("datetime64[us]"),
        "apparent_kva": (rate * 400.0).round(2), "low_voltage_customers": lv.clip(0).astype("float64"),
        # versions: mostly now, some older (a late row that must lose), some exact ties
        "updated_at": (pd.Timestamp(now) - pd.to_timedelta(rng.integers(0, 3, m) * 60, unit="s")
                       ).astype("datetime64[us]")})


@pytest.mark.parametrize("seed", range(8))
def test_compact_points_equal_the_frame_recomputation(seed):
    rng = np.random.default_rng(seed)
    tree = tiny_tree()
    points, frame = kpi.TareaPoints(), pd.DataFrame()
    now = pd.Timestamp(NOW)
    for step in range(5):                  # five cycles, 15 min apart, each a random batch
        batch = random_batch(rng, tree, now, int(rng.integers(20, 400)))
        batch = batch[batch["ts"] >= now - KEEP]
        points.merge(batch)
        points.keep_from(now - KEEP)
        frame = reference_merge(frame, batch, now)
        got = kpi.tarea_load_points(points, tree, now, CFG)
        want = kpi.tarea_load(frame, tree, now, CFG)
        want = want.loc[sorted(want.index)]
        pd.testing.assert_frame_equal(got, want, check_names=False)
        assert len(points) == len(frame)
        now += kpi.QUARTER
    assert got["heavy_tareas"].sum() > 0 and got["low_voltage_customers"].sum() > 0   # not trivial


def test_no_points_gives_the_empty_frame():
    tree = tiny_tree()
    empty = pd.DataFrame(columns=["tarea_code", "ts", *kpi.TareaPoints.FIELDS])
    pd.testing.assert_frame_equal(kpi.tarea_load_points(kpi.TareaPoints(), tree, NOW, CFG),
                                  kpi.tarea_load(empty, tree, NOW, CFG))


# ---- end to end: collector against SQL -----------------------------------------------------

def ami_rows(url, rows):
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.executemany("INSERT OR REPLACE INTO ami_tarea_load VALUES (?,?,?,?,?,?,?)", rows)


def quarter_rows(end: datetime, start: datetime):
    """Every 台区's points from start to end: some heavy all along, one with a dip, low voltage."""
    rows, t = [], start
    while t <= end:
        for node in tiny_nodes():
            if node["level"] != "tarea":
                continue
            code = node["code"]
            rate = {"PC01S01F001T001": 0.85, "PC01S02F001T002": 1.05, "PC02S01F002T001": 0.9}.get(code, 0.5)
            if code == "PC02S01F002T001" and t == end - timedelta(minutes=45):
                rate = 0.7                                     # one dip: not heavy
            low = 2 if code.endswith("T003") else 0
            rows.append((code, fmt(t), 300.0 * rate, 400.0 * rate, 200.0, low, fmt(t)))
        t += timedelta(minutes=15)
    return rows


def sql_counts(url, node: str, now: datetime) -> dict:
    last = scalar(url, "SELECT max(ts) FROM ami_tarea_load WHERE ts >= :s", s=fmt(now - KEEP))
    last = datetime.fromisoformat(last)
    window = [fmt(last - timedelta(minutes=15 * k)) for k in range(8)]
    marks = ",".join(f"'{w}'" for w in window)
    lv = ",".join(f"'{w}'" for w in window[:4])

    def flagged(rate):
        return scalar(url, f"""SELECT count(*) FROM (SELECT a.tarea_code FROM ami_tarea_load a
            JOIN grid_node g ON g.code = a.tarea_code WHERE a.ts IN ({marks}) AND a.tarea_code LIKE :p
            AND a.apparent_kva / g.capacity_kva >= :r GROUP BY a.tarea_code HAVING count(*) = 8)""",
                      p=node + "%", r=rate)
    return {"heavy_tareas": flagged(0.8), "overload_tareas": flagged(1.0),
            "low_voltage_customers": scalar(url, f"""SELECT coalesce(sum(m), 0) FROM (
                SELECT min(low_voltage_customers) m FROM ami_tarea_load WHERE ts IN ({lv})
                AND tarea_code LIKE :p GROUP BY tarea_code HAVING count(*) = 4)""", p=node + "%"),
            "tareas_reporting": scalar(url, "SELECT count(*) FROM ami_tarea_load WHERE ts = :t"
                                       " AND tarea_code LIKE :p", t=fmt(last), p=node + "%")}


def test_ami_collector_equals_sql(settings_env, source_url, redis_client):
    at = NOW.replace(minute=0)
    ami_rows(source_url, quarter_rows(at, at - timedelta(hours=4)))
    h = Harness(redis_client, [TopologyCollector, AmiCollector], NOW).run()
    nodes = ["PC", "PC01", "PC02", "PC01S01", "PC01S02", "PC02S01", "PC01S01F001", "PC02S01F002"]
    for node in nodes:
        got = h.entry("ami", node)
        assert {k: got[k] for k in sql_counts(source_url, node, NOW)} == sql_counts(source_url, node, NOW), node
    assert h.entry("ami", "PC")["heavy_tareas"] == 2 and h.entry("ami", "PC")["overload_tareas"] == 1
    # next quarter, polled: a new point, and a late correction that ends one 台区's heavy run
    later = NOW + timedelta(minutes=15)
    rows = quarter_rows(at + timedelta(minutes=15), at + timedelta(minutes=15))
    stamp = fmt(later - timedelta(minutes=1))
    rows = [(r[0], r[1], r[2], r[3], r[4], r[5], stamp) for r in rows]
    rows.append(("PC01S01F001T001", fmt(at - timedelta(minutes=30)), 100.0, 120.0, 200.0, 0, stamp))
    ami_rows(source_url, rows)
    h.at(later).run()
    assert "ami_tarea_load" in h.runners[1].collector.watermarks
    for node in nodes:
        got = h.entry("ami", node)
        assert {k: got[k] for k in sql_counts(source_url, node, later)} == sql_counts(source_url, node, later), node
    assert h.entry("ami", "PC")["heavy_tareas"] == 1
    assert json.loads(redis_client.hget(dataset_key("ami"), "PC01S01F001T003"))["low_voltage_customers"] == 2


# ---- the batch path: shared look-ups and parses give the generic rules' verdicts -------------

def generic_rules(tree: Tree, now: datetime):
    """The rules as AmiCollector declared them with the generic validation helpers."""
    from collectors.domain import validation as v
    latest = now + timedelta(minutes=5)
    cap = tree.nodes["capacity_kva"]
    return [*v.required("tarea_code", "ts", "active_kw", "apparent_kva", "voltage_min_v",
                        "low_voltage_customers", "updated_at"), v.text("tarea_code", 32),
            v.known_code("tarea_code", tree.codes("tarea")),
            v.timestamp("ts", latest), v.timestamp("updated_at", latest),
            v.number("active_kw", 0, 1e6), v.number("apparent_kva", 0, 1e6),
            v.number("voltage_min_v", 0, 1000), v.number("low_voltage_customers", 0, 1e5),
            v.Rule("apparent_kva", "over_10x_capacity",
                   lambda df: pd.to_numeric(df["apparent_kva"], errors="coerce")
                   > 10 * cap.reindex(df["tarea_code"]).to_numpy())]


def messy_batch(rng, tree: Tree, n: int, clean: bool) -> pd.DataFrame:
    codes = list(tree.codes("tarea")) + ["PC01", "NOWHERE", "", None, "PC01S01F001T001\udc80"]
    stamps = [fmt(NOW - timedelta(minutes=15 * k)) for k in range(4)] + \
        ["yesterday", fmt(NOW + timedelta(days=1)), "1999-01-01 00:00:00", None]
    pick = lambda xs, p_good, k: [xs[i] if rng.random() < p_good else xs[rng.integers(len(xs))]   # noqa: E731
                                  for i in rng.integers(0, k, n)]
    frame = pd.DataFrame({
        "tarea_code": pick(codes, 0.85, len(codes) - 5), "ts": pick(stamps, 0.9, 4),
        "active_kw": rng.uniform(0, 500, n), "apparent_kva": rng.choice([100.0, 390.0, 5000.0, -1.0, np.nan], n,
                                                                        p=[.6, .3, .05, .03, .02]),
        "voltage_min_v": rng.uniform(180, 240, n), "low_voltage_customers": rng.integers(0, 3, n),
        "updated_at": pick(stamps, 0.9, 2)})
    if not clean:   # wrong types inside columns: object columns, as a loose source sends them
        frame = frame.astype(object)
        frame.loc[frame.index[::17], "apparent_kva"] = "abc"
        frame.loc[frame.index[::23], "tarea_code"] = 42
    return frame


@pytest.mark.parametrize("seed,clean", [(s, c) for s in range(4) for c in (True, False)])
def test_batch_rules_equal_the_generic_rules(seed, clean):
    from collectors.base import Context
    from collectors.domain import validation as v
    rng = np.random.default_rng(seed)
    tree = tiny_tree()
    ctx = Context(None, None, None, tree=tree)
    ami = AmiCollector(ctx)
    batch = messy_batch(rng, tree, 600, clean)
    got_good, got_rej = v.apply_rules(batch, ami.rules(NOW), source="AMI", table="ami_tarea_load",
                                      key=["tarea_code", "ts"])
    want_good, want_rej = v.apply_rules(batch, generic_rules(tree, NOW), source="AMI", table="ami_tarea_load",
                                        key=["tarea_code", "ts"])
    assert got_rej == want_rej and got_good.index.equals(want_good.index)
    assert 0 < len(want_rej) < len(batch)
    # and absorbing the batch (with a conflicting duplicate) leaves the state the frame path would
    dup = want_good.iloc[:1].assign(apparent_kva=123.0)
    batch = pd.concat([batch, dup], ignore_index=True)
    rejects = ami._absorb(batch, NOW)
    good, _ = v.apply_rules(batch, generic_rules(tree, NOW), source="AMI", table="ami_tarea_load",
                            key=["tarea_code", "ts"])
    from collectors.frames import conflicts_within, typed
    good = typed(good, times=("ts", "updated_at"), numbers=("active_kw", "apparent_kva", "voltage_min_v",
                                                              "low_voltage_customers"))
    conflict = conflicts_within(good, ["tarea_code", "ts"], "updated_at")
    assert sum(r["rule"] == "duplicate_conflict" for r in rejects) == conflict.sum() > 0
    want = reference_merge(pd.DataFrame(), good[~conflict], NOW)
    got = ami.points.frame().sort_values(["tarea_code", "ts"]).reset_index(drop=True)
    want = want[["tarea_code", "ts", *kpi.TareaPoints.FIELDS]].sort_values(["tarea_code", "ts"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_two_read_poll_returns_what_one_read_does(settings_env, source_url, redis_client):
    """The overlap window and the newer rows, read apart, are the rows of Collector.poll's one
    read: stamps exactly at the watermark in both text forms, late ones inside the overlap,
    none from before it."""
    from collectors.base import Collector
    from collectors.sources.schema import ami_tarea_load
    mark = NOW - timedelta(minutes=7)
    stamp = {"plain": fmt(mark), "fraction": fmt(mark) + ".000000", "late": fmt(mark - timedelta(minutes=4)),
             "gone": fmt(mark - timedelta(minutes=11)), "new": fmt(mark + timedelta(seconds=1)),
             "new_fraction": fmt(mark + timedelta(minutes=2)) + ".000000"}
    ami_rows(source_url, [(f"PC01S01F001T00{i % 3 + 1}", fmt(NOW - timedelta(minutes=15 * i)), 1.0, 2.0, 220.0, 0, u)
                          for i, u in enumerate(stamp.values())])
    h = Harness(redis_client, [TopologyCollector, AmiCollector], NOW)
    h.runners[0].run_once()
    ami = h.runners[1].collector
    ami.watermarks["ami_tarea_load"] = mark
    two = ami.poll(ami_tarea_load)
    ami._seen.clear()
    one = Collector.poll(ami, ami_tarea_load)
    key = ["tarea_code", "ts", "updated_at"]
    assert sorted(map(tuple, two[key].to_numpy())) == sorted(map(tuple, one[key].to_numpy()))
    assert len(two) == 5 and stamp["gone"] not in set(two["updated_at"])
