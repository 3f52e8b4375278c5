"""Topology reads its tables whole only when a row moved (or an hour went by): an unchanged source
costs one fingerprint query, and every kind of change still reaches Redis (compared with SQL)."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from collectors.plugins.topology import REREAD_AFTER, TopologyCollector
from collectors.redis_schema import AS_OF, VERSIONS
from tests.kpi_harness import Harness, scalar
from tests.sourcedata import fmt

NOW = datetime(2026, 7, 15, 14, 0)


def sql(url, statement, *args):
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute(statement, args)


def whole_reads(h: Harness) -> list[str]:
    calls = []
    source = h.ctx.source
    read_table = source.read_table

    def counting(table, where=None):
        calls.append(table.name)
        return read_table(table, where)
    source.read_table = counting
    return calls


def assert_matches_sql(h: Harness, url: str, now: datetime) -> None:
    """Every node with a plausible stamp is published as it is in the source; no other is."""
    latest = fmt(now + timedelta(minutes=5))
    for code, name, parent in sqlite3.connect(url.removeprefix("sqlite:///")).execute(
            "SELECT code, name, parent_code FROM grid_node WHERE updated_at <= ?", (latest,)):
        entry = h.entry("topology", code)
        assert entry["name"] == name and entry["parent_code"] == parent, code
    count = scalar(url, "SELECT count(*) FROM grid_node WHERE updated_at <= :l", l=latest)
    assert len(h.ctx.tree.nodes) == count


def test_unchanged_source_is_not_read_again_and_changes_are(settings_env, source_url, redis_client):
    h = Harness(redis_client, [TopologyCollector], NOW)
    reads = whole_reads(h)
    h.run()
    assert reads == ["grid_node", "key_customer"]
    tree, version = h.ctx.tree, redis_client.hget(VERSIONS, "topology")
    for minutes in (5, 10):                                        # nothing moved: no read, same tree
        h.at(NOW + timedelta(minutes=minutes)).run()
    assert reads == ["grid_node", "key_customer"] and h.ctx.tree is tree
    assert redis_client.hget(VERSIONS, "topology") == version
    assert redis_client.hget(AS_OF, "topology").startswith("2026-07-15T14:10")   # still fresh

    # a renamed node, stamped now: read, rebuilt, published
    t = NOW + timedelta(minutes=15)
    sql(source_url, "UPDATE grid_node SET name = '改名所', updated_at = ? WHERE code = 'PC01S01'", fmt(t))
    h.at(t).run()
    assert len(reads) == 4 and h.entry("topology", "PC01S01")["name"] == "改名所"
    assert_matches_sql(h, source_url, t)

    # a row stamped in the future (rejected) does not hide a later, plausible change
    t += timedelta(minutes=5)
    sql(source_url, "UPDATE grid_node SET updated_at = ? WHERE code = 'PC02S01F002T003'", fmt(t + timedelta(days=3)))
    h.at(t).run()
    t += timedelta(minutes=5)
    sql(source_url, "UPDATE grid_node SET name = '又改名', updated_at = ? WHERE code = 'PC02S01'", fmt(t))
    h.at(t).run()
    assert h.entry("topology", "PC02S01")["name"] == "又改名"

    # a node removed: the count moves
    t += timedelta(minutes=5)
    sql(source_url, "DELETE FROM grid_node WHERE code = 'PC01S01F001T003'")
    h.at(t).run()
    assert h.entry("topology", "PC01S01F001T003") is None and "PC01S01F001T003" not in h.ctx.tree.nodes.index
    assert_matches_sql(h, source_url, t)

    # an edit that does not move updated_at is picked up by the hourly whole read
    sql(source_url, "UPDATE grid_node SET name = '悄悄改' WHERE code = 'PC02'")
    n = len(reads)
    h.at(t + timedelta(minutes=5)).run()
    assert len(reads) == n
    h.at(t + REREAD_AFTER).run()
    assert len(reads) == n + 2 and h.entry("topology", "PC02")["name"] == "悄悄改"
    # the next hourly whole read finds the same nodes: the same tree object (caches kept)
    tree = h.ctx.tree
    h.at(t + 2 * REREAD_AFTER).run()
    assert len(reads) == n + 4 and h.ctx.tree is tree
    assert_matches_sql(h, source_url, t + 2 * REREAD_AFTER)
