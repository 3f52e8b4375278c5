"""营销 customer files: the grid tree and key customers. Read whole: it is small and slow-moving."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from collectors.base import Collector
from collectors.domain import validation as v
from collectors.domain.tree import LEVELS, Tree
from collectors.frames import typed
from collectors.publish import Dataset
from collectors.sources.schema import AREA_TYPES, grid_node, key_customer

SOURCE = "营销"


class TopologyCollector(Collector):
    name = "topology"
    needs_tree = False

    def collect(self) -> dict[str, pd.DataFrame]:
        return {"grid_node": self.ctx.source.read_table(grid_node),
                "key_customer": self.ctx.source.read_table(key_customer)}

    def absorb(self, batches, now: datetime) -> list[dict]:
        latest = now + timedelta(minutes=5)
        nodes_raw = batches["grid_node"]
        rules = [*v.required("code", "name", "level", "area_type", "customers", "updated_at"),
                 v.text("code", 32), v.text("name", 64), v.one_of("level", LEVELS),
                 v.one_of("area_type", AREA_TYPES), v.number("customers", 0, 10_000_000),
                 v.number("capacity_kva", 1, 100_000, optional=True),
                 v.number("rated_current_a", 1, 5_000, optional=True),
                 v.timestamp("updated_at", latest)]
        nodes, rejects = v.apply_rules(nodes_raw, rules, source=SOURCE, table="grid_node", key=["code"])
        nodes = typed(nodes, numbers=("customers", "capacity_kva", "rated_current_a", "lon", "lat"))
        nodes, orphan_rejects = self._drop_orphans(nodes)
        rejects += orphan_rejects
        if nodes.empty:
            raise ValueError("grid_node holds no valid node")
        self.ctx.tree = Tree(nodes.set_index("code"))

        kc_rules = [*v.required("customer_id", "name", "category", "tarea_code", "primary_feeder"),
                    v.known_code("tarea_code", self.ctx.tree.codes("tarea")),
                    v.known_code("primary_feeder", self.ctx.tree.codes("feeder")),
                    v.known_code("backup_feeder", self.ctx.tree.codes("feeder"))]
        kc, kc_rejects = v.apply_rules(batches["key_customer"], kc_rules, source=SOURCE,
                                       table="key_customer", key=["customer_id"])
        self.ctx.key_customers = typed(kc, flags=("lifeline",)).set_index("customer_id", drop=False)
        return rejects + kc_rejects

    def _drop_orphans(self, nodes: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
        """A node whose parent is missing (or at the wrong level) cannot be rolled up: reject it."""
        rejects = []
        while True:
            level_of = nodes.set_index("code")["level"]
            parent_level = nodes["parent_code"].map(level_of)
            expected = nodes["level"].map(lambda lv: LEVELS[LEVELS.index(lv) - 1] if lv != "city" else None)
            bad = (nodes["level"] != "city") & (parent_level != expected)
            if not bad.any():
                return nodes, rejects
            for _, row in nodes[bad].iterrows():
                rejects.append(v.reject_record(row, source=SOURCE, table="grid_node", key=["code"],
                                               field="parent_code", rule="known_parent"))
            nodes = nodes[~bad]

    def datasets(self, now: datetime) -> list[Dataset]:
        nodes = self.ctx.tree.nodes
        cols = ["name", "level", "parent_code", "area_type", "customers", "lon", "lat"]
        table = nodes[cols].astype(object).where(nodes[cols].notna(), None)   # NaN -> null
        entries = {}
        for code, n in zip(nodes.index, table.to_dict("records")):   # 15k+ nodes: plain dicts
            entries[code] = {"code": code, **n, "customers": int(n["customers"]),
                             "lon": _num(n["lon"]), "lat": _num(n["lat"])}
        parents = nodes["parent_code"].dropna()
        for parent, kids in parents.groupby(parents).groups.items():
            entries[f"children:{parent}"] = sorted(kids)
        entries["roots"] = sorted(nodes.index[nodes["level"] == "city"])
        return [Dataset("topology", now, entries)]


def _num(value):
    return None if value is None or pd.isna(value) else round(float(value), 6)
