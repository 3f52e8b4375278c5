"""Repair work-order KPIs per node (docs/kpis.md, section "Repair orders").

Input `orders`: one row per order (latest version), columns of wo_order with timestamps parsed
and `area_type` of its 台区. Output: one row per node with counts, hourly arrays and baselines.
"""
from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from collectors.domain.calendar import same_type_days
from collectors.domain.tree import Tree

OPEN_STEPS = ("accepted", "dispatched", "received", "departed", "arrived")
HOURS = 24


def open_repair_mask(orders: pd.DataFrame) -> pd.Series:
    """Open = a repair order not yet restored (复电) and not cancelled."""
    return ((orders["order_type"] == "repair") & orders["restored_at"].isna()
            & orders["status"].isin(OPEN_STEPS))


def arrival_deadline(orders: pd.DataFrame, arrival_minutes: dict) -> pd.Series:
    minutes = orders["area_type"].map(arrival_minutes).astype("float64")
    return orders["accepted_at"] + pd.to_timedelta(minutes, unit="min")


def restore_deadline(orders: pd.DataFrame, restore_minutes: dict) -> pd.Series:
    """Restoration is due a limit after the crew's arrival (NaT before it arrives)."""
    minutes = orders["area_type"].map(restore_minutes).astype("float64")
    return orders["arrived_at"] + pd.to_timedelta(minutes, unit="min")


def indicators(orders: pd.DataFrame, now: datetime, baseline_days: list[date],
               repair_limits: dict) -> pd.DataFrame:
    """One numeric column per KPI contribution of each order; summing them gives the KPIs."""
    rep = orders[orders["order_type"] == "repair"]
    acc = rep["accepted_at"]
    today = pd.Timestamp(now).normalize()
    now_ts = pd.Timestamp(now)
    out = pd.DataFrame({"tarea_code": rep["tarea_code"].to_numpy()})
    in_today = ((acc >= today) & (acc <= now_ts)).to_numpy()
    out["repair_today"] = in_today.astype(int)
    out["repair_last_hour"] = ((acc > now_ts - pd.Timedelta(hours=1)) & (acc <= now_ts)).to_numpy().astype(int)
    hour = acc.dt.hour.to_numpy()
    for h in range(HOURS):
        out[f"h{h:02d}"] = (in_today & (hour == h)).astype(int)

    # Baseline: the mean over the n same-type days of the count in the same window of that day.
    n = len(baseline_days)
    base_hourly = np.zeros((len(rep), HOURS))
    base_today = np.zeros(len(rep))
    base_last_hour = np.zeros(len(rep))
    now_tod = now_ts - today
    for d in baseline_days:
        start = pd.Timestamp(d)
        on_day = ((acc >= start) & (acc < start + pd.Timedelta(days=1))).to_numpy()
        base_hourly[on_day, hour[on_day]] += 1.0 / n
        end = start + now_tod
        base_today += ((acc >= start) & (acc <= end)).to_numpy() / n
        base_last_hour += ((acc > end - pd.Timedelta(hours=1)) & (acc <= end)).to_numpy() / n
    for h in range(HOURS):
        out[f"b{h:02d}"] = base_hourly[:, h]
    out["baseline_today"] = base_today
    out["baseline_last_hour"] = base_last_hour

    is_open = open_repair_mask(rep).to_numpy()
    out["open_repair"] = is_open.astype(int)
    for step in OPEN_STEPS:
        out[f"open_{step}"] = (is_open & (rep["status"] == step).to_numpy()).astype(int)
    not_arrived = is_open & rep["arrived_at"].isna().to_numpy()
    overdue = not_arrived & (arrival_deadline(rep, repair_limits["arrival_minutes"]) < now_ts).to_numpy()
    out["overdue_arrival"] = overdue.astype(int)
    out["open_not_arrived"] = not_arrived.astype(int)
    out["key_customer_overdue"] = (overdue & rep["key_customer"].astype(bool).to_numpy()).astype(int)
    # on site (backlog "arrived"), and past the restoration limit counted from the arrival
    arrived = is_open & rep["arrived_at"].notna().to_numpy()
    late = arrived & (restore_deadline(rep, repair_limits["restore_minutes"]) < now_ts).to_numpy()
    out["overdue_restore"] = late.astype(int)
    return out


def relevant(orders: pd.DataFrame, now: datetime, baseline_days: list[date]) -> pd.DataFrame:
    """The orders any indicator can count: repairs of today, of the baseline days, or still open.

    The state spans the 35-day lookback; aggregating only these keeps a cycle's cost to a few days.
    """
    rep = orders[orders["order_type"] == "repair"]
    day = rep["accepted_at"].dt.normalize()
    wanted = pd.DatetimeIndex([pd.Timestamp(d) for d in baseline_days] + [pd.Timestamp(now).normalize()])
    return rep[day.isin(wanted) | open_repair_mask(rep)]


