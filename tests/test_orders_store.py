"""The orders collector's columnar store and integer roll-up equal plain pandas recomputations."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from collectors.domain import orders as kpi
from collectors.domain import sensitive
from collectors.domain.tree import Tree
from collectors.plugins.orders import STEP_COLS
from config.limits import limits
from tests.sourcedata import tiny_nodes

NOW = datetime(2026, 7, 15, 14, 20)
TREE = Tree(pd.DataFrame(tiny_nodes()).set_index("code"))
TAREAS = list(TREE.codes("tarea"))
TIMES = (*STEP_COLS, "updated_at")


def versions(rng: np.random.Generator, n: int, keys: int) -> pd.DataFrame:
    """n order versions over `keys` order numbers, as the collector absorbs them (typed)."""
    acc = pd.Timestamp(NOW) - pd.to_timedelta(rng.integers(0, 40 * 86400, n), unit="s")
    restored = acc + pd.to_timedelta(rng.integers(600, 20000, n), unit="s")
    frame = pd.DataFrame({
        "order_no": [f"O{k}" for k in rng.integers(0, keys, n)],
        "order_type": rng.choice(["repair", "repair", "consult", "complaint"], n),
        "subtype": rng.choice(["低压故障", "电费", None], n),
        "customer_id": [f"C{k}" for k in rng.integers(0, keys // 3 + 1, n)],
        "phone": rng.choice(["139", "138", None, None], n),
        "tarea_code": rng.choice(TAREAS, n),
        "channel": rng.choice(["95598", "media", "12345"], n),
        "key_customer": rng.random(n) < 0.1,
        "status": rng.choice(["accepted", "arrived", "restored", "cancelled"], n),
        "area_type": rng.choice(["urban", "rural"], n),
        "billing_anomaly": rng.random(n) < 0.1, "keyword": rng.random(n) < 0.1,
    })
    for c in STEP_COLS:
        frame[c] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us]")
    frame["accepted_at"] = acc.astype("datetime64[us]")
    done = frame["status"] == "restored"
    frame.loc[done, "restored_at"] = restored[done.to_numpy()].astype("datetime64[us]")
    frame["updated_at"] = (acc + pd.to_timedelta(rng.integers(0, 3600, n), unit="s")).astype("datetime64[us]")
    return frame


def latest(frames: list[pd.DataFrame]) -> pd.DataFrame:
    both = pd.concat(frames).sort_values("updated_at", kind="stable")
    return both.drop_duplicates("order_no", keep="last").set_index("order_no", drop=False).sort_index()


@pytest.mark.parametrize("seed", range(5))
def test_store_keeps_the_latest_version_and_selects_like_pandas(seed):
    rng = np.random.default_rng(seed)
    store = kpi.OrderStore(times=TIMES)
    seen = []
    for size in (300, 40, 0, 25, 60):
        batch = versions(rng, size, 200)
        if size:   # the collector drops versions older than the stored one before the upsert
            known = store.frame(keyed=True)["updated_at"].reindex(batch["order_no"]).to_numpy()
            batch = batch[~(batch["updated_at"].to_numpy() < known)]
        seen.append(batch)
        store.upsert(batch)
    truth = latest(seen)
    got = store.frame(keyed=True).sort_index()
    cols = [c for c in truth.columns if c in got.columns]
    pd.testing.assert_frame_equal(got[cols].astype(object).where(got[cols].notna(), None),
                                  truth[cols].astype(object).where(truth[cols].notna(), None),
                                  check_dtype=False, check_index_type=False, check_names=False)
    # the row selections equal the pandas definitions over the same rows
    plain = store.frame()
    assert (store.open_repair() == kpi.open_repair_mask(plain).to_numpy()).all()
    assert (store.repairs() == (plain["order_type"] == "repair").to_numpy()).all()
    days = [NOW.date() - timedelta(days=d) for d in (0, 1, 6)]
    on_days = plain["accepted_at"].dt.normalize().isin(pd.DatetimeIndex([pd.Timestamp(d) for d in days]))
    assert (store.accepted_on(days) == on_days.to_numpy()).all()
    assert (store.accepted_within(NOW, 24) == sensitive.in_window(plain, NOW, 24).to_numpy()).all()
    window = store.accepted_within(NOW, 24)
    exact = np.zeros(store.n, dtype=bool)
    for on in ("customer_id", "phone"):
        callers = plain.loc[window & plain[on].notna().to_numpy(), on]
        exact |= plain[on].isin(callers).to_numpy()
    assert (store.same_caller(window) == exact).all()
    # compaction keeps the selected rows and their lookup
    keep = store.open_repair() | (np.arange(store.n) % 2 == 0)
    expected = plain[keep].set_index("order_no").sort_index()
    store.keep(keep)
    after = store.frame(keyed=True).sort_index()
    pd.testing.assert_frame_equal(after.drop(columns="order_no"), expected, check_names=False,
                                  check_index_type=False)
    assert (store.rows_of(after.index.to_numpy()) >= 0).all() and store.rows_of(["nope"])[0] == -1


@pytest.mark.parametrize("seed", range(5))
def test_integer_rollup_equals_the_tree_rollup(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 40))
    leaf = pd.DataFrame({"tarea_code": rng.choice(TAREAS, n), "a": rng.integers(0, 3, n),
                         "b": rng.random(n)})
    truth = TREE.complete(TREE.rollup(leaf, "tarea_code", upto="tarea"), upto="feeder").astype("float64")
    got = kpi.rollup_complete(leaf, TREE, "tarea_code", upto="feeder")
    assert list(got.index) == list(truth.index)
    np.testing.assert_allclose(got.to_numpy(), truth[got.columns].to_numpy(), atol=1e-12)


def test_text_flags_at_absorb_equal_the_rules_on_the_text():
    cfg = limits()["sensitive"]
    bill = "客户反映本月电费{b}元，为近12个月平均100元的{r}倍"
    frame = pd.DataFrame({"subtype": ["营业", "营业", "服务", "营业", "电费咨询"],
                          "content": [bill.format(b=300, r="3.0"), bill.format(b=150, r="1.5"),
                                      "家里有老人", None, "示数异常"]})
    flags = sensitive.text_flags(frame, cfg)
    assert flags["billing_anomaly"].tolist() == sensitive.billing_anomaly(frame, cfg).tolist() \
        == [True, False, False, False, True]
    assert flags["keyword"].tolist() == [False, False, True, False, False]


def test_bootstrap_slices_read_exactly_the_first_cycle_window():
    from sqlalchemy import create_engine, func, select
    from collectors.plugins.orders import _bootstrap_slices
    from collectors.sources.schema import metadata, wo_order
    engine = create_engine("sqlite://")
    metadata.create_all(engine, tables=[wo_order])
    rng = np.random.default_rng(7)
    rows = []
    for i in range(400):
        acc = None if i % 50 == 0 else NOW - timedelta(minutes=int(rng.integers(-30, 60 * 24 * 50)))
        restored = None if i % 3 == 0 else NOW
        rows.append(dict(order_no=f"O{i}", order_type="repair", customer_id="C", tarea_code="T",
                         channel="95598", key_customer=False, status="accepted", accepted_at=acc,
                         restored_at=restored, updated_at=NOW))
    with engine.begin() as c:
        c.execute(wo_order.insert(), rows)
        days = 36
        since = NOW - timedelta(days=days)
        whole = (wo_order.c.accepted_at >= since) | wo_order.c.restored_at.is_(None)
        want = sorted(r[0] for r in c.execute(select(wo_order.c.order_no).where(whole)))
        got = [r[0] for w in _bootstrap_slices(NOW, days) for r in c.execute(select(wo_order.c.order_no).where(w))]
        assert sorted(got) == want and len(got) == len(set(got))
        assert 0 < len(want) < 400 and c.execute(select(func.count()).select_from(wo_order)).scalar() == 400


def test_a_failed_bootstrap_slice_leaves_no_watermark(settings_env, source_url, redis_client):
    """A source error part-way through the first cycle's slices must not move the watermark: the
    next cycle reads the whole window again instead of polling past the slices never read."""
    from collectors.base import Context
    from collectors.plugins.orders import OrdersCollector
    from collectors.plugins.topology import TopologyCollector
    from collectors.sources.adapter import SourceAdapter, SourceError
    from config import settings as settings_mod
    from config.clock import Clock
    from tests.kpi_harness import insert
    from tests.sourcedata import fmt
    insert(source_url, "wo_order", [dict(order_no=f"O{i}", order_type="repair", customer_id="C",
                                         tarea_code=TAREAS[0], channel="95598", key_customer=0,
                                         status="accepted", accepted_at=fmt(NOW - timedelta(days=i)),
                                         updated_at=fmt(NOW - timedelta(days=i))) for i in range(10)])
    settings = settings_mod.load()
    ctx = Context(SourceAdapter(settings.source_url, 5.0), Clock(origin=NOW, speed=1e-9), settings)
    TopologyCollector(ctx).cycle(NOW)
    orders = OrdersCollector(ctx)
    real, calls = ctx.source.read_table, []
    from collectors.plugins.orders import _bootstrap_slices
    last = len(list(_bootstrap_slices(NOW, 36)))     # the earlier slices hold rows: fail the last

    def flaky(table, where=None):
        calls.append(1)
        if len(calls) == last:
            raise SourceError("lost the connection")
        return real(table, where)
    ctx.source.read_table = flaky
    with pytest.raises(SourceError):
        orders.cycle(NOW)
    assert "wo_order" not in orders.watermarks
    ctx.source.read_table = real
    orders.cycle(NOW)
    assert orders.watermarks["wo_order"] == NOW and orders.store.n == 10


@pytest.mark.parametrize("seed", range(4))
def test_countdown_lists_are_the_text_of_top_per_node(seed):
    from collectors.domain.lists import top_per_node
    from collectors.publish import dumps
    rng = np.random.default_rng(seed)
    frame = versions(rng, 400, 300)
    frame.loc[frame.index[::7], "area_type"] = None           # no limit known: NaN minutes, last
    frame.loc[frame.index[::11], "status"] = "arrived"
    frame.loc[frame.index[::11], "arrived_at"] = frame.loc[frame.index[::11], "accepted_at"] + pd.Timedelta(minutes=20)
    frame["order_no"] = [f"O\"{i}" if i % 3 else f"O\\{i}\t单" if i % 2 else f"O{i}单" for i in range(len(frame))]
    rep = limits()["repair"]
    clocks = kpi.countdowns(frame, NOW, rep)
    for top in (3, 50):
        want = {k: dumps(v) for k, v in top_per_node(clocks, TREE, "tarea_code", rep["countdown_levels"],
                                                    ["minutes_left"], [True], top).items()}
        assert kpi.countdown_lists(clocks, TREE, rep["countdown_levels"], top) == want
    assert kpi.countdown_lists(clocks.iloc[:0], TREE, rep["countdown_levels"], 3) == {}


@pytest.mark.parametrize("seed", range(4))
def test_same_caller_through_the_sorted_callers_equals_a_scan(seed, monkeypatch):
    """same_caller through the callers' sorted copy plus the rows written since equals a scan of
    the whole store, after new orders, new versions moving an order to another account or phone,
    a compaction, and re-sorts when the rows written since outgrow the copy."""
    monkeypatch.setattr(kpi.OrderStore, "CALLER_REINDEX", 30)
    rng = np.random.default_rng(seed)
    store = kpi.OrderStore(times=TIMES)
    for step in range(40):
        batch = versions(rng, int(rng.integers(0, 40)), 150)
        batch["customer_id"] = [f"C{k}" for k in rng.integers(0, 30, len(batch))]
        batch["phone"] = rng.choice(["139", "138", "137", None], len(batch))
        if len(batch):
            known = store.frame(keyed=True)["updated_at"].reindex(batch["order_no"]).to_numpy() if store.n else None
            if known is not None:
                batch = batch[~(batch["updated_at"].to_numpy() < known)]
            store.upsert(batch)
        if step == 25:
            store.keep(np.arange(store.n) % 3 != 0)
        for _ in range(2):
            mask = rng.random(store.n) < 0.05
            plain = store.frame()
            exact = np.zeros(store.n, dtype=bool)
            for on in ("customer_id", "phone"):
                callers = plain.loc[mask & plain[on].notna().to_numpy(), on]
                exact |= plain[on].isin(callers).to_numpy()
            assert (store.same_caller(mask) == exact).all(), step


def test_fit_drops_the_spare_room_and_keeps_every_row():
    rng = np.random.default_rng(9)
    store = kpi.OrderStore(times=TIMES)
    for size in (3000, 2500, 4000):
        store.upsert(versions(rng, size, 20_000).drop_duplicates("order_no"))
    before = store.frame(keyed=True)
    store.fit()
    assert len(store._data["order_no"]) <= store.n + max(int(store.n * 0.05), 1024)
    pd.testing.assert_frame_equal(store.frame(keyed=True), before)
    more = versions(rng, 3000, 40_000)
    more["order_no"] = "N" + more["order_no"]
    rows = store.upsert(more)               # grows again from the fitted arrays
    assert (store.rows_of(more["order_no"].drop_duplicates(keep="last").to_numpy()) >= 0).all()
    assert store.frame(rows=rows[:5])["order_no"].tolist() == store.col("order_no")[rows[:5]].tolist()
    pd.testing.assert_frame_equal(store.frame(keyed=True).loc[before.index], before)
