"""The grid tree and vectorised roll-ups of leaf values to every level above them."""
from __future__ import annotations

from functools import cached_property

import numpy as np
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

    @cached_property
    def ancestor_positions(self) -> dict[str, np.ndarray]:
        """Per level, each node's ancestor at that level as a position in `nodes` (-1: none)."""
        return {level: self.nodes.index.get_indexer(self.ancestors[level].to_numpy()) for level in LEVELS}

    @cached_property
    def level_numbers(self) -> np.ndarray:
        """Each node's level as its index in LEVELS."""
        return self.nodes["level"].map({lv: i for i, lv in enumerate(LEVELS)}).to_numpy("int64")

    @cached_property
    def code_order(self) -> np.ndarray:
        """Node positions in code order (what a sorted union of node codes gives)."""
        return np.argsort(self.nodes.index.to_numpy(dtype=object), kind="stable")

    def positions(self, codes) -> np.ndarray:
        """Positions in `nodes` of the given codes (-1 for a code not in the tree)."""
        return self.nodes.index.get_indexer(codes)

    def rollup_positions(self, leaf: np.ndarray, weights: dict[str, np.ndarray], upto: str = "tarea"
                         ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """`rollup` for leaves given as node positions and numeric arrays: per node (all of them,
        by position) the number of leaves below it (itself included) and the sums of the arrays."""
        n = len(self.nodes)
        keep = leaf >= 0
        leaf = leaf[keep]
        weights = {k: np.asarray(w, dtype="float64")[keep] for k, w in weights.items()}
        count = np.zeros(n, dtype="int64")
        sums = {k: np.zeros(n, dtype="float64") for k in weights}
        for level in LEVELS[:LEVELS.index(upto) + 1]:
            anc = self.ancestor_positions[level][leaf]
            has = anc >= 0
            count += np.bincount(anc[has], minlength=n)
            for k, w in weights.items():
                sums[k] += np.bincount(anc[has], weights=w[has], minlength=n)
        return count, sums

    def memo(self, key, build):
        """A value derived from this tree only, built once (a new tree is a new object)."""
        cache = self.__dict__.setdefault("_memo", {})
        if key not in cache:
            cache[key] = build()
        return cache[key]

    @cached_property
    def code_array(self) -> np.ndarray:
        """Node codes as an object array (index positions → codes without an Index)."""
        return self.nodes.index.to_numpy(dtype=object)

    @cached_property
    def code_rank(self) -> np.ndarray:
        """Each node's place in code order."""
        rank = np.empty(len(self.nodes), dtype="int64")
        rank[self.code_order] = np.arange(len(self.nodes))
        return rank

    def rollup_sum(self, values: pd.DataFrame, code_col: str, upto: str = "tarea") -> pd.DataFrame:
        """`rollup(values, code_col, upto, how="sum")` for numeric columns, on integer positions
        (no string group keys): the same rows in the same order, the same dtypes."""
        numeric = values.drop(columns=[code_col])
        kinds = dict(zip(numeric.columns, (d.kind for d in numeric.dtypes)))
        if not len(values) or any(k not in "biuf" for k in kinds.values()):
            return self.rollup(values, code_col, upto, how="sum")
        leaf = self.positions(values[code_col].to_numpy())
        known = leaf >= 0
        matrix = numeric.to_numpy(dtype="float64", na_value=np.nan)[known]
        matrix = np.where(np.isnan(matrix), 0.0, matrix)          # a group's sum skips NaN
        leaf = leaf[known]
        parts = []
        for level in LEVELS[:LEVELS.index(upto) + 1]:
            anc = self.ancestor_positions[level][leaf]
            has = anc >= 0
            if not has.any():
                continue
            keys = anc[has]
            order = np.argsort(self.code_rank[keys], kind="stable")    # groups in code order
            keys, rows = keys[order], matrix[has][order]
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            sums = np.add.reduceat(rows, starts, axis=0) if len(rows) else rows
            parts.append(pd.DataFrame(sums, index=pd.Index(self.code_array[keys[starts]], dtype=object),
                                       columns=numeric.columns))
        if not parts:
            return pd.DataFrame(columns=numeric.columns)
        out = pd.concat(parts)
        for c, k in kinds.items():
            if k in "biu":
                out[c] = out[c].astype("int64")
        return out

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
