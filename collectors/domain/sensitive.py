"""Repeat calls (重复来电) and sensitive orders (敏感工单), each with its reasons (docs/kpis.md).

Input `orders`: the orders collector's state (latest version per order, the last weeks plus every
open order). Every rule is [ASSUMED] (DOMAIN.md) and every number is in config/limits.yaml,
section `sensitive`.
"""
from __future__ import annotations

import re
from datetime import datetime

import numpy as np
import pandas as pd

from collectors.domain.orders import SlotSums, _extend_lut, rollup_complete
from collectors.domain.tree import Tree

REASONS = ("repeat_escalated", "billing_anomaly", "escalation_channel", "keyword", "key_customer",
           "frequent_outage", "group_no_outage")
FREQUENT_LEVELS = {"yellow": 1, "orange": 2, "red": 3}
TEXT_FLAGS = ("billing_anomaly", "keyword")      # reasons read from an order's own text


def keyword(orders: pd.DataFrame, cfg: dict) -> pd.Series:
    text = orders["content"].fillna("").astype(str)
    return text.str.contains("|".join(map(re.escape, cfg["keywords"])))


def text_flags(orders: pd.DataFrame, cfg: dict) -> dict[str, np.ndarray]:
    """The text reasons of each order version, evaluated once when it is absorbed (a collector's
    state then need not keep the text)."""
    if orders.empty:
        return {f: np.zeros(0, dtype=bool) for f in TEXT_FLAGS}
    return {"billing_anomaly": billing_anomaly(orders, cfg).to_numpy(dtype=bool),
            "keyword": keyword(orders, cfg).to_numpy(dtype=bool)}


def _pairs(orders: pd.DataFrame, on: str, targets: pd.Series) -> pd.DataFrame:
    """Every (earlier a, later b) pair of orders sharing `on`, b among the targets; ties broken
    by order number. Only the targets are classified, so only they need pairing."""
    cols = ["order_no", on, "order_type", "subtype", "accepted_at", "restored_at", "status"]
    later_side = orders.loc[targets & orders[on].notna(), cols]
    # only accounts that called in the window can form a pair: filter before the merge
    side = orders.loc[orders[on].isin(later_side[on]), cols]
    pairs = side.merge(later_side, on=on, suffixes=("_a", "_b"))
    later = ((pairs["accepted_at_b"] > pairs["accepted_at_a"])
             | ((pairs["accepted_at_b"] == pairs["accepted_at_a"]) & (pairs["order_no_b"] > pairs["order_no_a"])))
    return pairs[later]


def repeat_calls(orders: pd.DataFrame, cfg: dict, targets: pd.Series, pairs: dict | None = None) -> pd.Series:
    """True for an order that repeats an earlier one of the same account (repair: or phone)
    and subtype: a repair while the first is open or within repeat_repair_hours of it, any
    other order within repeat_other_days."""
    found = []
    for on in ("customer_id", "phone"):
        p = pairs[on] if pairs else _pairs(orders, on, targets)
        same = (p["subtype_a"] == p["subtype_b"]) & (p["order_type_a"] == p["order_type_b"])
        gap = p["accepted_at_b"] - p["accepted_at_a"]
        repair = same & (p["order_type_a"] == "repair")
        still_open = (p["restored_at_a"] > p["accepted_at_b"]) | (
            p["restored_at_a"].isna() & (p["status_a"] != "cancelled"))
        hit = repair & (still_open | (gap <= pd.Timedelta(hours=cfg["repeat_repair_hours"])))
        if on == "customer_id":  # other orders repeat by account only
            hit |= same & (p["order_type_a"] != "repair") & (gap <= pd.Timedelta(days=cfg["repeat_other_days"]))
        found.append(p.loc[hit, "order_no_b"])
    return orders["order_no"].isin(pd.concat(found))


def escalated_calls(orders: pd.DataFrame, cfg: dict, targets: pd.Series, pairs: dict | None = None) -> pd.Series:
    """True for an account's escalate_calls-th (or later) order within escalate_days."""
    p = pairs["customer_id"] if pairs else _pairs(orders, "customer_id", targets)
    recent = p[p["accepted_at_b"] - p["accepted_at_a"] < pd.Timedelta(days=cfg["escalate_days"])]
    earlier = recent.groupby("order_no_b").size()
    return orders["order_no"].map(earlier).fillna(0).add(1).ge(cfg["escalate_calls"]).to_numpy()


