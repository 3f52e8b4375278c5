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


def head_per_node(rows: pd.DataFrame, tree: Tree, code_col: str, levels, sort_by: list[str],
                  ascending: list[bool], top: int) -> dict[str, list]:
    """For every node at `levels` with rows below it: the labels of its first `top` rows in order.
    `rows` needs a unique index."""
    if rows.empty:
        return {}
    ordered = rows.sort_values(sort_by, ascending=ascending, kind="stable")
    anc = tree.ancestors.reindex(ordered[code_col].to_numpy())
    heads: dict[str, list] = {}
    for level in levels:
        nodes = pd.Series(anc[level].to_numpy(), index=ordered.index).dropna()
        picked = nodes.groupby(nodes, sort=False).head(top)
        heads.update(picked.index.groupby(picked.to_numpy()))
    return {node: list(labels) for node, labels in heads.items()}


def top_per_node(rows: pd.DataFrame, tree: Tree, code_col: str, levels, sort_by: list[str],
                 ascending: list[bool], top: int) -> dict[str, list[dict]]:
    """For every node at `levels` with rows below it: its first `top` rows, as records."""
    rows = rows.reset_index(drop=True)
    heads = head_per_node(rows, tree, code_col, levels, sort_by, ascending, top)
    shown = sorted({label for labels in heads.values() for label in labels})
    records = dict(zip(shown, json_records(rows.loc[shown])))     # one conversion for all lists
    return {node: [records[label] for label in labels] for node, labels in heads.items()}
