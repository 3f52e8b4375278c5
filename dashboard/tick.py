"""The refresh tick's answer. Every screen polls the same small state (dataset versions, as_of and
stale limits) every second or two, so the answer is built for that:

- the state is read from Redis at most once per `ttl_s` per worker process, however many
  screens ask (one round trip serves every screen ticking in that window);
- its ETag is a hash of the state. A screen sends the ETag it holds (If-None-Match) and gets a
  304 when nothing moved, or only the keys that moved since its state (a delta) when this
  process still remembers that state, else the whole state.

No Flask here: dashboard/api.py turns the answers into responses."""
from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict

SECTIONS = ("v", "as_of", "stale_after")


def etag_of(state: dict) -> str:
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
    return '"' + hashlib.blake2b(canonical, digest_size=8).hexdigest() + '"'


def delta(old: dict, new: dict) -> dict:
    """The keys of each section whose value changed; a key that went away maps to None."""
    out = {}
    for section in SECTIONS:
        before, after = old.get(section, {}), new.get(section, {})
        moved = {k: v for k, v in after.items() if before.get(k) != v}
        moved.update({k: None for k in before.keys() - after.keys()})
        if moved:
            out[section] = moved
    return out


class TickCache:
    """The current tick state of this process, and the last few states screens may still hold."""

    def __init__(self, load, ttl_s: float = 0.25, remember: int = 64):
        self._load = load              # () -> state dict; raises when Redis is unreachable
        self._ttl_s = ttl_s
        self._remember = remember
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._current: tuple[str, dict] | None = None
        self._known: OrderedDict[str, dict] = OrderedDict()

    def current(self) -> tuple[str, dict]:
        """(etag, state), read afresh when the last read is older than ttl_s. One thread reads;
        the others ticking at that moment wait for its answer instead of asking Redis too."""
        with self._lock:
            if self._current is None or time.monotonic() - self._read_at > self._ttl_s:
                state = self._load()
                etag = etag_of(state)
                self._current, self._read_at = (etag, state), time.monotonic()
                self._known[etag] = state
                self._known.move_to_end(etag)
                while len(self._known) > self._remember:
                    self._known.popitem(last=False)
            return self._current

    def answer(self, held: str | None) -> tuple[str, dict | None]:
        """(etag, body): body None means "not modified"; a body with "delta" updates the state
        the screen holds; otherwise it is the whole state."""
        etag, state = self.current()
        if held == etag:
            return etag, None
        with self._lock:
            base = self._known.get(held) if held else None
        if base is None:
            return etag, dict(state)
        return etag, {"delta": delta(base, state)}

    def forget(self) -> None:
        with self._lock:
            self._current, self._read_at = None, float("-inf")
