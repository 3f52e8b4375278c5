"""Property: random and hostile rows never crash validation or aggregation, every row is either
accepted or rejected with a reason, and the aggregates equal a recomputation over the accepted rows."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.base import Context
from collectors.domain.tree import Tree
from collectors.domain.validation import _short as short
from collectors.plugins.orders import OrdersCollector
from collectors.sources.schema import wo_order
from config import settings as settings_mod
from config.clock import Clock
from tests.sourcedata import tiny_nodes

NOW = datetime(2026, 7, 15, 14, 20)
TAREAS = [n["code"] for n in tiny_nodes() if n["level"] == "tarea"]

garbage = st.one_of(st.none(), st.just(""), st.text(max_size=8), st.integers(), st.floats(),
                    st.just("\udcff\udcfe"), st.just("x" * 5000), st.binary(max_size=4))
stamp = st.one_of(
    st.datetimes(min_value=NOW - timedelta(days=3), max_value=NOW).map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 1, 1)).map(str), garbage)
row = st.fixed_dictionaries({
    "order_no": st.one_of(st.sampled_from([f"O{i}" for i in range(12)]), garbage),
    "order_type": st.one_of(st.sampled_from(["repair", "repair", "consult"]), garbage),
    "customer_id": st.one_of(st.just("C1"), garbage),
    "tarea_code": st.one_of(st.sampled_from(TAREAS), garbage),
    "channel": st.one_of(st.just("95598"), garbage),
    "key_customer": st.one_of(st.sampled_from([0, 1]), garbage),
    "content": st.one_of(st.just("没电了"), garbage),
    "status": st.one_of(st.sampled_from(["accepted", "dispatched", "cancelled"]), garbage),
    "accepted_at": stamp, "dispatched_at": st.one_of(st.none(), stamp), "updated_at": stamp,
})


def collector() -> OrdersCollector:
    nodes = pd.DataFrame(tiny_nodes()).set_index("code")
    ctx = Context(source=None, clock=Clock(origin=NOW, speed=1e-9), settings=settings_mod.load(),
                  tree=Tree(nodes))
    return OrdersCollector(ctx)


def frame(rows: list[dict]) -> pd.DataFrame:
    """What a poll returns: every column of the table, raw driver values."""
    return pd.DataFrame(rows, dtype=object).reindex(columns=[c.name for c in wo_order.c])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(st.lists(row, max_size=12), min_size=1, max_size=3))
def test_hostile_rows_never_crash_and_aggregates_match(batches):
    c = collector()
    for rows in batches:
        batch = frame(rows)
        rejected = {r["key"] for r in c.absorb({"wo_order": batch}, NOW)}
        for key in batch["order_no"]:   # every row is kept, or rejected with a reason
            kept = isinstance(key, str) and key in c.state.index
            assert kept or short(key) in rejected, (key, rejected)
    dataset = next(d for d in c.datasets(NOW) if d.name == "orders")
    state = c.state
    today = pd.Timestamp(NOW).normalize()
    repairs = state[(state["order_type"] == "repair") & (state["accepted_at"] >= today)
                    & (state["accepted_at"] <= pd.Timestamp(NOW))]
    entry = {k: json.loads(v) if isinstance(v, str) else v for k, v in dataset.entries.items()}  # JSON text
    for district in ("PC01", "PC02"):
        expected = int(repairs["tarea_code"].str.startswith(district).sum())
        assert entry[district]["repair_today"] == expected
    assert entry["PC"]["repair_today"] == len(repairs)
