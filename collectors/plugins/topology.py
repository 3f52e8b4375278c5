"""营销 customer files: the grid tree and key customers. Read whole, when something moved.

A province's tree is ~350 k rows: reading, validating and publishing it every 5 min was seconds
of work for a file that changes a few times a year. Each cycle first asks the source for a
fingerprint of both tables (row count, newest plausible updated_at and how many rows carry a
plausible one: one indexed query); the tables are read whole only when it moved, and once an hour
regardless (a safety net for a source that edits a row without moving its updated_at).
"""
from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import case, func, select

from collectors.base import Collector
from collectors.domain import validation as v
from collectors.domain.tree import LEVELS, Tree
from collectors.frames import typed
from collectors.publish import Dataset, RawJSON, digest, dumps
from collectors.sources.schema import AREA_TYPES, grid_node, key_customer

SOURCE = "营销"
log = logging.getLogger("collectors")
REREAD_AFTER = timedelta(hours=1)     # read whole at least this often, fingerprint or not


class TopologyCollector(Collector):
    name = "topology"
    needs_tree = False

    def __init__(self, ctx):
        super().__init__(ctx)
        self.fingerprint: tuple | None = None    # of the rows the tree was built from
        self.read_at: datetime | None = None
        self._reading: tuple | None = None
        self._dataset: Dataset | None = None
        self._built: Tree | None = None          # a tree built this cycle, to be packed after it

    def _fingerprint(self, now: datetime) -> tuple:
        latest = now + timedelta(minutes=5)
        out = []
        for table in (grid_node, key_customer):
            u = table.c.updated_at
            plausible = case((u <= latest, u))
            row = self.ctx.source.read(select(func.count(), func.max(plausible), func.count(plausible)))
            out.append(tuple(row.iloc[0]))
        return tuple(out)

    def unchanged(self, now: datetime) -> bool:
        """True when the tree is loaded, no row moved since and the last whole read is recent."""
        self._reading = self._fingerprint(now)
        return (self.ctx.tree is not None and self._reading == self.fingerprint
                and self.read_at is not None and now - self.read_at < REREAD_AFTER)

    def collect(self) -> dict[str, pd.DataFrame]:
        if self.unchanged(self.ctx.clock.now()):
            return {}
        return {"grid_node": self.ctx.source.read_table(grid_node),
                "key_customer": self.ctx.source.read_table(key_customer)}

    def absorb(self, batches, now: datetime) -> list[dict]:
        if not batches:
            return []
        rejects = self._absorb(batches, now)
        self.fingerprint, self.read_at, self._dataset = self._reading, now, None
        return rejects

    def _absorb(self, batches, now: datetime) -> list[dict]:
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
        nodes = compact(nodes.set_index("code"))
        old = self.ctx.tree
        self._built = None
        if old is None or not old.nodes.equals(nodes):
            self._built = Tree(nodes)     # published when the cycle is over (cycle, repack)
        tree = self._built if self._built is not None else old
        # else the hourly re-read found the same nodes: the same Tree object, so every
        # collector's per-tree caches (positions, ancestors, code order) stay valid

        kc_rules = [*v.required("customer_id", "name", "category", "tarea_code", "primary_feeder"),
                    v.known_code("tarea_code", tree.codes("tarea")),
                    v.known_code("primary_feeder", tree.codes("feeder")),
                    v.known_code("backup_feeder", tree.codes("feeder"))]
        kc, kc_rejects = v.apply_rules(batches["key_customer"], kc_rules, source=SOURCE,
                                       table="key_customer", key=["customer_id"])
        self.ctx.key_customers = typed(kc, flags=("lifeline",)).set_index("customer_id", drop=False)
        return rejects + kc_rejects

    def cycle(self, now: datetime):
        """Collector.cycle; a tree built in it is packed once the cycle's rows are gone, then
        published (other collectors see the old tree until then, never a half-packed one)."""
        try:
            out = super().cycle(now)
        except Exception:
            if self._built is not None:   # never published: read whole again next cycle
                self._built, self.fingerprint, self._dataset = None, None, None
            raise
        built, self._built = self._built, None
        if built is not None:
            repack(built)
            self.ctx.tree = built
        return out

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
        if self._dataset is None:
            self._dataset = self._build(now)
        return [replace(self._dataset, as_of=now)]     # keeps the digest: not serialised again

    def _build(self, now: datetime) -> Dataset:
        """One entry per node and per parent's children, written from the tree each time the
        dataset is passed over (NodeEntries), not held: the JSON text of a province's 350 k
        nodes is ~190 MB, needed only when the tree changed or Redis lost it."""
        ds = Dataset("topology", now, NodeEntries(self._built if self._built is not None else self.ctx.tree))
        ds.digest = digest(ds)
        return ds


