"""The grid tree and vectorised roll-ups of leaf values to every level above them."""
from __future__ import annotations

import pandas as pd

LEVELS = ("city", "district", "station", "feeder", "tarea")


class Tree:
    """Nodes of 地市 → 区县 → 供电所 → 线路 → 台区, with each node's ancestor at every level."""

    def __init__(self, nodes: pd.DataFrame):
        # nodes: index code; columns name, level, parent_code, area_type, customers, ...
        self.nodes = nodes
        self.ancestors = self._ancestors(nodes)

    @staticmethod
    def _ancestors(nodes: pd.DataFrame) -> pd.DataFrame:
        anc = pd.DataFrame(index=nodes.index, columns=list(LEVELS), dtype="object")
        for level in LEVELS:
            anc.loc[nodes["level"] == level, level] = nodes.index[nodes["level"] == level]
        parent = nodes["parent_code"]
        # Walk up one level at a time: a node's ancestors are its parent's, plus itself.
        for level in LEVELS[1:]:
            at = nodes.index[nodes["level"] == level]
            par = parent.loc[at]
            for above in LEVELS[:LEVELS.index(level)]:
                anc.loc[at, above] = anc.loc[par.values, above].values
        return anc

    def codes(self, level: str) -> pd.Index:
        return self.nodes.index[self.nodes["level"] == level]

    def children(self, code: str) -> pd.Index:
        return self.nodes.index[self.nodes["parent_code"] == code]

    def rollup(self, values: pd.DataFrame, code_col: str, upto: str = "tarea",
               how: str = "sum") -> pd.DataFrame:
        """Aggregate leaf rows to every level from the city down to `upto`.

        `values` holds a code column (a 台区 or feeder code) and numeric columns. The result is
        indexed by node code, one row per node that has rows below it.
        """
        anc = self.ancestors.reindex(values[code_col].to_numpy())
        numeric = values.drop(columns=[code_col]).reset_index(drop=True)
        parts = []
        for level in LEVELS[:LEVELS.index(upto) + 1]:
            keys = anc[level].to_numpy()
            mask = pd.notna(keys)
            if mask.any():
                parts.append(numeric[mask].groupby(keys[mask]).agg(how))
        if not parts:
            return pd.DataFrame(columns=numeric.columns)
        return pd.concat(parts)

    def complete(self, frame: pd.DataFrame, upto: str = "station", fill=0) -> pd.DataFrame:
        """Give every node down to `upto` a row, zero where nothing happened below it."""
        levels = LEVELS[:LEVELS.index(upto) + 1]
        index = self.nodes.index[self.nodes["level"].isin(levels)]
        return frame.reindex(index.union(frame.index)).fillna(fill)
