"""The adapter reads a raw SELECT (raw_select) from the driver's own tuples, without a SQLAlchemy
Row per row: the same frame as the Row path, bad UTF-8 still read with its bytes kept, and typed
statements still converted by SQLAlchemy."""
from __future__ import annotations

import sqlite3
from datetime import datetime

import pandas as pd
from sqlalchemy import func, select

from collectors.sources import adapter as adapter_mod
from collectors.sources.adapter import SourceAdapter, raw_select
from collectors.sources.schema import ami_tarea_load


def rows(url, *values):
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.executemany("INSERT INTO ami_tarea_load VALUES (?,?,?,?,?,?,?)", values)


def test_raw_rows_equal_the_row_path(source_url, monkeypatch):
    rows(source_url, ("T1", "2026-07-15 14:00:00", 1.5, 2.0, 220.0, 0, "2026-07-15 14:00:00"),
         ("T2", "2026-07-15 14:00:00.000000", "abc", 2.0, 219.5, 3, "2026-07-15 14:01:00"),
         (42, "yesterday", 1.0, 1e300, 220.0, 1, "2026-07-15 14:02:00"))
    a = SourceAdapter(source_url, 5.0)
    stmt = raw_select(ami_tarea_load).order_by(ami_tarea_load.c.updated_at)
    assert adapter_mod._unprocessed(stmt)
    fast = a.read(stmt)
    monkeypatch.setattr(adapter_mod, "_unprocessed", lambda stmt: False)
    slow = a.read(stmt)
    pd.testing.assert_frame_equal(fast, slow)
    assert fast["tarea_code"].tolist() == ["T1", "T2", "42"] and fast["active_kw"].tolist()[1] == "abc"


def test_typed_statements_keep_their_conversion(source_url):
    rows(source_url, ("T1", "2026-07-15 14:00:00", 1.5, 2.0, 220.0, 0, "2026-07-15 14:00:00"))
    a = SourceAdapter(source_url, 5.0)
    stmt = select(func.min(ami_tarea_load.c.ts))
    assert not adapter_mod._unprocessed(stmt)
    assert a.read(stmt).iat[0, 0] == datetime(2026, 7, 15, 14, 0)


def test_bad_utf8_is_read_with_its_bytes_kept(source_url):
    with sqlite3.connect(source_url.removeprefix("sqlite:///")) as conn:
        conn.execute("INSERT INTO ami_tarea_load VALUES (CAST(x'54ff31' AS TEXT), '2026-07-15 14:00:00',"
                     " 1.0, 2.0, 220.0, 0, '2026-07-15 14:00:00')")
        conn.execute("INSERT INTO ami_tarea_load VALUES ('T2', '2026-07-15 14:00:00', 1.0, 2.0, 220.0, 0,"
                     " '2026-07-15 14:00:00')")
    frame = SourceAdapter(source_url, 5.0).read(raw_select(ami_tarea_load))
    assert sorted(frame["tarea_code"]) == ["T2", "T\udcff1"]
