"""Two guards in the collectors process, on their own thread.

- Wipe: a Redis that restarted empty (or was flushed) is refilled at once from what the
  collectors hold in memory, instead of waiting up to one interval per dataset (the topology's
  is 5 min). The sign is a missing epoch key, re-created with SET NX.
- Hang: a cycle that runs far past any sane duration cannot be stopped from inside Python, and
  with max_instances=1 it would block every later run. The process exits instead, and its
  supervisor (app.py, systemd, Kubernetes) starts a fresh one that rebuilds from the sources.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import uuid

import redis

from collectors.publish import record_health
from collectors.redis_schema import EPOCH
from collectors.runner import Runner

log = logging.getLogger("collectors")
HANG_EXIT_CODE = 70


class Watchdog:
    def __init__(self, runners: list[Runner], client: redis.Redis, hang_after_s: float,
                 every_s: float = 2.0, exit_process=os._exit):
        self.runners, self.client = runners, client
        self.hang_after_s, self.every_s = hang_after_s, every_s
        self.exit_process = exit_process
        self.token = uuid.uuid4().hex

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._loop, name="watchdog", daemon=True)
        thread.start()
        return thread

    def _loop(self) -> None:
        while True:
            time.sleep(self.every_s)
            self.check_hangs()
            self.check_wipe()

    def check_wipe(self) -> bool:
        """Refill Redis if it lost our epoch key; True when a refill happened."""
        try:
            if not self.client.set(EPOCH, self.token, nx=True):
                return False
            log.warning("Redis came back empty: republishing every dataset from memory")
            for runner in self.runners:
                runner.republish()
            return True
        except redis.RedisError as exc:
            log.debug("wipe check skipped: %s", exc)
            return False

    def check_hangs(self) -> None:
        now = time.monotonic()
        for runner in self.runners:
            since = runner.running_since
            if since is not None and now - since > self.hang_after_s:
                self._die(runner, now - since)

    def _die(self, runner: Runner, running_s: float) -> None:
        message = f"cycle hung for {running_s:.0f} s; exiting so the supervisor restarts the collectors"
        log.critical("collector %s: %s", runner.collector.name, message)
        runner.health["last_error"] = message
        try:
            record_health(self.client, runner.collector.name, runner.health)
        except redis.RedisError:
            pass
        self.exit_process(HANG_EXIT_CODE)