class NodeEntries(Mapping):
    """The topology dataset's entries, generated from the nodes on every pass (publish passes
    over them for the digest of a new tree, and to write them when Redis does not hold them)."""

    def __init__(self, nodes):
        self._of = nodes        # the node table, or the Tree holding it (which repack may renew)

    @property
    def nodes(self) -> pd.DataFrame:
        return self._of.nodes if isinstance(self._of, Tree) else self._of

    def items(self) -> Iterator[tuple[str, object]]:
        nodes = self.nodes

        def column(name):
            values = nodes[name]
            return values.astype(object).where(values.notna(), None).tolist()   # NaN -> null
        for code, name, level, parent, area, customers, lon, lat in zip(
                nodes.index.tolist(), column("name"), column("level"), column("parent_code"),
                column("area_type"), column("customers"), column("lon"), column("lat")):
            yield code, RawJSON(dumps({"code": code, "name": name, "level": level, "parent_code": parent,
                                       "area_type": area, "customers": int(customers),
                                       "lon": _num(lon), "lat": _num(lat)}))
        parents = nodes["parent_code"].dropna()
        for parent, kids in parents.groupby(parents).groups.items():
            yield f"children:{parent}", RawJSON(dumps(sorted(kids)))
        yield "roots", sorted(nodes.index[nodes["level"] == "city"])

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self.items())

    def __len__(self) -> int:
        return len(self.nodes) + self.nodes["parent_code"].nunique() + 1

    def __getitem__(self, key: str):
        for k, value in self.items():      # a whole pass: for tests and debugging only
            if k == key:
                return value
        raise KeyError(key)


def repack(tree: Tree) -> None:
    """The tree's values copied into fresh memory, in place (the same Tree object). For a tree
    no one else holds yet: the old values are dropped before the copy is made, and the tree
    is empty meanwhile.

    The node texts (350 k codes, names) are read among ~2 M short-lived row objects, and a
    page of the heap returns to the system only when nothing in it lives: at province the
    tree's ~85 MB of objects kept ~250 MB resident. A copy made once the rows are gone packs
    them densely (~196 MB resident instead of ~370 MB; ~0.5 s, only when a tree is built)."""
    try:
        blob = pickle.dumps(tree.__dict__, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:   # noqa: BLE001 - a value that does not pickle: keep the tree as it is
        log.warning("topology: tree not repacked: %s", exc)
        return
    tree.__dict__.clear()      # first: the copy fills pages the old values and the rows left
    tree.__dict__.update(pickle.loads(blob))


def compact(nodes: pd.DataFrame) -> pd.DataFrame:
    """The tree's node table without the columns no one reads (updated_at), a repeated text
    held once (level, area type: 330 k copies of "tarea"), and each parent code the object of
    that node's own code. Same values and dtypes: ~75 MB less at province."""
    nodes = nodes.drop(columns=["updated_at"], errors="ignore")
    pool = nodes.index.to_numpy(dtype=object)
    for col in ("level", "area_type", "parent_code"):
        if col not in nodes:
            continue
        values = nodes[col]
        raw = values.to_numpy(dtype=object)
        if col == "parent_code":
            if not nodes.index.is_unique:
                continue
            at = nodes.index.get_indexer(raw)
            shared = pool[np.where(at >= 0, at, 0)] if len(pool) else raw
        else:
            at, uniques = pd.factorize(raw)
            shared = np.asarray(uniques, dtype=object)[np.where(at >= 0, at, 0)] if len(uniques) else raw
        nodes[col] = pd.Series(np.where(at >= 0, shared, raw), index=nodes.index, dtype=values.dtype)
    return nodes


def _num(value):
    return None if value is None or pd.isna(value) else round(float(value), 6)