def billing_anomaly(orders: pd.DataFrame, cfg: dict) -> pd.Series:
    """A billing order whose text states a bill ≥ ratio × the 12-month average, or a bad reading."""
    text = orders["content"].fillna("").astype(str)
    ratio = pd.to_numeric(text.str.extract(cfg["billing_ratio_pattern"], expand=False), errors="coerce")
    reading = text.str.contains("|".join(map(re.escape, cfg["abnormal_reading_keywords"])))
    return orders["subtype"].isin(cfg["billing_subtypes"]) & ((ratio >= cfg["billing_ratio_at_least"]) | reading)


def group_calls(orders: pd.DataFrame, cfg: dict) -> pd.Series:
    """Repair orders that are at least the group_calls-th from their 台区 within group_minutes."""
    rep = orders[orders["order_type"] == "repair"].sort_values(["tarea_code", "accepted_at", "order_no"])
    if rep.empty:
        return pd.Series(False, index=orders.index)
    area = pd.factorize(rep["tarea_code"])[0].astype("int64")
    secs = ((rep["accepted_at"] - rep["accepted_at"].min()).dt.total_seconds()).astype("int64").to_numpy()
    span = int(secs.max()) + cfg["group_minutes"] * 60 + 1
    key = area * span + secs          # sorted: 台区 first, then time
    first = np.searchsorted(key, key - cfg["group_minutes"] * 60, side="right")
    count = np.arange(len(key)) - first + 1
    return pd.Series(count >= cfg["group_calls"], index=rep.index).reindex(orders.index, fill_value=False)


class OutageSpans:
    """The spans (start, restored) of the OMS outages (not cancelled) covering each 台区, by
    scope row or as the outage's own equipment, grouped per 台区: built once for one pair of
    outage and scope frames, so each known_outage call looks up only its orders' 台区 instead of
    filtering the whole scope table (~10^5 rows at province scale)."""

    def __init__(self, outages: pd.DataFrame, scope: pd.DataFrame):
        self.outages, self.scope = outages, scope
        live = outages[outages["status"] != "cancelled"][["outage_id", "equipment_code", "start_at", "restored_at"]]
        on_equipment = live.loc[live["equipment_code"].notna(), ["outage_id", "equipment_code"]]
        covered = pd.concat([scope[["outage_id", "tarea_code"]],
                             on_equipment.rename(columns={"equipment_code": "tarea_code"})])
        spans = covered.merge(live[["outage_id", "start_at", "restored_at"]], on="outage_id")
        spans = spans[spans["tarea_code"].notna()]
        codes, tareas = pd.factorize(spans["tarea_code"].to_numpy(dtype=object))
        self.tareas = pd.Index(tareas, dtype=object)
        by = np.argsort(codes, kind="stable")
        self.first = np.searchsorted(codes[by], np.arange(len(self.tareas) + 1))
        self.start = _us(spans["start_at"])[by]
        self.restored = _us(spans["restored_at"])[by]

    def covered(self, tarea: np.ndarray, accepted: np.ndarray) -> np.ndarray:
        """Per order (its 台区 code and accepted_at): an outage span holds accepted_at."""
        if not len(self.tareas):
            return np.zeros(len(tarea), dtype=bool)
        at = self.tareas.get_indexer(tarea)
        ok = at >= 0
        lo = np.where(ok, self.first[np.maximum(at, 0)], 0)
        n = np.where(ok, self.first[np.maximum(at, 0) + 1], 0) - lo
        owner = np.repeat(np.arange(len(tarea)), n)
        pos = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + np.repeat(lo, n)
        acc = accepted[owner]
        inside = (self.start[pos] <= acc) & (np.isnat(self.restored[pos]) | (self.restored[pos] >= acc))
        return np.bincount(owner[inside], minlength=len(tarea)) > 0


