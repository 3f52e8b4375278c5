"""Outage KPIs per node (docs/kpis.md, section "Outages in progress").

An outage is in progress when OMS has it active: started, not restored, not cancelled. Its scope
is the 台区 listed for it in oms_outage_tarea; customers covered are the customers of those 台区
from the customer files (so a 台区 in two overlapping outages counts once).
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd

from collectors.domain.tree import LEVELS, Tree


def active_mask(outages: pd.DataFrame, now: datetime) -> pd.Series:
    return ((outages["status"] == "active") & outages["restored_at"].isna()
            & (outages["start_at"] <= pd.Timestamp(now)))


def node_kpis(outages: pd.DataFrame, scope: pd.DataFrame, tree: Tree, now: datetime) -> pd.DataFrame:
    active = outages[active_mask(outages, now)].reset_index(drop=True)
    pairs = scope[scope["outage_id"].isin(active["outage_id"])][["outage_id", "tarea_code"]]
    pairs = pairs.merge(active[["outage_id", "outage_type"]], on="outage_id")
    anc = tree.ancestors.reindex(pairs["tarea_code"].to_numpy())
    customers = tree.nodes["customers"].reindex(pairs["tarea_code"].to_numpy()).to_numpy()
    pairs = pairs.assign(customers=customers)
    parts = []
    for level in LEVELS:
        keyed = pairs.assign(node=anc[level].to_numpy()).dropna(subset=["node"])
        if keyed.empty:
            continue
        g = keyed.groupby("node")
        tareas = keyed.drop_duplicates(["node", "tarea_code"]).groupby("node")
        part = pd.DataFrame({
            "outages_active": g["outage_id"].nunique(),
            "outages_fault": keyed[keyed["outage_type"] == "fault"].groupby("node")["outage_id"].nunique(),
            "outages_planned": keyed[keyed["outage_type"] == "planned"].groupby("node")["outage_id"].nunique(),
            "outage_transformer_areas": tareas["tarea_code"].count(),
            "outage_customers": tareas["customers"].sum(),
        })
        parts.append(part)
    frame = pd.concat(parts) if parts else pd.DataFrame(
        columns=["outages_active", "outages_fault", "outages_planned",
                 "outage_transformer_areas", "outage_customers"])
    return tree.complete(frame.fillna(0), upto="feeder").astype("int64")


def active_list(outages: pd.DataFrame, scope: pd.DataFrame, tree: Tree, now: datetime) -> list[dict]:
    """Every outage in progress with its scope, for tables and drill-down."""
    active = outages[active_mask(outages, now)].reset_index(drop=True).sort_values("start_at")
    in_scope = scope[scope["outage_id"].isin(active["outage_id"])]
    n_tareas = in_scope.groupby("outage_id")["tarea_code"].nunique()
    rows = []
    for o in active.itertuples(index=False):  # a handful of rows: readability over vectorising
        rows.append({
            "outage_id": o.outage_id, "type": o.outage_type, "equipment": o.equipment_code,
            "equipment_type": o.equipment_type, "cause": o.cause,
            "customers_reported": int(o.customers), "tareas": int(n_tareas.get(o.outage_id, 0)),
            "start_at": o.start_at.isoformat(), "etr": None if pd.isna(o.etr) else o.etr.isoformat(),
            "district": tree.ancestors.at[o.equipment_code, "district"]
            if o.equipment_code in tree.ancestors.index else None,
        })
    return rows
