"""Render once per change, not once per screen.

When a dataset moves, every screen showing the same view sends the same refresh request within
one tick (same inputs: the versions it was told, the versions it rendered, the view). Without
this, a thousand wall screens cost a thousand identical renders. The answer to a refresh
callback is kept for `ttl_s`, keyed by everything that decides it: the request body, the
principal's kind, role and scope (the guard has already let the request through), and the
viewer's language and theme. The TTL bounds how long a render that reads the clock (countdowns)
can be reused. Only refreshes driven by the versions store are kept; forms, routing and the
acknowledgement path always run."""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict

from flask import Response, g, request

from dashboard import ids
from dashboard.security.guard import CALLBACK


class RenderMemo:
    """A small LRU of answers with a time to live and a byte budget (per worker process)."""

    def __init__(self, ttl_s: float, max_entries: int = 512, max_bytes: int = 64 << 20):
        self.ttl_s, self.max_entries, self.max_bytes = ttl_s, max_entries, max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[bytes, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self.hits = self.misses = 0

    def get(self, key: bytes) -> bytes | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or time.monotonic() - found[0] > self.ttl_s:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, key: bytes, body: bytes) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1])
            self._entries[key] = (time.monotonic(), body)
            self._bytes += len(body)
            while self._entries and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= len(dropped)


def is_refresh(payload) -> bool:
    """A callback whose trigger is the versions store: a page's data refresh."""
    if not isinstance(payload, dict) or not isinstance(payload.get("inputs"), list):
        return False
    return any(isinstance(i, dict) and i.get("id") == ids.VERSIONS and i.get("property") == "data"
               for i in payload["inputs"])


def key_of() -> bytes | None:
    who = g.get("principal")
    if who is None or not is_refresh(request.get_json(silent=True)):
        return None
    h = hashlib.blake2b(digest_size=16)
    for part in (who.kind, who.role, who.scope or "*", request.cookies.get("pw_lang", ""),
                 request.cookies.get("pw_theme", "")):
        h.update(part.encode() + b"\0")
    h.update(request.get_data(cache=True))
    return h.digest()


def install(server, ttl_s: float) -> RenderMemo | None:
    """Register after the security guard: a request it refuses never reaches the memo."""
    if ttl_s <= 0:
        return None
    memo = RenderMemo(ttl_s)
    server.extensions["pw_render_memo"] = memo

    @server.before_request
    def answer_from_memo():
        if request.path != CALLBACK or request.method != "POST":
            return None
        key = key_of()
        if key is None:
            return None
        body = memo.get(key)
        if body is not None:
            return Response(body, mimetype="application/json")
        g.render_memo_key = key
        return None

    @server.after_request
    def keep_answer(resp):
        key = g.pop("render_memo_key", None)
        if key is not None and resp.status_code == 200 and not resp.direct_passthrough:
            memo.put(key, resp.get_data())
        return resp

    return memo