class OutageIndex:
    """OutageSpans kept up to date from the OMS change log ("outages.log", OutagesLog): only the
    outages changed since the revision last read are taken out and put in again, instead of
    joining the whole scope (~10^5 rows at province scale, ~0.2 s) each time the outage frames
    are replaced. Per 台区, the spans (outage id -> start, restored) of the live outages covering
    it, by scope row or as the outage's own equipment; `covered` answers as OutageSpans."""

    _OPEN = np.iinfo("int64").max          # a span not yet restored

    def __init__(self):
        self.revision: int | None = None
        self.outages = self.scope = None     # the frames of the revision read
        self.by_tarea: dict[str, dict[str, tuple[int, int]]] = {}
        self.tareas_of: dict[str, list[str]] = {}

    def update(self, log) -> "OutageIndex":
        ids = log.changed_since(self.revision)
        if ids is None:
            self.by_tarea, self.tareas_of = {}, {}
            self._put(log.outages, log.scope)
        elif ids:
            for oid in ids:
                for t in self.tareas_of.pop(oid, ()):
                    spans = self.by_tarea[t]
                    del spans[oid]
                    if not spans:
                        del self.by_tarea[t]
            o, sc = log.outages, log.scope
            self._put(o[o["outage_id"].isin(ids)], sc[sc["outage_id"].isin(ids)])
        self.revision, self.outages, self.scope = log.revision, log.outages, log.scope
        return self

    def _put(self, outages: pd.DataFrame, scope: pd.DataFrame) -> None:
        live = outages[outages["status"] != "cancelled"][["outage_id", "equipment_code", "start_at", "restored_at"]]
        on_equipment = live.loc[live["equipment_code"].notna(), ["outage_id", "equipment_code"]]
        covered = pd.concat([scope[["outage_id", "tarea_code"]],
                             on_equipment.rename(columns={"equipment_code": "tarea_code"})])
        spans = covered.merge(live[["outage_id", "start_at", "restored_at"]], on="outage_id")
        spans = spans[spans["tarea_code"].notna() & spans["start_at"].notna()]   # no start: covers nothing
        start = _us(spans["start_at"]).astype("int64")
        restored = _us(spans["restored_at"])
        end = np.where(np.isnat(restored), self._OPEN, restored.astype("int64"))
        by_tarea, tareas_of = self.by_tarea, self.tareas_of
        for oid, t, a, b in zip(spans["outage_id"].tolist(), spans["tarea_code"].tolist(),
                                start.tolist(), end.tolist()):
            mine = by_tarea.setdefault(t, {})
            if oid not in mine:             # (an outage on a 台区 by scope row and as its equipment)
                tareas_of.setdefault(oid, []).append(t)
            mine[oid] = (a, b)

    def covered(self, tarea: np.ndarray, accepted: np.ndarray) -> np.ndarray:
        """Per order (its 台区 code and accepted_at): an outage span holds accepted_at."""
        out = np.zeros(len(tarea), dtype=bool)
        acc = np.asarray(accepted, dtype="datetime64[us]")
        ok = ~np.isnat(acc)
        at = acc.astype("int64")
        get = self.by_tarea.get
        for i in np.flatnonzero(ok).tolist():
            spans = get(tarea[i])
            if spans:
                t = at[i]
                out[i] = any(a <= t <= b for a, b in spans.values())
        return out


def _us(values) -> np.ndarray:
    return np.asarray(pd.to_datetime(pd.Series(values, copy=False)).to_numpy(), dtype="datetime64[us]")


def known_outage(orders: pd.DataFrame, outages: pd.DataFrame, scope: pd.DataFrame,
                 spans: OutageSpans | None = None) -> pd.Series:
    """True where an OMS outage (not cancelled) covered the order's 台区 when it was accepted.
    Only the outages and scope rows on the orders' 台区 are joined (the province keeps ~10^5
    scope rows; a cycle checks a handful of group calls). `spans`: the same frames' spans per
    台区, built beforehand (the same answer without joining the whole scope per call)."""
    if orders.empty:
        return pd.Series(False, index=orders.index)
    if spans is not None:
        hit = spans.covered(orders["tarea_code"].to_numpy(dtype=object), _us(orders["accepted_at"]))
        return orders["order_no"].isin(orders["order_no"][hit])
    tareas = pd.unique(orders["tarea_code"].to_numpy(dtype=object))
    live = outages[outages["status"] != "cancelled"][["outage_id", "equipment_code", "start_at", "restored_at"]]
    in_scope = scope.loc[scope["tarea_code"].isin(tareas), ["outage_id", "tarea_code"]]
    on_equipment = live.loc[live["equipment_code"].isin(tareas), ["outage_id", "equipment_code"]]
    covered = pd.concat([in_scope, on_equipment.rename(columns={"equipment_code": "tarea_code"})])
    spans = covered.merge(live[["outage_id", "start_at", "restored_at"]], on="outage_id")
    hits = orders[["order_no", "tarea_code", "accepted_at"]].merge(spans, on="tarea_code")
    inside = (hits["start_at"] <= hits["accepted_at"]) & (
        hits["restored_at"].isna() | (hits["restored_at"] >= hits["accepted_at"]))
    return orders["order_no"].isin(hits.loc[inside, "order_no"])


