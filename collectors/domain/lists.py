"""Bounded per-node lists (countdowns, findings, sensitive orders) as JSON-ready records."""
from __future__ import annotations

import pandas as pd

from collectors.domain.tree import Tree


def json_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with ISO times and None for missing values."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%S")
    out = out.astype(object).where(out.notna(), None)
    return out.to_dict("records")


def top_per_node(rows: pd.DataFrame, tree: Tree, code_col: str, levels, sort_by: list[str],
                 ascending: list[bool], top: int) -> dict[str, list[dict]]:
    """For every node at `levels` with rows below it: its first `top` rows in sort order."""
    if rows.empty:
        return {}
    ordered = rows.sort_values(sort_by, ascending=ascending, kind="stable")
    anc = tree.ancestors.reindex(ordered[code_col].to_numpy())
    lists: dict[str, list[dict]] = {}
    for level in levels:
        keyed = ordered.assign(_node=anc[level].to_numpy()).dropna(subset=["_node"])
        head = keyed.groupby("_node", sort=False).head(top)
        for node, part in head.groupby("_node", sort=False):  # one group per node, not per row
            lists[node] = json_records(part.drop(columns="_node"))
    return lists
