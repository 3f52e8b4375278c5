"""Database plumbing: the engine (SQLite in WAL mode), datetime binding, and fast batched inserts.

Bulk rows go through the driver's executemany in short transactions. On SQLite, datetimes are
written as the exact strings SQLAlchemy itself stores ('YYYY-MM-DD HH:MM:SS.ffffff'), so SQL
comparisons against SQLAlchemy-bound watermarks order correctly; elsewhere they are datetimes.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from .timebase import iso_strings, to_dt

BATCH = 20000


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA cache_size=-131072")  # 128 MB: random index inserts stay in memory
            cur.close()
        return engine
    return create_engine(url, pool_pre_ping=True)


class Dialect:
    """How to bind values for this database."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        style = engine.dialect.paramstyle
        self.ph = "?" if style == "qmark" else ("%s" if style in ("format", "pyformat") else None)
        if self.ph is None:  # named / numeric: fall back to :n placeholders via pyformat emulation
            self.ph = "?"

    def ts(self, sec) -> object:
        """Bind value for one moment (seconds) or None."""
        if sec is None:
            return None
        if self.sqlite:
            return to_dt(sec).strftime("%Y-%m-%d %H:%M:%S.%f")
        return to_dt(sec)

    def ts_col(self, secs: np.ndarray) -> list:
        """Bind values for an int64 seconds array; values < 0 (or masked NaT) become NULL."""
        secs = np.asarray(secs)
        if secs.dtype.kind == "f":
            null = ~np.isfinite(secs)
            secs = np.where(null, 0, secs).astype("int64")
        else:
            null = secs < -10**15
        if self.sqlite:
            out = iso_strings(secs).astype(object)
        else:
            out = secs.astype("datetime64[s]").astype(object)
        if null.any():
            out[null] = None
        return out.tolist()

    def insert_sql(self, table: str, cols: list[str]) -> str:
        return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join([self.ph] * len(cols))})"

    def insert_rows(self, conn, table: str, cols: list[str], columns: list, batch: int = BATCH) -> int:
        """executemany over column lists (already bindable python values)."""
        if not columns or len(columns[0]) == 0:
            return 0
        rows = list(zip(*columns))
        sql = self.insert_sql(table, cols)
        raw = conn.connection.driver_connection
        cur = raw.cursor()
        try:
            for i in range(0, len(rows), batch):
                cur.executemany(sql, rows[i:i + batch])
        finally:
            cur.close()
        return len(rows)


def col(values) -> list:
    """A numpy/pandas column as plain python values (sqlite3 cannot bind numpy ints)."""
    if hasattr(values, "tolist"):
        out = values.tolist()
    else:
        out = list(values)
    return [None if (isinstance(v, float) and v != v) else v for v in out]


def now_str(d: Dialect, dt: datetime):
    return d.ts(int((dt - datetime(1970, 1, 1)).total_seconds()))