def classify(orders: pd.DataFrame, cfg: dict, frequent: pd.Series, outages: pd.DataFrame,
             scope: pd.DataFrame, now: datetime, spans: OutageSpans | None = None) -> pd.DataFrame:
    """One row per order of the window (the last window_hours): repeat flag, one boolean column
    per reason, and `sensitive`. Earlier orders count as history for the rules, but only the
    window is classified (a cycle's cost follows the window, not the 35-day state).

    `frequent` maps 台区 code → frequent-outage level (1 yellow … 3 red).
    """
    targets = in_window(orders, now, cfg["window_hours"])
    # group calls look back group_minutes from the first order of the window
    reach = in_window(orders, now, cfg["window_hours"] + cfg["group_minutes"] / 60)
    group = group_calls(orders[reach], cfg).reindex(orders.index, fill_value=False)[targets]
    mine = orders[targets]
    precomputed = all(f in mine.columns for f in TEXT_FLAGS)   # else read from `content`
    min_level = FREQUENT_LEVELS[cfg["frequent_outage_level"]]
    group_candidates = mine[group]
    pairs = {on: _pairs(orders, on, targets) for on in ("customer_id", "phone")}
    flags = pd.DataFrame({
        "repeat": repeat_calls(orders, cfg, targets, pairs)[targets],
        "repeat_escalated": escalated_calls(orders, cfg, targets, pairs)[targets.to_numpy()],
        "billing_anomaly": mine["billing_anomaly"].astype(bool) if precomputed else billing_anomaly(mine, cfg),
        "escalation_channel": mine["channel"].isin(cfg["channels"]),
        "keyword": mine["keyword"].astype(bool) if precomputed else keyword(mine, cfg),
        "key_customer": mine["key_customer"].astype(bool),
        "frequent_outage": mine["tarea_code"].map(frequent).fillna(0).ge(min_level),
        "group_no_outage": group & ~mine["order_no"].isin(
            group_candidates.loc[known_outage(group_candidates, outages, scope, spans), "order_no"]),
    }, index=mine.index)
    flags["sensitive"] = flags[list(REASONS)].any(axis=1)
    flags["group_call"] = group.to_numpy()     # before the outage check (kept by SensitiveState)
    return flags


def in_window(orders: pd.DataFrame, now: datetime, hours: float) -> pd.Series:
    now_ts = pd.Timestamp(now)
    return (orders["accepted_at"] > now_ts - pd.Timedelta(hours=hours)) & (orders["accepted_at"] <= now_ts)


def node_kpis(orders: pd.DataFrame, flags: pd.DataFrame, tree: Tree, now: datetime, cfg: dict) -> pd.DataFrame:
    """Per node, over orders accepted in the last window_hours (the rows of `flags`): sensitive
    and repeat counts, one count per reason, media escalations, sensitive orders per 10k customers."""
    recent = orders.index.isin(flags.index)
    f = flags.loc[orders.index[recent]]
    sens = f["sensitive"]
    leaf = pd.DataFrame({"tarea_code": orders.loc[recent, "tarea_code"].to_numpy(),
                         "sensitive": sens.astype(int).to_numpy(),
                         "repeat_calls": f["repeat"].astype(int).to_numpy(),
                         "media_escalations": (sens & (orders.loc[recent, "channel"] == cfg["media_channel"]))
                         .astype(int).to_numpy(),
                         **{f"reason_{r}": f[r].astype(int).to_numpy() for r in REASONS}})
    per_node = rollup_complete(leaf, tree, "tarea_code", upto="feeder").astype("int64")
    customers = tree.nodes["customers"].reindex(per_node.index)
    per_node["sensitive_per_10k"] = per_node["sensitive"] / (customers / 1e4).where(customers > 0)
    return per_node


