"""AMI polls the overlap window by version identity (台区, ts, updated_at) and reads it in full
only when it holds a version not seen before. Over random cycles with late corrections stamped
inside the overlap, repeated identical rows and malformed rows, the incremental state and the
Redis hash (written as patches) equal a fresh collector's first read of the same source, every
malformed row is rejected exactly once,
and a quiet overlap costs one identity read. The published entries are exactly what
publish.dumps writes for their dicts."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from collectors.plugins import ami as ami_mod
from collectors.plugins.ami import AmiCollector
from collectors.plugins.topology import TopologyCollector
from collectors.base import Context
from collectors.publish import dumps, encode
from collectors.sources.adapter import SourceAdapter
from config import settings as settings_mod
from tests.kpi_harness import frozen
from collectors.redis_schema import dataset_key
from tests.kpi_harness import Harness
from tests.sourcedata import fmt, tiny_nodes
from tests.test_ami_state import ami_rows, quarter_rows

NOW = datetime(2026, 7, 15, 14, 7)
TAREAS = [n["code"] for n in tiny_nodes() if n["level"] == "tarea"]


def state(collector) -> pd.DataFrame:
    return collector.points.frame().sort_values(["tarea_code", "ts"]).reset_index(drop=True)


def fresh(now) -> tuple[pd.DataFrame, dict]:
    """A fresh collector's first cycle over the same source: its state and its entries as the
    JSON written to Redis (not published: the collector under test owns the Redis hash)."""
    settings = settings_mod.load()
    ctx = Context(SourceAdapter(settings.source_url, 10.0), frozen(now), settings)
    TopologyCollector(ctx).cycle(now)
    ami = AmiCollector(ctx)
    _, datasets = ami.cycle(now)
    return state(ami), encode(datasets[0])


def counting_reads(collector):
    """Wrap the source's read to count full-width reads of ami_tarea_load."""
    calls = []
    read = collector.ctx.source.read

    def counted(stmt, params=None):
        if [getattr(t, "name", None) for t in stmt.get_final_froms()] == ["ami_tarea_load"]:
            calls.append(len(stmt.selected_columns))
        return read(stmt, params)
    collector.ctx.source.read = counted
    return calls


@pytest.mark.parametrize("seed", range(3))
def test_incremental_polls_equal_a_fresh_read(settings_env, source_url, redis_client, seed):
    rng = np.random.default_rng(seed)
    at = NOW.replace(minute=0)
    ami_rows(source_url, quarter_rows(at, at - timedelta(hours=4)))
    h = Harness(redis_client, [TopologyCollector, AmiCollector], NOW).run()
    ami = h.runners[1].collector
    bad_rows, now, late_total = 0, NOW, 0
    for step in range(6):
        mark = ami.watermarks["ami_tarea_load"]
        # late corrections committed after the last poll but stamped inside its overlap window
        # (newer than the versions they replace, older than the watermark; a source keeps one
        # version per key, so a correction older than the version it overwrites is not made)
        late = []
        for _ in range(0 if step == 0 else int(rng.integers(0, 4))):   # the first poll: the bootstrap's rows seen
            ts = pd.Timestamp(now).floor("15min") - int(rng.integers(2, 10)) * pd.Timedelta(minutes=15)
            stamp = mark - timedelta(seconds=int(rng.integers(0, 300)))
            late.append((str(rng.choice(TAREAS)), fmt(ts), 50.0, float(rng.uniform(100, 500)), 200.0,
                         int(rng.integers(0, 3)), fmt(stamp)))
        if step == 2:   # a malformed late row: rejected once, not again on the next polls
            late.append((TAREAS[0], fmt(pd.Timestamp(now).floor("15min") - pd.Timedelta(minutes=37)),  # off the grid
                         1.0, -5.0, 200.0, 0, fmt(mark)))
            bad_rows += 1
        ami_rows(source_url, late)
        late_total += len(late)
        now += timedelta(minutes=15)
        quarter = pd.Timestamp(now).floor("15min").to_pydatetime()
        rows = quarter_rows(quarter, quarter)
        stamp = fmt(quarter + timedelta(minutes=1))
        rows = [(*r[:6], stamp) for r in rows]
        if step == 4:   # a malformed row in the new quarter: read again as the next overlap
            rows.append(("PC01S01F001T001", fmt(quarter - timedelta(minutes=8)), 1.0, "abc", 200.0, 0, stamp))
            bad_rows += 1
        ami_rows(source_url, rows)
        reads = counting_reads(ami)
        h.at(now + timedelta(minutes=2)).run()
        ami.ctx.source.read = type(ami.ctx.source).read.__get__(ami.ctx.source)
        if not late:                         # a quiet overlap: identities only, then the new rows
            assert reads == [1, 7], reads
        got = state(ami)
        want, entries = fresh(now + timedelta(minutes=2))   # a fresh collector, same source and time
        pd.testing.assert_frame_equal(got, want)
        assert redis_client.hgetall(dataset_key("ami")) == entries, step   # patches add up to a whole write
        assert h.runners[1].health["rejected_total"] == bad_rows, step
    assert late_total > 0 and bad_rows == 2


def test_entries_are_what_dumps_writes(settings_env, source_url, redis_client):
    at = NOW.replace(minute=0)
    ami_rows(source_url, quarter_rows(at, at - timedelta(hours=4)))
    h = Harness(redis_client, [TopologyCollector, AmiCollector], NOW).run()
    [ds] = h.runners[1].collector.datasets(NOW)
    assert len(ds.entries) > 5
    for code, text in ds.entries.items():
        value = json.loads(text)
        assert list(value) == ["heavy_tareas", "overload_tareas", "low_voltage_customers",
                               "tareas_reporting", "tareas_total"]
        assert text == dumps(value), code
        assert redis_client.hget(dataset_key("ami"), code) == text


def test_identity_ignores_the_column_type():
    a = pd.DataFrame({"tarea_code": pd.array(["T1", None], dtype="str"), "ts": ["2026-07-15 14:00:00"] * 2,
                      "updated_at": ["2026-07-15 14:01:00"] * 2})
    b = a.astype(object)
    assert (ami_mod.identities(a) == ami_mod.identities(b)).all()
    c = a.assign(updated_at=["2026-07-15 14:01:01"] * 2)
    assert not (ami_mod.identities(a) == ami_mod.identities(c)).any()
