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

from collectors.domain.orders import rollup_complete
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


def known_outage(orders: pd.DataFrame, outages: pd.DataFrame, scope: pd.DataFrame) -> pd.Series:
    """True where an OMS outage (not cancelled) covered the order's 台区 when it was accepted."""
    live = outages[outages["status"] != "cancelled"][["outage_id", "equipment_code", "start_at", "restored_at"]]
    covered = pd.concat([scope[["outage_id", "tarea_code"]],
                         live.rename(columns={"equipment_code": "tarea_code"})[["outage_id", "tarea_code"]]])
    spans = covered.merge(live[["outage_id", "start_at", "restored_at"]], on="outage_id")
    hits = orders[["order_no", "tarea_code", "accepted_at"]].merge(spans, on="tarea_code")
    inside = (hits["start_at"] <= hits["accepted_at"]) & (
        hits["restored_at"].isna() | (hits["restored_at"] >= hits["accepted_at"]))
    return orders["order_no"].isin(hits.loc[inside, "order_no"])


def classify(orders: pd.DataFrame, cfg: dict, frequent: pd.Series, outages: pd.DataFrame,
             scope: pd.DataFrame, now: datetime) -> pd.DataFrame:
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
            group_candidates.loc[known_outage(group_candidates, outages, scope), "order_no"]),
    }, index=mine.index)
    flags["sensitive"] = flags[list(REASONS)].any(axis=1)
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
