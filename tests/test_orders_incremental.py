"""The orders collector's running state (repair KPIs kept per cycle, entries published as patches)
equals a full recomputation of the whole window after every cycle, and Redis holds exactly it.

Cycles of a real collector against a real SQLite source and a real Valkey: new orders (some
stamped a little ahead of now), new versions (steps taken, restored, cancelled, moved to another
台区), orders leaving the last hour and the baseline instant moving on, an hour boundary, and a
malformed row. After each cycle every published entry is compared, as bytes, with the entries
the old whole-window computation gives from the same store.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from collectors.domain import orders as kpi
from collectors.plugins.orders import OrdersCollector
from collectors.plugins.topology import TopologyCollector
from collectors.publish import dumps
from collectors.redis_schema import DEFAULT_ENTRY, dataset_key
from config.limits import limits
from tests.kpi_harness import Harness
from tests.sourcedata import fmt

START = datetime(2026, 7, 15, 14, 20)   # a Wednesday
AREAS = ["PC01S01F001T001", "PC01S01F001T002", "PC01S02F002T003", "PC02S01F001T001", "PC02S01F002T002",
         "PC01S02F001T001"]
LONELY = "PC02S01F002T003"    # only old orders still open: shown until they close, then removed
STEPS = ("dispatched", "received", "departed", "arrived", "restored")


def row(no, tarea, acc, *, status="accepted", kind="repair", updated=None, key=False, **steps):
    r = {"order_no": no, "order_type": kind, "subtype": "低压故障", "customer_id": f"C{no}", "phone": None,
         "tarea_code": tarea, "channel": "95598", "key_customer": int(key), "content": None,
         "status": status, "accepted_at": fmt(acc), "updated_at": fmt(updated or acc)}
    r.update({f"{s}_at": fmt(steps[s]) if s in steps else None for s in STEPS})
    return r


def write(url, rows, update=False):
    engine = create_engine(url)
    with engine.begin() as c:
        for r in rows:
            cols = list(r)
            if update:
                sets = ", ".join(f"{k} = :{k}" for k in cols if k != "order_no")
                c.execute(text(f"UPDATE wo_order SET {sets} WHERE order_no = :order_no"), r)
            else:
                c.execute(text(f"INSERT INTO wo_order ({', '.join(cols)}) VALUES "
                               f"({', '.join(':' + k for k in cols)})"), r)
    engine.dispose()


def history(rng) -> list[dict]:
    """Orders over the 36 days before START: baseline days, today, old ones still open."""
    rows = []
    for i in range(260):
        acc = START - timedelta(minutes=int(rng.integers(1, 36 * 24 * 60)))
        if i % 3 == 0:     # same time of day on an earlier day: the baseline windows
            acc = START - timedelta(days=int(rng.integers(1, 8)), minutes=int(rng.integers(-90, 90)))
        kind = "repair" if i % 5 else "consult"
        if rng.random() < 0.6 and acc < START - timedelta(hours=5):
            rows.append(row(f"H{i}", rng.choice(AREAS), acc, status="restored", kind=kind,
                            arrived=acc + timedelta(minutes=30), restored=acc + timedelta(hours=2),
                            updated=acc + timedelta(hours=2)))
        else:
            rows.append(row(f"H{i}", rng.choice(AREAS), acc, kind=kind, key=rng.random() < 0.2))
    rows += [row(f"L{i}", LONELY, START - timedelta(days=2, hours=i)) for i in range(3)]
    return rows


def full_entries(collector: OrdersCollector, now: datetime) -> dict[str, str]:
    """What the whole-window computation publishes from the same store."""
    s = collector.store
    per_node = kpi.node_kpis(s.frame(columns=["order_type", "tarea_code", "status", "area_type",
                                              "key_customer", "accepted_at", "arrived_at", "restored_at"]),
                             collector.tree, now, limits())
    days = per_node.attrs["baseline_days"]
    upper = collector.tree.nodes.index[collector.tree.nodes["level"] != "tarea"]
    entries = kpi.payloads(kpi.active_nodes(per_node, upper), days)
    entries[DEFAULT_ENTRY] = kpi.zero_payload(days)
    return {k: dumps(v) for k, v in entries.items()}, per_node


def check(h: Harness, collector: OrdersCollector, now: datetime) -> None:
    want, per_node = full_entries(collector, now)
    in_redis = h.client.hgetall(dataset_key("orders"))
    assert set(in_redis) == set(want)
    bad = [k for k in want if in_redis[k] != want[k]]
    assert not bad, (now, bad[:5], in_redis[bad[0]], want[bad[0]])
    rep = limits()["repair"]        # countdowns: every open order's list entry, as top_per_node gives
    s = collector.store
    clocks = kpi.countdowns(s.frame(rows=np.flatnonzero(s.open_repair())), now, rep)
    from collectors.domain.lists import top_per_node
    want = {k: dumps(v) for k, v in top_per_node(clocks, collector.tree, "tarea_code", rep["countdown_levels"],
                                                 ["minutes_left"], [True], rep["countdown_top"]).items()}
    assert h.client.hgetall(dataset_key("countdowns")) == want
    frame = h.ctx.frames["orders.nodes"]
    upper = per_node.reindex(frame.index).fillna(0.0)
    np.testing.assert_allclose(frame.to_numpy(), upper[frame.columns].to_numpy(), atol=1e-12)


@pytest.mark.parametrize("seed", [1, 2])
def test_running_repair_kpis_equal_a_full_recomputation_every_cycle(settings_env, source_url, redis_client, seed):
    rng = np.random.default_rng(seed)
    write(source_url, history(rng))
    h = Harness(redis_client, [TopologyCollector, OrdersCollector], START).run()
    orders = h.runners[1].collector
    check(h, orders, START)
    now, n = START, 0
    opened: list[dict] = []
    # 40 cycles of 1–4 minutes from 14:20: past the 15:00 hour, orders age out of the last hour
    for cycle in range(40):
        now += timedelta(seconds=int(rng.integers(60, 240)))
        new = []
        for _ in range(int(rng.integers(0, 4))):
            n += 1
            ahead = timedelta(minutes=3) if rng.random() < 0.15 else -timedelta(seconds=int(rng.integers(0, 50)))
            r = row(f"N{n}", rng.choice(AREAS), now + ahead, key=rng.random() < 0.3,
                    kind="repair" if rng.random() < 0.8 else "consult", updated=now)
            new.append(r)
        write(source_url, new)
        opened += [r for r in new if r["order_type"] == "repair" and r["accepted_at"] <= fmt(now)]
        moves = []
        for r in list(opened):
            if rng.random() < 0.25:       # the next step, restored, cancelled, or another 台区
                acc = datetime.fromisoformat(r["accepted_at"])
                choice = rng.integers(0, 4)
                if choice == 0:
                    r2 = dict(r, status="arrived", arrived_at=fmt(now), updated_at=fmt(now))
                elif choice == 1:
                    r2 = dict(r, status="restored", arrived_at=fmt(acc + timedelta(seconds=30)),
                              restored_at=fmt(now), updated_at=fmt(now))
                    opened.remove(r)
                elif choice == 2:
                    r2 = dict(r, status="cancelled", updated_at=fmt(now))
                    opened.remove(r)
                else:
                    r2 = dict(r, tarea_code=str(rng.choice(AREAS)), updated_at=fmt(now))
                moves.append(r2)
                if r in opened:
                    opened[opened.index(r)] = r2
        if cycle == 10:
            moves += [dict(row(f"L{i}", LONELY, START - timedelta(days=2, hours=i)), status="restored",
                           arrived_at=fmt(now - timedelta(minutes=9)), restored_at=fmt(now), updated_at=fmt(now))
                      for i in range(3)]
        write(source_url, moves, update=True)
        if cycle == 9:
            assert h.entry("orders", LONELY)["open_repair"] == 3
        if cycle == 11:
            assert h.entry("orders", LONELY) is None
        if cycle in (5, 17):              # malformed: unknown 台区; arrived before it was accepted
            n += 1
            write(source_url, [row(f"N{n}", "NOPE", now, updated=now)])
            n += 1
            write(source_url, [row(f"N{n}", AREAS[0], now, status="arrived", arrived=now - timedelta(hours=1),
                                   updated=now)])
        h.at(now).run()
        check(h, orders, now)
    assert h.runners[1].health["rejected_total"] >= 4
    assert now > START.replace(hour=15, minute=25)


def test_a_wiped_redis_gets_every_entry_again(settings_env, source_url, redis_client):
    """A patch is only written on top of what this process published: after a wipe, whole."""
    write(source_url, history(np.random.default_rng(3)))
    h = Harness(redis_client, [TopologyCollector, OrdersCollector], START).run()
    orders = h.runners[1].collector
    redis_client.flushdb()
    write(source_url, [row("W1", AREAS[0], START + timedelta(seconds=30))])
    h.at(START + timedelta(minutes=1)).run()
    check(h, orders, START + timedelta(minutes=1))
    assert json.loads(redis_client.hget(dataset_key("orders"), AREAS[0]))["repair_today"] >= 1


# --- sensitive orders --------------------------------------------------------------------------
from collectors.domain import sensitive as sens  # noqa: E402
from collectors.domain.lists import top_per_node  # noqa: E402
from collectors.plugins.outages import OutagesCollector  # noqa: E402
from tests.kpi_harness import insert  # noqa: E402

TAREAS = [f"PC0{d}S0{s}F00{f}T00{t}" for d, s in ((1, 1), (1, 2), (2, 1)) for f in (1, 2) for t in (1, 2, 3)]
TEXTS = [None, None, None, "家里有老人，请尽快处理", "客户反映本月电费300元，为近12个月平均100元的3.0倍", "示数异常"]


def caller_row(rng, no, acc, updated=None):
    tarea = str(rng.choice(TAREAS[:6])) if rng.random() < 0.7 else str(rng.choice(TAREAS))
    kind = str(rng.choice(["repair", "repair", "repair", "complaint", "consult"]))
    r = row(no, tarea, acc, kind=kind, key=rng.random() < 0.05, updated=updated)
    r.update(customer_id=f"C{rng.integers(0, 25)}", phone=(f"139{rng.integers(0, 15):04d}" if rng.random() < 0.5 else None),
             subtype=str(rng.choice(["低压故障", "营业", "服务"])), channel=str(rng.choice(["95598", "95598", "12345", "media"])),
             content=TEXTS[int(rng.integers(0, len(TEXTS)))])
    return r


def outage(oid, tarea, start, restored=None, updated=None):
    return {"outage_id": oid, "outage_type": "fault", "equipment_type": "tarea", "equipment_code": tarea,
            "cause": "test", "customers": 10, "start_at": fmt(start), "reported_at": fmt(start), "etr": None,
            "restored_at": fmt(restored) if restored else None, "notice_published_at": None,
            "status": "restored" if restored else "active", "updated_at": fmt(updated or restored or start)}


def add_outages(url, rows):
    insert(url, "oms_outage", rows)
    insert(url, "oms_outage_tarea", [{"outage_id": o["outage_id"], "tarea_code": o["equipment_code"],
                                      "updated_at": o["updated_at"]} for o in rows])


def full_sensitive(h: Harness, collector: OrdersCollector, now: datetime) -> dict[str, str]:
    """The whole-window computation of the sensitive dataset from the same store."""
    cfg = limits()["sensitive"]
    s, tree, frames = collector.store, collector.tree, h.ctx.frames
    reach = s.accepted_within(now, cfg["window_hours"] + cfg["group_minutes"] / 60)
    history = reach | s.same_caller(s.accepted_within(now, cfg["window_hours"]))
    orders = s.frame(rows=np.flatnonzero(history))
    frequent = frames.get("outages.frequent", pd.DataFrame({"level": []}))["level"]
    flags = sens.classify(orders, cfg, frequent, frames["outages.outages"], frames["outages.scope"], now)
    per_node = sens.node_kpis(orders, flags, tree, now, cfg)
    lists = top_per_node(sens.listing(orders, flags, now, cfg), tree, "tarea_code", cfg["list_levels"],
                         ["accepted_at", "order_no"], [False, False], cfg["list_top"])
    return {k: dumps(v) for k, v in sens.payloads(per_node, lists, tree).items()}, per_node


@pytest.mark.parametrize("seed", [4, 5])
def test_running_sensitive_orders_equal_a_full_recomputation_every_cycle(settings_env, source_url, redis_client,
                                                                         seed, monkeypatch):
    rng = np.random.default_rng(seed)
    monkeypatch.setitem(limits()["sensitive"], "list_top", 3)      # lists that fill up and shift
    monkeypatch.setitem(limits()["sensitive"], "group_calls", 3)
    write(source_url, [caller_row(rng, f"H{i}", START - timedelta(minutes=int(rng.integers(1, 40 * 24 * 60))))
                       for i in range(150)]
                      + [caller_row(rng, f"R{i}", START - timedelta(minutes=int(rng.integers(1, 30 * 60))))
                         for i in range(60)]
                      # a group of calls from one 台区 (no outage yet), calls from a 台区 soon frequent
                      + [dict(caller_row(rng, f"G{i}", START - timedelta(hours=2, minutes=10 * i)), tarea_code=TAREAS[2],
                              order_type="repair") for i in range(4)]
                      + [dict(caller_row(rng, f"Q{i}", START - timedelta(hours=i + 1)), tarea_code=TAREAS[8])
                         for i in range(3)])
    add_outages(source_url, [outage("F1", TAREAS[7], START - timedelta(days=9), START - timedelta(days=9, hours=-2)),
                             outage("F2", TAREAS[7], START - timedelta(days=3), START - timedelta(days=3, hours=-2)),
                             outage("A1", TAREAS[1], START - timedelta(hours=3))])
    h = Harness(redis_client, [TopologyCollector, OutagesCollector, OrdersCollector], START).run()
    orders = h.runners[2].collector

    def compare(now):
        want, per_node = full_sensitive(h, orders, now)
        got = h.client.hgetall(dataset_key("sensitive"))
        assert set(got) == set(want), (now, set(got) ^ set(want))
        bad = [k for k in want if got[k] != want[k]]
        assert not bad, (now, bad[:3], got[bad[0]], want[bad[0]])
        frame = h.ctx.frames["orders.sensitive"]
        np.testing.assert_allclose(frame.to_numpy(dtype="float64"),
                                   per_node.reindex(frame.index)[frame.columns].to_numpy(dtype="float64"))

    compare(START)
    now, n, known = START, 0, []
    for cycle in range(30):
        now += timedelta(seconds=int(rng.integers(60, 400)))
        new = []
        for _ in range(int(rng.integers(0, 5)) if cycle != 8 else 0):   # 8: only OMS moves
            n += 1
            ahead = timedelta(minutes=3) if rng.random() < 0.1 else -timedelta(seconds=int(rng.integers(0, 50)))
            new.append(caller_row(rng, f"N{n}", now + ahead, updated=now))
        write(source_url, new)
        known += [r for r in new if r["accepted_at"] <= fmt(now)]
        moves = []
        for r in rng.permutation(len(known))[:3 if cycle != 8 else 0]:   # a step, a move, another caller, cancelled
            r = known[r]
            k = rng.integers(0, 4)
            change = [dict(status="arrived", arrived_at=fmt(now)), dict(tarea_code=str(rng.choice(TAREAS))),
                      dict(customer_id=f"C{rng.integers(0, 25)}", phone=None), dict(status="cancelled")][k]
            r.update(change, updated_at=fmt(now))
            moves.append(dict(r))
        write(source_url, moves, update=True)
        if cycle == 8:     # an outage now covering a 台区 of group calls; another frequent 台区
            add_outages(source_url, [outage(f"X{t}", t, START - timedelta(hours=30), updated=now) for t in TAREAS[:6]]
                        + [outage("F3", TAREAS[8], START - timedelta(days=5), START - timedelta(days=5, hours=-1), now),
                           outage("F4", TAREAS[8], now - timedelta(minutes=30), now - timedelta(minutes=20), now)])
        if cycle == 12:    # malformed: unknown 台区
            n += 1
            write(source_url, [dict(caller_row(rng, f"N{n}", now), tarea_code="NOPE")])
        h.at(now).run()
        compare(now)
        if cycle == 8:
            assert h.entry("sensitive", TAREAS[8])["reason_frequent_outage"] >= 3
            assert h.entry("sensitive", "PC")["reason_group_no_outage"] == 0
        if cycle == 7:
            assert h.entry("sensitive", "PC")["reason_group_no_outage"] >= 1
    assert now > START + timedelta(hours=1)


@pytest.mark.parametrize("seed", range(2))
def test_outage_spans_per_tarea_answer_as_the_whole_scope_join(seed):
    """known_outage through the spans kept per 台区 (built once per pair of OMS frames) equals the
    join over the whole scope table: cancelled outages, outages by scope row or by their own
    equipment, open spans, a start or a restoration exactly at acceptance, no outage at all."""
    rng = np.random.default_rng(seed)
    tareas = [f"T{i}" for i in range(30)]
    base = pd.Timestamp("2026-07-15")
    hits = 0
    for _ in range(150):
        n = int(rng.integers(0, 25))
        start = [base + pd.Timedelta(minutes=int(rng.integers(0, 600))) if rng.random() > 0.05 else pd.NaT
                 for _ in range(n)]
        outages = pd.DataFrame({
            "outage_id": pd.Series([f"O{i}" for i in range(n)], dtype=object),
            "equipment_code": pd.Series([rng.choice([*tareas, None]) for _ in range(n)], dtype=object),
            "status": pd.Series([rng.choice(["active", "restored", "cancelled"]) for _ in range(n)], dtype=object),
            "start_at": pd.to_datetime(pd.Series(start, dtype="datetime64[ns]")),
            "restored_at": pd.to_datetime(pd.Series(
                [s + pd.Timedelta(minutes=int(rng.integers(0, 200))) if rng.random() < 0.5 else pd.NaT
                 for s in start], dtype="datetime64[ns]"))})
        k = int(rng.integers(0, 40))
        scope = pd.DataFrame({"outage_id": [f"O{rng.integers(0, 30)}" for _ in range(k)],
                              "tarea_code": [rng.choice(tareas) for _ in range(k)]}, dtype=object)
        m = int(rng.integers(1, 20))
        acc = [base + pd.Timedelta(minutes=int(rng.integers(-60, 800))) for _ in range(m)]
        if n and m > 1 and pd.notna(start[0]) and outages["equipment_code"][0] is not None:
            acc[0] = start[0]            # accepted exactly at the start, on the outage's own 台区
        orders = pd.DataFrame({"order_no": [f"N{i}" for i in range(m)],
                               "tarea_code": [rng.choice(tareas) for _ in range(m)],
                               "accepted_at": pd.to_datetime(acc).astype("datetime64[us]")},
                              index=rng.permutation(100)[:m])
        if n and m > 1 and pd.notna(start[0]) and outages["equipment_code"][0] is not None:
            orders.loc[orders.index[0], "tarea_code"] = outages["equipment_code"][0]
        want = sens.known_outage(orders, outages, scope)
        got = sens.known_outage(orders, outages, scope, sens.OutageSpans(outages, scope))
        assert got.equals(want)
        hits += int(want.sum())
    assert hits > 50


@pytest.mark.parametrize("seed", range(3))
def test_outage_index_kept_from_the_change_log_answers_as_the_whole_scope_join(seed):
    """OutageIndex, updated from the OMS change log (only the outages changed since the revision
    it last read), answers known_outage as the join over the whole current frames after every
    revision: outages added, restored, cancelled, moved to other equipment, their scope replaced,
    dropped; a reader that lagged past the kept revisions rebuilds."""
    from collectors.plugins.outages import OutagesLog
    rng = np.random.default_rng(seed)
    tareas = [f"T{i}" for i in range(25)]
    base = pd.Timestamp("2026-07-15")
    rows: dict[str, dict] = {}
    scope: dict[str, list[str]] = {}
    changes: list[tuple[int, frozenset]] = []
    index, hits, skipped = sens.OutageIndex(), 0, 0
    for rev in range(1, 120):
        changed = set()
        for _ in range(int(rng.integers(0, 5))):
            oid = f"O{rng.integers(0, 40)}"
            changed.add(oid)
            if oid in rows and rng.random() < 0.15:
                del rows[oid]
                scope.pop(oid, None)
                continue
            start = base + pd.Timedelta(minutes=int(rng.integers(0, 600)))
            rows[oid] = {"outage_id": oid, "equipment_code": rng.choice([*tareas, None]),
                         "status": rng.choice(["active", "restored", "cancelled"]),
                         "start_at": start if rng.random() > 0.05 else pd.NaT,
                         "restored_at": start + pd.Timedelta(minutes=int(rng.integers(0, 200)))
                         if rng.random() < 0.5 else pd.NaT}
            scope[oid] = [str(t) for t in rng.choice(tareas, size=int(rng.integers(0, 5)), replace=False)]
        changes.append((rev, frozenset(changed)))
        outages = pd.DataFrame(list(rows.values()), columns=["outage_id", "equipment_code", "status", "start_at",
                                                             "restored_at"])
        outages = outages.astype({"outage_id": object, "equipment_code": object, "status": object,
                                  "start_at": "datetime64[us]", "restored_at": "datetime64[us]"})
        outages.index = pd.Index(outages["outage_id"], dtype=object).rename(None)
        sc = pd.DataFrame([(o, t) for o, ts in scope.items() for t in ts], columns=["outage_id", "tarea_code"],
                          dtype=object)
        log = OutagesLog(rev, outages, sc, tuple(changes[-20:]))
        if rng.random() < 0.2 or 60 <= rev < 85:   # the reader skips a revision, or more than are kept
            skipped += 1
            continue
        index.update(log)
        m = 40
        orders = pd.DataFrame({"order_no": [f"N{i}" for i in range(m)],
                               "tarea_code": [rng.choice(tareas) for _ in range(m)],
                               "accepted_at": pd.to_datetime([base + pd.Timedelta(minutes=int(rng.integers(-60, 800)))
                                                              for _ in range(m)]).astype("datetime64[us]")})
        for i, r in enumerate(list(rows.values())[:5]):      # some exactly at a start or a restoration
            if r["equipment_code"] is not None and pd.notna(r["start_at"]):
                orders.loc[i, ["tarea_code", "accepted_at"]] = [r["equipment_code"],
                                                               r["restored_at"] if pd.notna(r["restored_at"])
                                                               else r["start_at"]]
        want = sens.known_outage(orders, outages, sc)
        got = sens.known_outage(orders, outages, sc, index)
        assert got.equals(want), (rev, orders[got != want])
        hits += int(want.sum())
    assert hits > 100 and skipped
