"""Customer-hours, month-to-date RS-1 / SAIDI / SAIFI and frequent-outage 台区 (docs/kpis.md).

Everything is counted per (outage, 台区) pair of the OMS scope, with the customers of the 台区
from the customer files. An outage lasts from start_at to restored_at, or to `now` while it is
not restored. Cancelled and not yet started ones do not count. A pair is sustained when the
outage lasted longer than `sustained_minutes` [ASSUMED, DL/T 836 / DOMAIN.md].
"""
from __future__ import annotations

import weakref
from datetime import datetime

import numpy as np
import pandas as pd

from collectors.domain.intervals import union_hours
from collectors.domain.tree import LEVELS, Tree

FREQUENT_ORDER = ("yellow", "orange", "red")   # level 1, 2, 3


def outage_pairs(outages: pd.DataFrame, scope: pd.DataFrame, tree: Tree, now: datetime,
                 sustained_minutes: float) -> pd.DataFrame:
    """One row per (outage, 台区): start, end, customers, sustained, active."""
    return pairs_at(pair_base(outages, scope, tree), tree, now, sustained_minutes)


PAIR_BASE = ["outage_id", "tarea_code", "start", "restored", "tpos"]


def pair_base(outages: pd.DataFrame, scope: pd.DataFrame, tree: Tree) -> pd.DataFrame:
    """What `outage_pairs` needs that does not depend on the clock: one row per (outage, 台区)
    of the outages neither cancelled nor scheduled, with the outage's start and restoration and
    the 台区's tree position (tpos, -1 outside the tree)."""
    live = outages[~outages["status"].isin(("cancelled", "scheduled")).to_numpy()]
    spans = pd.DataFrame({"outage_id": live["outage_id"].to_numpy(), "start": live["start_at"].to_numpy(),
                          "restored": live["restored_at"].to_numpy()})
    pairs = scope[["outage_id", "tarea_code"]].drop_duplicates().merge(spans, on="outage_id")
    return pairs.assign(tpos=tree.positions(pairs["tarea_code"].to_numpy(dtype=object)))[PAIR_BASE]


def update_pair_base(prev: pd.DataFrame, outages: pd.DataFrame, scope: pd.DataFrame, tree: Tree,
                     changed) -> pd.DataFrame:
    """`prev` (a `pair_base`) with the pairs of the `changed` outage ids (row or scope added,
    replaced or dropped) derived again from the frames: what `pair_base` gives, row order aside."""
    ids = list(changed)
    if not ids:
        return prev
    kept = prev[~prev["outage_id"].isin(ids).to_numpy()]
    fresh = pair_base(outages[outages["outage_id"].isin(ids).to_numpy()],
                      scope[scope["outage_id"].isin(ids).to_numpy()], tree)
    return pd.concat([kept, fresh], ignore_index=True) if len(fresh) else kept.reset_index(drop=True)


def pairs_at(base: pd.DataFrame, tree: Tree, now: datetime, sustained_minutes: float) -> pd.DataFrame:
    """`outage_pairs` at `now` from its clock-independent part (`pair_base`): the outages started
    by now, ending at their restoration or now."""
    now_ts = pd.Timestamp(now)
    b = base[(base["start"] <= now_ts).to_numpy()]
    end = b["restored"].fillna(now_ts).clip(upper=now_ts)
    pos = b["tpos"].to_numpy()
    customers = tree.nodes["customers"].to_numpy()[pos]      # what reindex on the codes gives
    if (pos < 0).any():
        customers = customers.astype("float64")
        customers[pos < 0] = np.nan
    return pd.DataFrame({"outage_id": b["outage_id"].to_numpy(), "tarea_code": b["tarea_code"].to_numpy(),
                         "start": b["start"].to_numpy(), "end": end.to_numpy(),
                         "active": b["restored"].isna().to_numpy(),
                         "sustained": ((end - b["start"]) > pd.Timedelta(minutes=sustained_minutes)).to_numpy(),
                         "customers": customers, "tpos": pos})


def month_start(now: datetime) -> pd.Timestamp:
    return pd.Timestamp(now).normalize().replace(day=1)


