"""Key customers and lifeline projects: power status, supply sources, notice chain (docs/kpis.md).

A feeder is lost while OMS has an outage in progress on it (equipment_type feeder) or SCADA shows
its breaker tripped and not closed. A customer is out when its 台区 is inside the scope of a
台区-level outage in progress (equipment_type tarea or lv_line), or when every one of its supply
feeders is lost; it runs on one source when it has two and exactly one is lost. Feeder outages do
not put the customer "out" through the 台区 scope: that is what the backup source is for.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from collectors.domain.outages import active_mask
from collectors.domain.tree import Tree

NOTICE_STATES = ("pending", "done", "late", "missed")


def lost_feeders(outages: pd.DataFrame, tripped: pd.DataFrame, now: datetime) -> pd.Series:
    """Feeder code → since when it has been lost (the earliest of OMS and SCADA)."""
    active = outages[active_mask(outages, now) & (outages["equipment_type"] == "feeder")]
    since = pd.concat([active[["equipment_code", "start_at"]].set_axis(["feeder_code", "since"], axis=1),
                       tripped[["feeder_code", "since"]]])
    return since.groupby("feeder_code")["since"].min()


def tareas_out(outages: pd.DataFrame, scope: pd.DataFrame, now: datetime) -> pd.Series:
    """台区 code → since when a 台区-level outage in progress has covered it."""
    active = outages[active_mask(outages, now) & (outages["equipment_type"] != "feeder")]
    covered = pd.concat([scope[["outage_id", "tarea_code"]],
                         active[["outage_id", "equipment_code"]].set_axis(["outage_id", "tarea_code"], axis=1)])
    covered = covered.merge(active[["outage_id", "start_at"]], on="outage_id")
    return covered.groupby("tarea_code")["start_at"].min()


def power_status(customers: pd.DataFrame, lost: pd.Series, out_tareas: pd.Series,
                 now: datetime) -> pd.DataFrame:
    """Per key customer: status (supplied | one_source_lost | out), since, and each source."""
    c = customers.reset_index(drop=True)
    two = c["backup_feeder"].notna().to_numpy()
    p_since, b_since = _since(lost, c["primary_feeder"]), _since(lost, c["backup_feeder"])
    p_lost, b_lost = p_since.notna().to_numpy(), b_since.notna().to_numpy()
    t_since = _since(out_tareas, c["tarea_code"])
    feeders_out = p_lost & (b_lost | ~two)
    out = t_since.notna().to_numpy() | feeders_out
    one = ~out & two & (p_lost ^ b_lost)
    # out since: the 台区 outage, or the moment the last source was lost
    feeders_since = pd.concat([p_since, b_since.where(two, p_since)], axis=1).max(axis=1)
    out_since = pd.concat([t_since, feeders_since.where(feeders_out)], axis=1).min(axis=1)
    single_since = p_since.where(p_lost, b_since)
    since = out_since.where(out, single_since.where(one))
    single_minutes = ((pd.Timestamp(now) - single_since).dt.total_seconds() / 60.0).where(one, 0.0)
    return pd.DataFrame({
        "customer_id": c["customer_id"], "tarea_code": c["tarea_code"],
        "status": np.select([out, one], ["out", "one_source_lost"], "supplied"), "since": since,
        "primary_feeder": c["primary_feeder"], "primary_lost": p_lost,
        "backup_feeder": c["backup_feeder"], "backup_lost": b_lost & two,
        "single_source_minutes": single_minutes.round(2)})


def _since(times: pd.Series, codes: pd.Series) -> pd.Series:
    """The time for each code (NaT where it has none), typed even when `times` is empty."""
    return pd.Series(times.astype("datetime64[us]").reindex(codes.to_numpy()).to_numpy(), index=codes.index)


def notice_states(notices: pd.DataFrame, now: datetime) -> pd.Series:
    """pending (not due yet, not done), done (by its due time), late (done after it), missed."""
    done = notices["done_at"].notna()
    on_time = done & (notices["done_at"] <= notices["due_at"])
    overdue = ~done & (notices["due_at"] < pd.Timestamp(now))
    return pd.Series(np.select([on_time, done, overdue], ["done", "late", "missed"], "pending"),
                     index=notices.index)


def node_kpis(status: pd.DataFrame, notices: pd.DataFrame, customers: pd.DataFrame,
              tree: Tree) -> pd.DataFrame:
    """Per node: key customers, lifelines, out, on one source (and the longest such run),
    and notice steps in each state."""
    lifeline = customers.set_index("customer_id")["lifeline"].astype(bool)
    leaf = pd.DataFrame({
        "tarea_code": status["tarea_code"], "key_customers": 1,
        "lifelines": status["customer_id"].map(lifeline).fillna(False).astype(int),
        "keycust_outages": (status["status"] == "out").astype(int),
        "keycust_one_source_lost": (status["status"] == "one_source_lost").astype(int)})
    per_node = tree.rollup(leaf, "tarea_code", upto="tarea")
    longest = tree.rollup(status[["tarea_code", "single_source_minutes"]], "tarea_code", upto="tarea", how="max")
    per_node["keycust_single_source_minutes"] = longest["single_source_minutes"].reindex(per_node.index)
    if not notices.empty:
        tarea = notices["customer_id"].map(customers.set_index("customer_id")["tarea_code"])
        steps = pd.DataFrame({"tarea_code": tarea,
                              **{f"notices_{s}": (notices["state"] == s).astype(int) for s in NOTICE_STATES}})
        per_node = per_node.join(tree.rollup(steps.dropna(subset=["tarea_code"]), "tarea_code", upto="tarea"),
                                 how="outer")
    frame = tree.complete(per_node, upto="station")
    for s in NOTICE_STATES:
        frame[f"notices_{s}"] = frame.get(f"notices_{s}", 0)
    return frame.fillna(0)