def node_kpis(orders: pd.DataFrame, tree: Tree, now: datetime, limits: dict) -> pd.DataFrame:
    base_cfg = limits["baseline"]
    days = same_type_days(now.date(), base_cfg["same_type_days"], base_cfg["lookback_days"])
    ind = indicators(relevant(orders, now, days), now, days, limits["repair"])
    per_node = tree.complete(tree.rollup(ind, "tarea_code", upto="tarea"), upto="feeder")
    per_node.attrs["baseline_days"] = [d.isoformat() for d in days]
    return per_node


SCALARS = ["repair_today", "repair_last_hour", "open_repair", "overdue_arrival", "open_not_arrived",
           "key_customer_overdue", "overdue_restore"]


def payloads(per_node: pd.DataFrame, baseline_days: list[str]) -> dict[str, dict]:
    """The JSON a screen needs, per node (built column-wise: thousands of nodes per cycle)."""
    per_node = per_node.astype("float64")   # an empty state rolls up to object columns
    hourly = per_node[[f"h{h:02d}" for h in range(HOURS)]].to_numpy().astype(int).tolist()
    base_hourly = per_node[[f"b{h:02d}" for h in range(HOURS)]].to_numpy().round(3).tolist()
    backlog = per_node[[f"open_{s}" for s in OPEN_STEPS]].to_numpy().astype(int).tolist()
    scalars = per_node[SCALARS].astype(int).to_dict("records")
    base_today = per_node["baseline_today"].round(3).tolist()
    base_hour = per_node["baseline_last_hour"].round(3).tolist()
    out = {}
    for i, code in enumerate(per_node.index):
        out[code] = {**scalars[i], "baseline_today": base_today[i], "baseline_last_hour": base_hour[i],
                     "hourly": hourly[i], "baseline_hourly": base_hourly[i],
                     "backlog": dict(zip(OPEN_STEPS, backlog[i])), "baseline_days": baseline_days}
    return out


def zero_payload(baseline_days: list[str]) -> dict:
    """What a node with no orders at all shows (sparse 台区 entries fall back to it)."""
    zero = pd.DataFrame(0.0, index=["_"], columns=[*SCALARS, "baseline_today", "baseline_last_hour",
                                                   *[f"h{h:02d}" for h in range(HOURS)],
                                                   *[f"b{h:02d}" for h in range(HOURS)],
                                                   *[f"open_{s}" for s in OPEN_STEPS]])
    return payloads(zero, baseline_days)["_"]


def active_nodes(per_node: pd.DataFrame, levels_index: pd.Index) -> pd.DataFrame:
    """Every node down to feeder level, and the 台区 with something today or still open."""
    busy = per_node[["repair_today", "open_repair", "overdue_arrival"]].to_numpy().any(axis=1)
    return per_node[per_node.index.isin(levels_index) | busy]


def countdowns(orders: pd.DataFrame, now: datetime, repair_limits: dict) -> pd.DataFrame:
    """Every open repair order with its running time limit: arrival until the crew is there,
    then restoration. minutes_left < 0 is past the limit; colour follows warn_share."""
    rep = orders[open_repair_mask(orders)]
    arrived = rep["arrived_at"].notna()
    arrival_min = rep["area_type"].map(repair_limits["arrival_minutes"]).astype("float64")
    restore_min = rep["area_type"].map(repair_limits["restore_minutes"]).astype("float64")
    limit = restore_min.where(arrived, arrival_min)
    start = rep["arrived_at"].where(arrived, rep["accepted_at"])
    deadline = start + pd.to_timedelta(limit, unit="min")
    now_ts = pd.Timestamp(now)
    left = (deadline - now_ts).dt.total_seconds() / 60.0
    used = (now_ts - start).dt.total_seconds() / 60.0 / limit
    colour = np.select([left < 0, used >= repair_limits["warn_share"]], ["red", "yellow"], "normal")
    return pd.DataFrame({
        "order_no": rep["order_no"], "tarea_code": rep["tarea_code"],
        "stage": np.where(arrived, "restore", "arrival"), "status": rep["status"],
        "key_customer": rep["key_customer"].astype(bool), "accepted_at": rep["accepted_at"],
        "deadline": deadline, "limit_min": limit, "minutes_left": left.round(1),
        "used_share": used.round(4), "colour": colour}).reset_index(drop=True)