def node_kpis(pairs: pd.DataFrame, tree: Tree, now: datetime) -> pd.DataFrame:
    """Per node: customer-hours of outages in progress, month-to-date customer-hours,
    customer interruptions, SAIDI (h), SAIFI and RS-1 (a fraction).

    One row per node with 台区 below it (itself included), city level first, codes in order
    within a level (what `tree.rollup` gives); summed by node position, so a 台区 without
    outages costs nothing."""
    now_ts, start = pd.Timestamp(now), month_start(now)
    pos = _positions(tree)
    customers = pos.customers
    if "tpos" not in pairs:       # the 台区 as tree positions (pairs_at gives them)
        pairs = pairs.assign(tpos=tree.positions(pairs["tarea_code"].to_numpy(dtype=object)))
    # per 台区 on its tree position (an integer key; -1 outside the tree counts nowhere)
    active = pairs[pairs["active"].to_numpy()]
    # every outage in progress lasts until now, so a 台区's union is [its earliest start, now]
    first = active.groupby("tpos")["start"].min()
    active_h = ((now_ts - first).dt.total_seconds() / 3600.0).clip(lower=0.0)
    sustained = pairs[pairs["sustained"].to_numpy()]
    mtd = union_hours(sustained[["tpos", "start", "end"]], "tpos", lo=start, hi=now_ts)
    began = sustained[(sustained["start"] >= start).to_numpy()]
    began = began.groupby("tpos")["customers"].sum()
    sums = {}
    for name, per_tarea, weigh in (("customer_hours_active", active_h, True),
                                   ("customer_hours_mtd", mtd, True),
                                   ("interruptions_mtd", began, False)):
        at = per_tarea.index.to_numpy(dtype="int64")
        values = per_tarea.to_numpy(dtype="float64") * (customers[at] if weigh else 1.0)
        sums[name] = pos.rollup(at, values)
    per_node = pd.DataFrame({k: v[pos.order] for k, v in sums.items()}, index=pos.codes)
    if began.dtype.kind in "iu" or began.empty:
        per_node["interruptions_mtd"] = per_node["interruptions_mtd"].astype("int64")
    served_all = pd.Series(tree.nodes["customers"].to_numpy()[pos.order], index=per_node.index,
                           name="customers")
    served = served_all.where(lambda c: c > 0)
    period_h = (now_ts - start).total_seconds() / 3600.0
    per_node["customers_served"] = served_all
    per_node["saidi_mtd_h"] = per_node["customer_hours_mtd"] / served
    per_node["saifi_mtd"] = per_node["interruptions_mtd"] / served
    per_node["rs1_mtd"] = 1.0 - per_node["saidi_mtd_h"] / period_h if period_h > 0 else np.nan
    return per_node


class _TreePositions:
    """Per tree: every node's ancestors as positions, and the nodes with 台区 below them."""

    def __init__(self, tree: Tree):
        index = tree.nodes.index
        self.ancestors = np.stack([index.get_indexer(tree.ancestors[level].to_numpy()) for level in LEVELS], axis=1)
        self.customers = np.nan_to_num(tree.nodes["customers"].to_numpy(dtype="float64"))
        tareas = np.flatnonzero((tree.nodes["level"] == "tarea").to_numpy())
        below = self.rollup(tareas, np.ones(len(tareas)))
        level_rank = tree.nodes["level"].map({lv: i for i, lv in enumerate(LEVELS)}).to_numpy()
        has = np.flatnonzero(below > 0)
        # level first, then code: the order of tree.rollup's result
        self.order = has[np.lexsort((index.to_numpy(dtype=object)[has].astype(str), level_rank[has]))]
        self.codes = index[self.order]

    def rollup(self, leaf: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Sums of `values` (one per leaf position; NaN counts 0) into every ancestor."""
        keep = leaf >= 0
        leaf, values = leaf[keep], np.nan_to_num(np.asarray(values, dtype="float64")[keep])
        n = len(self.customers)
        out = np.zeros(n)
        for level in range(self.ancestors.shape[1]):
            anc = self.ancestors[leaf, level]
            has = anc >= 0
            out += np.bincount(anc[has], weights=values[has], minlength=n)
        return out


_POSITIONS: "weakref.WeakKeyDictionary[Tree, _TreePositions]" = weakref.WeakKeyDictionary()


def _positions(tree: Tree) -> _TreePositions:
    pos = _POSITIONS.get(tree)
    if pos is None:
        pos = _POSITIONS[tree] = _TreePositions(tree)
    return pos


def frequent_tareas(pairs: pd.DataFrame, now: datetime, cfg: dict) -> pd.DataFrame:
    """Per 台区 with sustained outages: outages started in each rule's window, and the level
    (0 none … 3 red) of the highest rule it meets. `pairs` (outage_pairs) has one row per
    outage and 台区."""
    now_ts = pd.Timestamp(now)
    sustained = pairs[pairs["sustained"]]
    # outages per 台区 counted on integer codes (pairs hold one row per outage and 台区)
    codes, tareas = pd.factorize(sustained["tarea_code"].to_numpy(dtype=object))
    starts = sustained["start"].to_numpy()
    counts = {}
    level = pd.Series(0, index=pd.Index(tareas, dtype=object), dtype="int64")
    for rank, name in enumerate(FREQUENT_ORDER, start=1):
        rule = cfg[name]
        recent = starts > (now_ts - pd.Timedelta(days=rule["days"])).to_datetime64()
        n = pd.Series(np.bincount(codes[recent], minlength=len(tareas)).astype("int64"), index=level.index)
        counts[f"outages_{rule['days']}d"] = n
        level = level.mask(n >= rule["count"], rank)
    frame = pd.DataFrame(counts).assign(level=level)
    # in code order: the same frame whatever the order of the pairs (kept incrementally)
    return frame[frame["level"] > 0].rename_axis("tarea_code").sort_index()


def frequent_counts(frequent: pd.DataFrame, tree: Tree) -> pd.DataFrame:
    """Per node: how many 台区 below it are frequent-outage 台区 at each level."""
    leaf = pd.DataFrame({f"frequent_{name}": (frequent["level"] == rank).astype(int)
                         for rank, name in enumerate(FREQUENT_ORDER, start=1)})
    leaf = leaf.rename_axis("tarea_code").reset_index()
    return tree.complete(tree.rollup(leaf, "tarea_code", upto="tarea"), upto="feeder").astype("int64")