def listing(orders: pd.DataFrame, flags: pd.DataFrame, now: datetime, cfg: dict) -> pd.DataFrame:
    """The sensitive orders of the window, newest first, each with its reasons."""
    f = flags[flags["sensitive"]]
    names = np.array(REASONS)
    reasons = [names[row].tolist() for row in f[list(REASONS)].to_numpy(dtype=bool)]
    o = orders.loc[f.index]
    return pd.DataFrame({"order_no": o["order_no"], "tarea_code": o["tarea_code"],
                         "order_type": o["order_type"], "subtype": o["subtype"],
                         "channel": o["channel"], "accepted_at": o["accepted_at"],
                         "status": o["status"], "repeat": f["repeat"], "reasons": reasons})


def payloads(per_node: pd.DataFrame, lists: dict[str, list[dict]], tree: Tree,
             upper: pd.Index | None = None) -> dict[str, dict]:
    """Per node down to feeder level, and per 台区 with a sensitive order: counts and the list
    (built column-wise: thousands of nodes per cycle). `upper`: the nodes above 台区 level."""
    upper = tree.nodes.index[tree.nodes["level"] != "tarea"] if upper is None else upper
    shown = per_node[per_node.index.isin(upper) | (per_node["sensitive"] > 0)]
    names = [c for c in shown.columns if c != "sensitive_per_10k"]
    counts = shown[names].to_numpy(dtype="int64").tolist()
    rate = shown["sensitive_per_10k"].round(9).to_numpy()
    rates = [None if r != r else float(r) for r in rate.tolist()]
    return {code: {**dict(zip(names, counts[i])), "sensitive_per_10k": rates[i], "orders": lists.get(code, [])}
            for i, code in enumerate(shown.index)}


COUNTS = ["sensitive", "repeat_calls", "media_escalations", *[f"reason_{r}" for r in REASONS]]
_REPEAT, _SENSITIVE, _GROUP, _MEDIA = 0, 8, 9, 10          # bit positions; reasons at 1..7
_REASON_BIT = {r: 1 + i for i, r in enumerate(REASONS)}
_COUNT_BITS = [_SENSITIVE, _REPEAT, _MEDIA, *[_REASON_BIT[r] for r in REASONS]]   # COUNTS' order


