"""The collector plug-in shape (like a Telegraf input): a name, an interval and `collect()`.

A cycle is: collect() polls the source by watermark → absorb() validates and merges the rows
into the collector's state → datasets() aggregates the state for every node. The runner times
it, publishes atomically and records health. Because datasets() is computed from state, a
wiped Redis is fully repopulated by the next successful cycle.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from collectors.domain.tree import Tree
from collectors.domain.validation import to_datetime
from collectors.frames import SeenRows
from collectors.publish import Dataset
from collectors.sources.adapter import SourceAdapter
from config.clock import Clock
from config.settings import Settings


@dataclass
class Context:
    source: SourceAdapter
    clock: Clock
    settings: Settings
    tree: Tree | None = None                 # set by the topology collector
    key_customers: pd.DataFrame | None = None
    # Frames one collector shares with others (the audit needs OMS outages, the warnings
    # need every collector's per-node KPIs). Keyed "<collector>.<what>"; a writer replaces a
    # frame whole, never mutates it, so a reader on another thread sees one cycle or the next.
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)


FUTURE_TOLERANCE = pd.Timedelta(minutes=5)   # source clocks run a little ahead


class TreeNotLoaded(RuntimeError):
    pass


@dataclass
class Cycle:
    rows_in: int = 0
    rejects: list[dict] = field(default_factory=list)


class Collector(ABC):
    name: str = ""
    needs_tree = True
    measurements = False    # high-volume meter/SCADA readings use the shorter overlap
    trim_after_batches = True   # heap given back after a big batch (False: the next batch reuses it)

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.watermarks: dict[str, datetime | None] = {}
        self._seen: dict[str, SeenRows] = {}          # per polled table
        self._pending: dict[str, pd.Series] = {}     # hashes of this cycle's rows, until absorbed

    @property
    def interval_s(self) -> float:
        return self.ctx.settings.interval(self.name)

    @property
    def tree(self) -> Tree:
        if self.ctx.tree is None:
            raise TreeNotLoaded("topology not loaded yet")
        return self.ctx.tree

    @abstractmethod
    def collect(self) -> dict[str, pd.DataFrame]:
        """Poll the source: new rows per table since each table's watermark."""

    @abstractmethod
    def absorb(self, batches: dict[str, pd.DataFrame], now: datetime) -> list[dict]:
        """Validate and merge rows into state; return reject records."""

    @abstractmethod
    def datasets(self, now: datetime) -> list[Dataset]:
        """Aggregate the state into the datasets this collector publishes."""

    def poll(self, table) -> pd.DataFrame:
        """Rows written since the watermark (minus the overlap) that were not absorbed before."""
        frame = self.ctx.source.poll(table, self.watermarks.get(table.name), self.overlap_s)
        fresh, hashes = self._seen.setdefault(table.name, SeenRows()).split(frame)
        self._pending[table.name] = hashes
        return fresh

    def advance(self, table_name: str, frame: pd.DataFrame, now: datetime) -> None:
        """Move a table's watermark to the newest plausible write seen (after a successful cycle).

        A row stamped in the future is rejected by validation; it must not drag the watermark
        past the rows still to come.
        """
        if frame.empty:
            return
        stamps = to_datetime(frame["updated_at"])
        newest = stamps[stamps <= pd.Timestamp(now) + FUTURE_TOLERANCE].max()
        if pd.notna(newest):
            old = self.watermarks.get(table_name)
            newest = newest.to_pydatetime()
            self.watermarks[table_name] = max(old, newest) if old else newest

    @property
    def overlap_s(self) -> float:
        s = self.ctx.settings
        return s.measurement_overlap_s if self.measurements else s.watermark_overlap_s

    def _commit_seen(self) -> None:
        overlap = timedelta(seconds=self.overlap_s)
        for table_name, hashes in self._pending.items():
            mark = self.watermarks.get(table_name)
            self._seen[table_name].commit(hashes, mark - overlap if mark else None)
        self._pending.clear()

    def cycle(self, now: datetime) -> tuple[Cycle, list[Dataset]]:
        if self.needs_tree:
            self.tree  # noqa: B018  (raises before touching the source when the tree is missing)
        batches = self.collect()
        result = Cycle(rows_in=sum(len(f) for f in batches.values()))
        result.rejects = self.absorb(batches, now)
        for table_name, frame in batches.items():
            self.advance(table_name, frame, now)
        self._commit_seen()
        return result, self.datasets(now)
