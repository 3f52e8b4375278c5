"""Run one collector cycle: time it, publish atomically, and record health as data.

A source failure leaves the last good values in Redis (they go stale with their age). A Redis
failure keeps everything in memory, backs off, and writes it all again once Redis answers.
"""
from __future__ import annotations

import logging
import time

import redis

from collectors import heap, publish
from collectors.base import Collector
from collectors.publish import Dataset
from collectors.redis_schema import REJECTS_KEPT

log = logging.getLogger("collectors")
MAX_BACKOFF_S = 30.0
TRIM_AFTER_ROWS = 100_000    # a cycle that read this many rows leaves freed heap worth returning


class Runner:
    def __init__(self, collector: Collector, client: redis.Redis):
        self.collector = collector
        self.client = client
        self.published: dict[str, str] = {}      # dataset -> digest last written
        self.last_datasets: list[Dataset] = []   # for republishing after a Redis wipe
        self.pending_rejects: list[dict] = []    # kept until Redis takes them
        self.running_since: float | None = None  # monotonic start of the cycle in progress
        self.redis_failures = 0
        self.retry_at = 0.0
        self.health = {"collector": collector.name, "interval_s": collector.interval_s,
                       "stale_after_s": collector.ctx.settings.stale_after_s(collector.name),
                       "last_success": None, "last_attempt": None, "duration_s": None,
                       "rows_in": 0, "rows_rejected": 0, "rejected_total": 0,
                       "cycles_ok": 0, "cycles_failed": 0, "last_error": None,
                       "datasets": [], "watermarks": {}}

    def run_once(self) -> bool:
        if time.monotonic() < self.retry_at:
            return False   # backing off after Redis failures
        self.running_since = started = time.monotonic()
        try:
            return self._cycle(started)
        finally:
            self.running_since = None

    def _cycle(self, started: float) -> bool:
        c = self.collector
        now = c.ctx.clock.now()
        self.health["last_attempt"] = now.isoformat(timespec="seconds")
        try:
            cycle, datasets = c.cycle(now)
        except Exception as exc:  # failure is data: it goes to health, the process lives on
            return self._failed(exc, started)
        self.last_datasets = datasets
        tagged = [dict(r, collector=c.name, at=self.health["last_attempt"]) for r in cycle.rejects]
        self.pending_rejects = (self.pending_rejects + tagged)[-REJECTS_KEPT:]
        self.health.update(rows_in=cycle.rows_in, rows_rejected=len(cycle.rejects),
                           rejected_total=self.health["rejected_total"] + len(cycle.rejects),
                           datasets=[d.name for d in datasets],
                           watermarks={k: v.isoformat(sep=" ") if v else None
                                       for k, v in c.watermarks.items()})
        try:
            self._write(datasets, self.published)
        except redis.RedisError as exc:
            return self._failed(exc, started)
        self.redis_failures = 0
        self.health.update(last_success=self.health["last_attempt"], last_error=None,
                           duration_s=round(time.monotonic() - started, 4),
                           cycles_ok=self.health["cycles_ok"] + 1)
        self._save_health()
        if self.health["cycles_ok"] == 1:        # a bootstrap: its state is built
            heap.settle()
            heap.trim()
        else:
            heap.settle_if_due()
            if cycle.rows_in >= TRIM_AFTER_ROWS and c.trim_after_batches:
                heap.trim()    # after a big batch: ~20 ms
        return True

    def _write(self, datasets: list[Dataset], published: dict) -> None:
        try:
            if datasets:
                publish.publish(self.client, datasets, published)
            publish.record_rejects(self.client, self.pending_rejects)
            self.pending_rejects = []
        except redis.RedisError:
            self.published.clear()   # Redis may come back empty: write everything next time
            self.redis_failures += 1
            self.retry_at = time.monotonic() + min(2.0 ** self.redis_failures, MAX_BACKOFF_S)
            raise

    def republish(self) -> None:
        """Write the last datasets and health again, whole (Redis came back empty)."""
        self._write(self.last_datasets, {})
        self._save_health()

    def _failed(self, exc: Exception, started: float) -> bool:
        self.health["cycles_failed"] += 1
        self.health["last_error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        self.health["duration_s"] = round(time.monotonic() - started, 4)
        log.warning("collector %s failed: %s", self.collector.name, self.health["last_error"])
        self._save_health()
        return False

    def _save_health(self) -> None:
        try:
            publish.record_health(self.client, self.collector.name, self.health)
        except redis.RedisError as exc:
            log.warning("cannot record health of %s: %s", self.collector.name, exc)
