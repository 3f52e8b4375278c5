"""Read a source system's database through SQLAlchemy, with a hard timeout on every call.

The same adapter reads the embedded SQLite file and a utility's PostgreSQL/MySQL/Oracle.
A call that runs past the timeout is interrupted at the driver (sqlite3 `interrupt()`,
psycopg `cancel()`), so a slow or locked source can never hang a collector.
"""
from __future__ import annotations

import re
import sqlite3
import threading
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Table, create_engine, event, make_url, select, type_coerce
from sqlalchemy.pool import NullPool
from sqlalchemy.types import NullType
from sqlalchemy.engine import Engine


def raw_select(table: Table):
    """SELECT every column without the driver-side type conversion.

    A wrong type or a garbled timestamp in one row would otherwise raise inside SQLAlchemy and
    lose the whole batch; raw values go to validation, which rejects just that row.
    """
    return select(*[type_coerce(c, NullType()).label(c.name) for c in table.c])


INTERRUPT_GRACE_S = 0.5


class SourceError(RuntimeError):
    """The source could not answer: unreachable, locked, slow or broken."""


class SourceTimeout(SourceError):
    pass


def make_engine(url: str, timeout_s: float) -> Engine:
    if url.startswith("sqlite"):
        # No pool: a connection per read, so a source file that is gone or replaced is seen as
        # down at once, instead of being read through a stale open descriptor. mode=rw: a
        # missing file is an error, not a new empty database.
        path = make_url(url).database
        engine = create_engine(
            "sqlite://", poolclass=NullPool,
            creator=lambda: sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=timeout_s,
                                            check_same_thread=False))

        @event.listens_for(engine, "connect")
        def _read_side(dbapi_conn, _record):
            # Readers never take the write lock; WAL lets them run beside the writer.
            dbapi_conn.execute("PRAGMA query_only = ON")

        @event.listens_for(engine, "before_cursor_execute", retval=True)
        def _whole_seconds(_conn, _cursor, statement, parameters, _context, _executemany):
            return statement, _trim_params(parameters)
        return engine
    if url.startswith("postgresql"):
        ms = int(timeout_s * 1000)
        return create_engine(url, pool_pre_ping=True, connect_args={
            "connect_timeout": max(1, int(timeout_s)), "options": f"-c statement_timeout={ms}"})
    return create_engine(url, pool_pre_ping=True)


# SQLite keeps timestamps as text. A row written by plain SQL reads "… 00:16:00" while SQLAlchemy
# binds "… 00:16:00.000000", and as text the first sorts before the second: `ts < '…00:16:00.000000'`
# would wrongly take a plain row stamped exactly 00:16:00. Bound without the zero fraction, a
# whole-second boundary orders correctly against both forms.
_ZERO_FRACTION = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.0+$")


def _trim(value):
    if isinstance(value, str):
        m = _ZERO_FRACTION.match(value)
        if m:
            return m.group(1)
    return value


def _trim_params(parameters):
    if isinstance(parameters, dict):
        return {k: _trim(v) for k, v in parameters.items()}
    if isinstance(parameters, (list, tuple)):
        return type(parameters)(_trim(v) for v in parameters)
    return parameters


def _unprocessed(stmt) -> bool:
    """A SELECT of raw columns only (raw_select): SQLAlchemy would convert none of its values,
    so the driver's rows are the result as they are (330 k Row objects cost ~0.25 s)."""
    columns = getattr(stmt, "selected_columns", None)
    return bool(columns) and all(isinstance(c.type, NullType) for c in columns)


def _keep_bad_bytes(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


def _interrupt(dbapi_conn) -> None:
    for method in ("interrupt", "cancel"):
        fn = getattr(dbapi_conn, method, None)
        if fn:
            try:
                fn()
            except Exception:  # the call may have finished meanwhile; nothing to interrupt
                pass
            return


class SourceAdapter:
    def __init__(self, url: str, timeout_s: float):
        self.url = url
        self.timeout_s = timeout_s
        self.engine = make_engine(url, timeout_s)

    def read(self, stmt, params: dict | None = None) -> pd.DataFrame:
        """Run one query and return a frame; raise SourceError on any failure or timeout.

        Text is decoded by the driver; a batch holding invalid UTF-8 is read again with a
        decoder that keeps the bad bytes, so validation rejects that row and the rest go on.
        """
        try:
            return self._read(stmt, params, tolerant=False)
        except SourceError as exc:
            if "decode" not in str(exc):
                raise
            return self._read(stmt, params, tolerant=True)

    def read_rows(self, stmt, params: dict | None = None) -> tuple[list[str], list[tuple]]:
        """`read` as (column names, the driver's own row tuples), for a caller that keeps only
        some rows (a frame of all of them costs more than the query; same errors as `read`)."""
        try:
            return self._read(stmt, params, tolerant=False, frame=False)
        except SourceError as exc:
            if "decode" not in str(exc):
                raise
            return self._read(stmt, params, tolerant=True, frame=False)

    def _read(self, stmt, params: dict | None, tolerant: bool, frame: bool = True):
        timed_out = threading.Event()
        try:
            with self.engine.connect() as conn:
                raw = conn.connection.dbapi_connection
                if tolerant and hasattr(raw, "text_factory"):
                    raw.text_factory = _keep_bad_bytes

                def fire():
                    timed_out.set()
                    _interrupt(raw)
                # the driver's own lock/statement timeout speaks first; this is the backstop
                timer = threading.Timer(self.timeout_s + INTERRUPT_GRACE_S, fire)
                timer.start()
                try:
                    result = conn.execute(stmt, params or {})
                    if _unprocessed(stmt):   # the driver's own tuples: no Row object per row
                        rows = result.cursor.fetchall()
                        result.close()
                    else:   # plain tuples: pandas builds a frame from SQLAlchemy Row objects ~7x slower
                        rows = [tuple(r) for r in result.fetchall()]
                    out = pd.DataFrame(rows, columns=list(result.keys())) if frame else (
                        list(result.keys()), rows if isinstance(rows, list) else list(rows))
                finally:
                    timer.cancel()
        except Exception as exc:
            if timed_out.is_set():
                raise SourceTimeout(f"source call exceeded {self.timeout_s:g} s") from exc
            raise SourceError(f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}") from exc
        return out

    def read_table(self, table: Table, where=None) -> pd.DataFrame:
        stmt = raw_select(table)
        return self.read(stmt if where is None else stmt.where(where))

    def poll(self, table: Table, watermark: datetime | None, overlap_s: float) -> pd.DataFrame:
        """Rows written since the watermark, re-reading an overlap window.

        The overlap catches rows that commit after later-stamped ones (long transactions,
        clock skew between writers); the caller de-duplicates by key.
        """
        stmt = raw_select(table)
        if watermark is not None:
            stmt = stmt.where(table.c.updated_at >= watermark - timedelta(seconds=overlap_s))
        return self.read(stmt.order_by(table.c.updated_at))

    def dispose(self) -> None:
        self.engine.dispose()
