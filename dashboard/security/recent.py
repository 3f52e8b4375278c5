"""A web worker's recent answers to a question asked on every request (who is this account, what
does this cookie hold), each reused for at most `max_age_s`; bounded."""
from __future__ import annotations

import threading
import time


class RecentLookups:
    def __init__(self, limit: int = 4096):
        self._lock = threading.Lock()
        self._seen: dict[tuple, tuple[float, object]] = {}
        self._limit = limit
        self.clock = time.monotonic

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def get(self, key: tuple, lookup, max_age_s: float):
        now = self.clock()
        hit = self._seen.get(key)
        if hit is not None and now - hit[0] < max_age_s:
            return hit[1]
        value = lookup()
        if max_age_s > 0:
            with self._lock:
                if len(self._seen) >= self._limit:
                    self._seen.clear()
                self._seen[key] = (now, value)
        return value
