"""Topology at province size holds less: the node table drops what no one reads and shares
repeated text, and the dataset's entries are written from the tree on each pass instead of
being held. Redis content and the tree's values are what the held-dict build gave."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import pandas as pd

from collectors.plugins.topology import NodeEntries, TopologyCollector, _num, compact
from collectors.publish import RawJSON, digest, dumps, encode
from collectors.publish import Dataset
from collectors.redis_schema import dataset_key
from tests.kpi_harness import Harness
from tests.sourcedata import fmt

NOW = datetime(2026, 7, 15, 14, 0)


def held_entries(nodes: pd.DataFrame) -> dict:
    """The entries as TopologyCollector built and held them before (a dict of JSON text)."""
    def column(name):
        values = nodes[name]
        return values.astype(object).where(values.notna(), None).tolist()
    entries = {}
    for code, name, level, parent, area, customers, lon, lat in zip(
            nodes.index.tolist(), column("name"), column("level"), column("parent_code"),
            column("area_type"), column("customers"), column("lon"), column("lat")):
        entries[code] = RawJSON(dumps({"code": code, "name": name, "level": level, "parent_code": parent,
                                       "area_type": area, "customers": int(customers),
                                       "lon": _num(lon), "lat": _num(lat)}))
    parents = nodes["parent_code"].dropna()
    for parent, kids in parents.groupby(parents).groups.items():
        entries[f"children:{parent}"] = RawJSON(dumps(sorted(kids)))
    entries["roots"] = sorted(nodes.index[nodes["level"] == "city"])
    return entries


def test_redis_holds_what_the_held_dict_wrote(settings_env, source_url, redis_client):
    with sqlite3.connect(source_url.removeprefix("sqlite:///")) as conn:   # a node without capacity or place
        conn.execute("UPDATE grid_node SET lon = NULL, capacity_kva = NULL, updated_at = ? WHERE code = ?",
                     (fmt(NOW - timedelta(minutes=1)), "PC01S01F001T002"))
    h = Harness(redis_client, [TopologyCollector], NOW).run()
    nodes = h.ctx.tree.nodes
    want = encode(Dataset("topology", NOW, held_entries(nodes)))
    got = redis_client.hgetall(dataset_key("topology"))
    assert got == want and len(got) > 20
    ds = h.runners[0].collector.datasets(NOW)[0]
    assert isinstance(ds.entries, NodeEntries) and len(ds.entries) == len(want)
    assert set(ds.entries) == set(want) and ds.entries["PC01"] == want["PC01"]
    assert ds.digest == digest(Dataset("topology", NOW, held_entries(nodes)))


def test_compact_nodes_keep_values_and_types(settings_env, source_url, redis_client):
    raw = pd.read_sql("SELECT * FROM grid_node", sqlite3.connect(source_url.removeprefix("sqlite:///")))
    raw = raw.astype({c: "str" for c in ("name", "level", "parent_code", "area_type")}).set_index("code")
    small = compact(raw)
    pd.testing.assert_frame_equal(small, raw.drop(columns=["updated_at"]))
    levels = small["level"].to_numpy(dtype=object)
    assert all(v is levels[0] for v in levels[small["level"] == levels[0]])       # one object each
    parents = small["parent_code"].dropna()
    codes = dict(zip(small.index.tolist(), small.index.to_numpy(dtype=object)))
    assert all(p is codes[p] for p in parents.to_numpy(dtype=object))


def test_repacked_tree_keeps_values_sharing_and_identity(settings_env, source_url, redis_client):
    """The tree built in a cycle is packed after it: the same Tree object, equal node table
    (types, shared texts), ancestors and cached values; the dataset reads the packed table."""
    import numpy as np
    from collectors.plugins.topology import repack
    h = Harness(redis_client, [TopologyCollector], NOW)
    topo = h.runners[0].collector
    built = []
    original = TopologyCollector._absorb

    def spy(self, batches, now):
        out = original(self, batches, now)
        assert self.ctx.tree is None                                  # not published before packed
        built.append((self._built, self._built.nodes.copy(deep=True), self._built.nodes))
        return out
    TopologyCollector._absorb = spy
    try:
        h.run()
    finally:
        TopologyCollector._absorb = original
    tree, want, before = built[0]
    assert h.ctx.tree is tree and tree.nodes is not before          # packed in place: a new table
    pd.testing.assert_frame_equal(tree.nodes, want)
    levels = tree.nodes["level"].to_numpy(dtype=object)
    assert all(v is levels[0] for v in levels[tree.nodes["level"] == levels[0]])
    codes = dict(zip(tree.nodes.index.tolist(), tree.nodes.index.to_numpy(dtype=object)))
    assert all(p is codes[p] for p in tree.nodes["parent_code"].dropna().to_numpy(dtype=object))
    ds = topo.datasets(NOW)[0]
    assert ds.entries.nodes is tree.nodes
    positions = tree.ancestor_positions["feeder"].copy()
    repack(tree)
    assert np.array_equal(tree.ancestor_positions["feeder"], positions)
    pd.testing.assert_frame_equal(tree.ancestors, tree._ancestors(tree.nodes))
    assert redis_client.hgetall(dataset_key("topology")) == encode(Dataset("topology", NOW, held_entries(tree.nodes)))


def test_a_tree_not_published_is_read_again(settings_env, source_url, redis_client, monkeypatch):
    """A cycle that fails after building a new tree leaves the old one published and reads the
    source whole again next cycle (the fingerprint of the unpublished tree is forgotten)."""
    h = Harness(redis_client, [TopologyCollector], NOW).run()
    topo, old = h.runners[0].collector, h.ctx.tree
    with sqlite3.connect(source_url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE grid_node SET name = '新名', updated_at = ? WHERE code = ?",
                     (fmt(NOW + timedelta(minutes=1)), "PC01"))
    build = TopologyCollector._build
    monkeypatch.setattr(TopologyCollector, "_build", lambda self, now: (_ for _ in ()).throw(RuntimeError("x")))
    assert not h.at(NOW + timedelta(minutes=5)).runners[0].run_once()
    assert h.ctx.tree is old and h.runners[0].health["last_error"].startswith("RuntimeError")
    monkeypatch.setattr(TopologyCollector, "_build", build)
    h.at(NOW + timedelta(minutes=10)).run()
    assert h.ctx.tree is not old and h.ctx.tree.nodes.loc["PC01", "name"] == "新名"