class SensitiveState(SlotSums):
    """classify / node_kpis / listing of an OrderStore, kept per cycle at the cost of what moved.

    Each order of the window keeps its reasons as bits. A cycle classifies again only the orders
    whose inputs may have changed: the versions absorbed since the last cycle, the orders of their
    callers (account or phone, old and new) and of their 台区 within the group-call reach, orders
    that came into the window without being classified; the frequent-outage reason when that
    frame is replaced, the group reason's outage check when the OMS frames are. Per-node counts
    are running sums (a row's old contribution out, its new one in, orders leaving the window
    out), and the lists are rebuilt only for the nodes above a row that was or is listed and
    moved. One instance holds one tree and one generation of the store's rows.
    """

    def __init__(self, tree: Tree, store, cfg: dict):
        from collectors.domain.tree import LEVELS
        self.tree, self.cfg, self.generation = tree, cfg, store.generation
        self.anc = np.stack([tree.ancestor_positions[lv] for lv in LEVELS], axis=1)
        self.list_anc = np.stack([tree.ancestor_positions[lv] for lv in cfg["list_levels"]], axis=1)
        upper = tree.nodes["level"].to_numpy() != "tarea"
        self.upper = tree.code_order[upper[tree.code_order]]
        self._init_slots(len(tree.nodes), len(COUNTS))
        self._slots(self.upper)
        self.bits = np.zeros(0, dtype="uint16")       # per store row, its reasons (when known)
        self.known = np.zeros(0, dtype=bool)
        self.cbits = np.zeros(0, dtype="uint16")      # what the row counts with (when counted)
        self.cleaf = np.zeros(0, dtype="int64")
        self.counted = np.zeros(0, dtype=bool)
        self.lists: dict[str, str] = {}               # list-level node -> its list as JSON text
        self.inputs = (None, None, None)              # frequent, outages, scope last used
        self._changed: list[np.ndarray] = []          # rows written since the last cycle
        self._old_keys: list[tuple] = []              # their callers' hashes and 台区 before
        self._lut = (0, np.full(1, -1, dtype="int64"))
        self._outage_spans: OutageSpans | None = None
        self._outage_index = OutageIndex()           # kept from the OMS change log
        self.log = None                               # the log of this cycle's OMS frames, if any
        self.fresh = True

    # --- bookkeeping -----------------------------------------------------------------------------
    def _grow(self, n: int) -> None:
        if n > len(self.bits):
            extra = max(n, 2 * len(self.bits)) - len(self.bits)
            z = lambda dtype, fill=0: np.full(extra, fill, dtype=dtype)   # noqa: E731
            self.bits = np.concatenate([self.bits, z("uint16")])
            self.known = np.concatenate([self.known, z(bool)])
            self.cbits = np.concatenate([self.cbits, z("uint16")])
            self.cleaf = np.concatenate([self.cleaf, z("int64", -1)])
            self.counted = np.concatenate([self.counted, z(bool)])

    def _leaf(self, store, rows: np.ndarray) -> np.ndarray:
        self._lut = _extend_lut(self._lut, store._cats["tarea_code"], self.tree)
        return self._lut[1][store.col("tarea_code")[rows]]

    def before_write(self, store, rows: np.ndarray) -> None:
        """Rows about to be overwritten: their callers and 台区 as they were."""
        rows = rows[rows >= 0]
        if len(rows):
            self._old_keys.append((store.col("_customer_h")[rows].copy(), store.col("_phone_h")[rows].copy(),
                                   store.col("tarea_code")[rows].copy()))

    def written(self, rows: np.ndarray) -> None:
        self._changed.append(np.asarray(rows, dtype="int64"))

    def _apply(self, rows: np.ndarray, leaf: np.ndarray, bits: np.ndarray, sign: int) -> np.ndarray:
        """Add (sign 1) or take out (-1) rows' contributions; returns the slots moved."""
        ok = leaf >= 0
        a = self.anc[leaf[ok]]
        has = a >= 0
        src = np.repeat(np.flatnonzero(ok), has.sum(axis=1))
        slots = self._slots(a[has])
        if len(slots):
            vec = np.stack([(bits >> b) & 1 for b in _COUNT_BITS], axis=1).astype("int64")
            np.add.at(self.sums, slots, (sign * vec[src]).astype(self.sums.dtype))
        return slots

    # --- a cycle ---------------------------------------------------------------------------------
    def cycle(self, store, now: datetime, frequent: pd.Series, outages: pd.DataFrame,
              scope: pd.DataFrame, log=None) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
        """(every node down to feeder level, in code order; the nodes that may have moved, all on
        the first cycle; the lists of the nodes whose list may have moved, as JSON text).
        `log`: the OMS change log (OutagesLog) of these frames, if there is one."""
        cfg = self.cfg
        self.log = log
        self._grow(store.n)
        n = store.n
        acc = store.col("accepted_at")
        now64 = pd.Timestamp(now).to_datetime64().astype("datetime64[us]")
        win = (acc > now64 - np.timedelta64(int(cfg["window_hours"] * 3600e6), "us")) & (acc <= now64)
        reach_h = cfg["window_hours"] + cfg["group_minutes"] / 60
        reach = (acc > now64 - np.timedelta64(int(reach_h * 3600e6), "us")) & (acc <= now64)
        known, bits = self.known[:n], self.bits[:n]
        changed = np.zeros(0, "int64")
        if self.fresh:
            dirty = win.copy()
        else:
            dirty = win & ~known
            changed = np.unique(np.concatenate([*self._changed, np.zeros(0, "int64")]))
            if len(changed):
                dirty[changed] = True
                cust = [store.col("_customer_h")[changed]] + [k[0] for k in self._old_keys]
                phone = [store.col("_phone_h")[changed]] + [k[1] for k in self._old_keys]
                area = [store.col("tarea_code")[changed]] + [k[2] for k in self._old_keys]
                w_rows = np.flatnonzero(win)      # (the window's rows: not the whole store)
                for col, keys in (("_customer_h", cust), ("_phone_h", phone)):
                    wanted = np.unique(np.concatenate(keys))
                    wanted = wanted[wanted != 0]
                    if len(wanted):
                        dirty[w_rows[np.isin(store.col(col)[w_rows], wanted)]] = True
                wanted = np.unique(np.concatenate(area))
                wanted = wanted[wanted >= 0]
                dirty |= win & reach & np.isin(store.col("tarea_code"), wanted)
            dirty &= win
        self._changed, self._old_keys = [], []
        d_rows = np.flatnonzero(dirty)
        touched = []
        if len(d_rows):
            history = store.same_caller(dirty) | dirty
            areas = np.unique(store.col("tarea_code")[d_rows])
            history |= reach & np.isin(store.col("tarea_code"), areas)
            orders = store.frame(rows=np.flatnonzero(history))
            flags = classify(orders, cfg, frequent, outages, scope, now, self._spans(outages, scope)).reindex(d_rows)
            before, was_known = bits[d_rows].copy(), known[d_rows].copy()
            bits[d_rows] = _bits(flags, orders.loc[d_rows, "channel"].to_numpy(dtype=object) == cfg["media_channel"])
            known[d_rows] = True
            # rows written (their listed fields may have moved), or whose reasons did
            moved_rows = (bits[d_rows] != before) | ~was_known
            if not self.fresh and len(changed):
                moved_rows |= np.isin(d_rows, changed)
            touched.append(d_rows[moved_rows] if not self.fresh else d_rows)
        steady = win & known & ~dirty
        if not self.fresh and frequent is not self.inputs[0]:
            rows = np.flatnonzero(steady)
            tarea = store._lookup("tarea_code")[store.col("tarea_code")[rows]]
            level = pd.Series(tarea, dtype=object).map(frequent).fillna(0).to_numpy(dtype="float64")
            hit = level >= FREQUENT_LEVELS[cfg["frequent_outage_level"]]
            after = _set(bits[rows], _REASON_BIT["frequent_outage"], hit)
            touched.append(rows[after != bits[rows]])
            bits[rows] = after
        if not self.fresh and (outages is not self.inputs[1] or scope is not self.inputs[2]):
            rows = np.flatnonzero(steady & ((bits >> _GROUP) & 1).astype(bool))
            if len(rows):
                part = store.frame(rows=rows, columns=["order_no", "tarea_code", "accepted_at"])
                covered = known_outage(part, outages, scope, self._spans(outages, scope)).to_numpy(dtype=bool)
                after = _set(bits[rows], _REASON_BIT["group_no_outage"], ~covered)
                touched.append(rows[after != bits[rows]])
                bits[rows] = after
        self.inputs = (frequent, outages, scope)
        # touched rows: sensitive and media follow their reasons
        rows = np.unique(np.concatenate([*touched, np.zeros(0, "int64")]))
        if len(rows):
            b = bits[rows]
            any_reason = np.zeros(len(rows), dtype=bool)
            for r in REASONS:
                any_reason |= ((b >> _REASON_BIT[r]) & 1).astype(bool)
            media = store.col("channel")[rows] == store.code("channel", cfg["media_channel"])
            b = _set(b, _SENSITIVE, any_reason)
            bits[rows] = _set(b, _MEDIA, any_reason & media)
        # contributions: out for rows counted that left or moved, in for rows of the window
        counted = self.counted[:n]
        update = np.unique(np.concatenate([rows, np.flatnonzero(counted & ~win),
                                           np.flatnonzero(win & known & ~counted)]))
        out_rows = update[counted[update]]
        moved = [self._apply(out_rows, self.cleaf[out_rows], self.cbits[out_rows], -1)]
        in_rows = update[win[update] & known[update]]
        leaf = self._leaf(store, in_rows)
        moved.append(self._apply(in_rows, leaf, bits[in_rows], 1))
        was_listed = out_rows[((self.cbits[out_rows] >> _SENSITIVE) & 1).astype(bool)]
        listed_leaf = self.cleaf[was_listed]
        counted[out_rows] = False
        counted[in_rows] = True
        self.cbits[in_rows], self.cleaf[in_rows] = bits[in_rows], leaf
        now_listed = in_rows[((bits[in_rows] >> _SENSITIVE) & 1).astype(bool)]
        # lists of the nodes above a row that was or is listed
        list_nodes = np.unique(np.concatenate([self.list_anc[listed_leaf[listed_leaf >= 0]].ravel(),
                                               self.list_anc[leaf[np.isin(in_rows, now_listed) & (leaf >= 0)]].ravel()]))
        list_nodes = list_nodes[list_nodes >= 0]
        lists = self._lists(store, now, list_nodes, counted & ((bits >> _SENSITIVE) & 1).astype(bool))
        moved.append(self._slots(list_nodes))
        cand = (np.arange(self.n_slots) if self.fresh
                else np.unique(np.concatenate(moved)))
        self.fresh = False
        return self._frame(np.arange(len(self.upper))), self._frame(cand), lists

    def _spans(self, outages: pd.DataFrame, scope: pd.DataFrame):
        """The outage spans per 台区: from the OMS change log when it describes these frames
        (only the outages changed since the last cycle move), else built again whenever either
        frame is replaced."""
        log = self.log
        if log is not None and log.outages is outages and log.scope is scope:
            ix = self._outage_index
            if ix.revision != log.revision or ix.outages is not outages or ix.scope is not scope:
                ix.update(log)
            return self._outage_index
        sp = self._outage_spans
        if sp is None or sp.outages is not outages or sp.scope is not scope:
            self._outage_spans = sp = OutageSpans(outages, scope)
        return sp

    def _frame(self, slots: np.ndarray) -> pd.DataFrame:
        codes = self.tree.code_array[self.node[slots]]
        frame = pd.DataFrame(self.sums[slots].astype("int64"), index=pd.Index(codes, dtype=object), columns=COUNTS)
        customers = self.tree.nodes["customers"].to_numpy()[self.node[slots]]
        customers = pd.Series(customers, index=frame.index, dtype="float64")
        frame["sensitive_per_10k"] = frame["sensitive"] / (customers / 1e4).where(customers > 0)
        return frame

    def _lists(self, store, now: datetime, nodes: np.ndarray, listed: np.ndarray) -> dict[str, str]:
        """The lists of `nodes` (list-level positions) again; self.lists keeps every list."""
        from collectors.domain.lists import top_per_node
        from collectors.publish import dumps
        if not len(nodes) and not self.fresh:
            return {}
        rows = np.flatnonzero(listed)
        if not self.fresh:
            under = np.isin(self.list_anc[self._leaf(store, rows)], nodes).any(axis=1)
            rows = rows[under]
        orders = store.frame(rows=rows, columns=["order_no", "tarea_code", "order_type", "subtype", "channel",
                                                 "accepted_at", "status"])
        flags = _flags(self.bits[rows], orders.index)
        found = top_per_node(listing(orders, flags, now, self.cfg), self.tree, "tarea_code",
                             self.cfg["list_levels"], ["accepted_at", "order_no"], [False, False],
                             self.cfg["list_top"])
        codes = self.tree.code_array[nodes]
        out = {code: dumps(found[code]) for code in codes if code in found}
        for code in codes:
            if code in out:
                self.lists[code] = out[code]
            else:
                self.lists.pop(code, None)
                out[code] = "[]"
        if self.fresh:
            self.lists = {k: dumps(v) for k, v in found.items()}
            out = dict(self.lists)
        return out


