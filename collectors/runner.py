"""Run one collector cycle: time it, publish atomically, and record health as data."""
from __future__ import annotations

import logging
import time

import redis

from collectors import publish
from collectors.base import Collector

log = logging.getLogger("collectors")


class Runner:
    def __init__(self, collector: Collector, client: redis.Redis):
        self.collector = collector
        self.client = client
        self.published: dict[str, str] = {}   # dataset -> digest last written
        self.health = {"collector": collector.name, "interval_s": collector.interval_s,
                       "stale_after_s": collector.ctx.settings.stale_after_s(collector.name),
                       "last_success": None, "last_attempt": None, "duration_s": None,
                       "rows_in": 0, "rows_rejected": 0, "rejected_total": 0,
                       "cycles_ok": 0, "cycles_failed": 0, "last_error": None,
                       "datasets": []}

    def run_once(self) -> bool:
        c = self.collector
        now = c.ctx.clock.now()
        started = time.perf_counter()
        self.health["last_attempt"] = now.isoformat(timespec="seconds")
        try:
            cycle, datasets = c.cycle(now)
            if datasets:
                publish.publish(self.client, datasets, self.published)
            publish.record_rejects(self.client, [dict(r, collector=c.name, at=self.health["last_attempt"])
                                                 for r in cycle.rejects])
        except redis.RedisError as exc:
            self.published.clear()  # Redis may come back empty: write everything next time
            return self._failed(exc, started)
        except Exception as exc:  # failure is data: it goes to health, the process lives on
            return self._failed(exc, started)
        self.health.update(
            last_success=self.health["last_attempt"], last_error=None,
            duration_s=round(time.perf_counter() - started, 4), rows_in=cycle.rows_in,
            rows_rejected=len(cycle.rejects), cycles_ok=self.health["cycles_ok"] + 1,
            datasets=[d.name for d in datasets],
            rejected_total=self.health["rejected_total"] + len(cycle.rejects))
        self._save_health()
        return True

    def _failed(self, exc: Exception, started: float) -> bool:
        self.health["cycles_failed"] += 1
        self.health["last_error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        self.health["duration_s"] = round(time.perf_counter() - started, 4)
        log.warning("collector %s failed: %s", self.collector.name, self.health["last_error"])
        self._save_health()
        return False

    def _save_health(self) -> None:
        try:
            publish.record_health(self.client, self.collector.name, self.health)
        except redis.RedisError as exc:
            log.warning("cannot record health of %s: %s", self.collector.name, exc)
