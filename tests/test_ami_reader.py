"""The AMI batch shortcuts give what the plain computations give: the 台区 look-up that tries the
last batch's answer first equals tree.positions over a sequence of batches (same codes, shuffled,
some replaced, unknown, missing, another tree); timestamps parsed once per distinct value equal
validation.to_datetime on large str columns with garbage, missing and mixed forms; the identity
text built by the source tells versions apart as the per-column identities do."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from collectors.base import Context
from collectors.domain import validation as v
from collectors.domain.tree import Tree
from collectors.plugins import ami as ami_mod
from collectors.plugins.ami import AmiCollector, parse_repeated


def big_tree(n_tareas: int = 3000) -> Tree:
    rows = [dict(code="C", level="city", parent_code=None), dict(code="D", level="district", parent_code="C"),
            dict(code="S", level="station", parent_code="D"), dict(code="F", level="feeder", parent_code="S")]
    rows += [dict(code=f"T{i:05d}", level="tarea", parent_code="F") for i in range(n_tareas)]
    nodes = pd.DataFrame(rows).set_index("code")
    nodes["capacity_kva"] = 400.0
    return Tree(nodes)


@pytest.mark.parametrize("seed", range(4))
def test_lookup_equals_tree_positions(seed):
    rng = np.random.default_rng(seed)
    tree = big_tree()
    ami = AmiCollector(Context(None, None, None, tree=tree))
    codes = tree.codes("tarea").to_numpy(dtype=object)
    batch = codes[rng.permutation(len(codes))]
    for step in range(12):
        kind = step % 6
        if kind == 1:                                  # the same codes, the same order
            batch = batch.copy()
        elif kind == 2:                                # a few replaced: other 台区, unknown, missing, a feeder
            batch = batch.copy()
            at = rng.choice(len(batch), 20, replace=False)
            batch[at[:5]] = codes[rng.integers(0, len(codes), 5)]
            batch[at[5:10]] = [f"X{k}" for k in range(5)]
            batch[at[10:15]] = None
            batch[at[15:]] = "F"
        elif kind == 3:                                # shuffled
            batch = batch[rng.permutation(len(batch))]
        elif kind == 4:                                # another length
            batch = batch[: len(batch) - int(rng.integers(1, 50))]
        elif kind == 5:                                # another tree (a topology reload)
            tree = big_tree()
            ami.ctx.tree = tree
        got = ami._lookup(batch)
        assert np.array_equal(got, tree.positions(batch)), step


def stamp_column(rng, n: int) -> pd.Series:
    forms = ["2026-07-15 12:30:00.000000", "2026-07-15 12:30:00", "2026-07-15T12:45:00", "garbage", "",
             "2026-02-30 00:00:00", "1999-12-31 23:59:59", "2026-07-15 13:00:00.5"]
    values = np.array(forms, dtype=object)[rng.integers(0, len(forms), n)]
    values[rng.random(n) < 0.01] = None
    return pd.Series(values, dtype="str")


@pytest.mark.parametrize("seed", range(4))
def test_parse_repeated_equals_to_datetime(seed):
    rng = np.random.default_rng(seed)
    raw = stamp_column(rng, 5000)
    pd.testing.assert_series_equal(parse_repeated(raw), v.to_datetime(raw), check_names=False)
    raw.index = raw.index * 3 + 7            # the batch's own index is kept
    pd.testing.assert_series_equal(parse_repeated(raw), v.to_datetime(raw), check_names=False)
    loose = raw.astype(object)               # not a str column: the plain parse
    loose.iloc[::97] = 2026
    pd.testing.assert_series_equal(parse_repeated(loose), v.to_datetime(loose), check_names=False)


def test_identity_text_tells_versions_apart(source_url):
    """The identity text the source builds for the overlap check equals the one built from the
    rows of a whole read (what the seen versions are kept by) for every row with text fields;
    rows equal in (台区, ts, updated_at) get the same one and it differs when any of the three does."""
    import sqlite3
    from collectors.sources.adapter import SourceAdapter
    from collectors.sources.schema import ami_tarea_load
    from sqlalchemy import select
    con = sqlite3.connect(source_url.removeprefix("sqlite:///"))
    rows = [("T1", "2026-07-15 12:30:00", 1.0, 2.0, 220.0, 0, "2026-07-15 12:31:00"),
            ("T1", "2026-07-15 12:45:00", 1.0, 2.0, 220.0, 0, "2026-07-15 12:31:00"),
            ("T2", "2026-07-15 12:30:00", 1.0, 2.0, 220.0, 0, "2026-07-15 12:31:00"),
            ("T2", "2026-07-15 12:45:00.000000", 1.0, 2.0, 220.0, 0, "2026-07-15 12:31:00"),
            ("T3", "2026-07-15 12:45:00", 1.0, 2.0, 220.0, 0, ""),
            ("T1\x1f2026", "x", 1.0, 2.0, 220.0, 0, "2026-07-15 12:31:00")]
    con.executemany("INSERT INTO ami_tarea_load VALUES (?,?,?,?,?,?,?)", rows)
    con.commit()
    con.close()
    order = ami_tarea_load.c.tarea_code, ami_tarea_load.c.ts
    source = SourceAdapter(source_url, 10.0)
    ids = source.read(select(ami_mod.identity_column(ami_tarea_load)).order_by(*order))
    hashes = ami_mod.hash_identities(ids[ami_mod.IDENT])
    assert len(set(hashes.tolist())) == len(rows)
    whole = source.read_table(ami_tarea_load).sort_values(["tarea_code", "ts"])
    assert (ami_mod.hash_identities(ami_mod.identity_texts(whole)) == hashes).all()
    # the same rows as an object frame (a loose driver) give the same identities
    assert (ami_mod.hash_identities(ami_mod.identity_texts(whole.astype(object))) == hashes).all()


@pytest.mark.parametrize("parts", [2, 3, 5])
def test_first_cycle_in_code_ranges_equals_one_read(settings_env, source_url, redis_client, monkeypatch, parts):
    """The first cycle read in 台区 ranges (every quarter, the open-ended last one too) leaves
    the state, rejects, watermark and seen versions of the one-read first cycle; rows with a
    missing, numeric, unknown or out-of-order code are read once."""
    import sqlite3
    from collectors.plugins.topology import TopologyCollector
    from tests.kpi_harness import frozen
    from tests.sourcedata import fmt
    from tests.test_ami_state import ami_rows, quarter_rows
    from collectors.sources.adapter import SourceAdapter
    from config import settings as settings_mod
    now = datetime(2026, 7, 15, 14, 7)
    at = now.replace(minute=0)
    rows = quarter_rows(at, at - timedelta(hours=4))
    bad = [("ZZ9", fmt(at), 1.0, 2.0, 220.0, 0, fmt(at)), ("0000", fmt(at), 1.0, 2.0, 220.0, 0, fmt(at)),
           ("PC01S01F001T001", fmt(at - timedelta(minutes=20)), 1.0, "abc", 220.0, 0, fmt(at)),
           ("", fmt(at), 1.0, 2.0, 220.0, 0, fmt(at)), (7, fmt(at), 1.0, 2.0, 220.0, 0, fmt(at))]
    ami_rows(source_url, rows + bad)

    def first_cycle(min_part):
        monkeypatch.setattr(ami_mod, "BOOT_PARTS", parts)
        monkeypatch.setattr(ami_mod, "BOOT_PART_MIN", min_part)
        settings = settings_mod.load()
        ctx = Context(SourceAdapter(settings.source_url, 10.0), frozen(now), settings)
        TopologyCollector(ctx).cycle(now)
        ami = AmiCollector(ctx)
        reads = []
        read = ctx.source.read

        def counted(stmt, params=None):
            frame = read(stmt, params)
            reads.append(len(frame))
            return frame
        ctx.source.read = counted
        cycle, datasets = ami.cycle(now)
        state = ami.points.frame().sort_values(["tarea_code", "ts"]).reset_index(drop=True)
        return (state, sorted(map(str, cycle.rejects)), ami.watermarks, ami._seen["ami_tarea_load"].hashes.sort_index(),
                datasets[0].entries, len(reads), sum(reads))

    one, ranged = first_cycle(10**9), first_cycle(1)
    assert ranged[5] == one[5] * parts                 # every quarter read in `parts` ranges
    assert ranged[6] == one[6]                         # and every row once
    pd.testing.assert_frame_equal(ranged[0], one[0])
    assert ranged[1] == one[1] and len(one[1]) >= 4
    assert ranged[2] == one[2]
    pd.testing.assert_series_equal(ranged[3], one[3])
    assert ranged[4] == one[4]