def _set(bits: np.ndarray, bit: int, on: np.ndarray) -> np.ndarray:
    mask = np.uint16(1 << bit)
    return np.where(on, bits | mask, bits & ~mask).astype("uint16")


def _bits(flags: pd.DataFrame, media: np.ndarray) -> np.ndarray:
    b = np.zeros(len(flags), dtype="uint16")
    b = _set(b, _REPEAT, flags["repeat"].to_numpy(dtype=bool))
    for r in REASONS:
        b = _set(b, _REASON_BIT[r], flags[r].to_numpy(dtype=bool))
    b = _set(b, _GROUP, flags["group_call"].to_numpy(dtype=bool))
    sens = flags["sensitive"].to_numpy(dtype=bool)
    b = _set(b, _SENSITIVE, sens)
    return _set(b, _MEDIA, sens & media)


def _flags(bits: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """Bits back to classify's columns."""
    out = {"repeat": ((bits >> _REPEAT) & 1).astype(bool)}
    out.update({r: ((bits >> _REASON_BIT[r]) & 1).astype(bool) for r in REASONS})
    out["sensitive"] = ((bits >> _SENSITIVE) & 1).astype(bool)
    return pd.DataFrame(out, index=index)


def payload_text(counts: pd.DataFrame, lists: dict[str, str]) -> dict[str, str]:
    """`payloads` of these nodes as JSON text, each node's list given as JSON text (the list is
    the payload's last member: the text is the same as dumps of the whole payload)."""
    from collectors.publish import dumps
    names = [c for c in counts.columns if c != "sensitive_per_10k"]
    values = counts[names].to_numpy(dtype="int64").tolist()
    rate = counts["sensitive_per_10k"].round(9).to_numpy()
    rates = [None if r != r else float(r) for r in rate.tolist()]
    out = {}
    for i, code in enumerate(counts.index):
        head = dumps({**dict(zip(names, values[i])), "sensitive_per_10k": rates[i], "orders": []})
        out[code] = head[:-3] + lists.get(code, "[]") + "}"
    return out
