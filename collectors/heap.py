"""The collectors process's heap: its large, long-lived state (trees, order stores, episode
frames, curve matrices) is built by the bootstraps and then lives for hours.

- Python's cyclic GC walked all of it on every full collection: at province a gen-2 pass cost
  the events cycle ~112 ms, in 15 of 120 cycles, and set its p95. After each bootstrap the heap
  is collected once and frozen (gc.freeze), so later collections walk only what came since.
  Frozen objects are still freed by reference counting; only cyclic garbage among them waits
  for the next settle, which runs after every bootstrap and at least once an hour.
- glibc keeps freed pages in the process until malloc_trim: a province bootstrap left 90–190 MB
  per collector resident and unused. It also gives each thread that allocates its own arena (up
  to 8 per core), and the scheduler runs collectors in up to 10 threads: limit_arenas() keeps
  them to ARENAS, so what one collector frees the next can reuse."""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
import time

SETTLE_EVERY_S = 3600.0
ARENAS = 2
M_ARENA_MAX = -8      # glibc's mallopt parameter number


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def _malloc_trim():
    return getattr(_libc(), "malloc_trim", None)


_TRIM = _malloc_trim()
_lock = threading.Lock()
_settled_at: float | None = None


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Before the threads start: at most `arenas` malloc arenas (False where not glibc)."""
    mallopt = getattr(_libc(), "mallopt", None)
    return bool(mallopt and mallopt(M_ARENA_MAX, arenas))


def trim() -> None:
    """Give freed heap pages back to the system (~20 ms)."""
    if _TRIM is not None:
        _TRIM(0)


def settle() -> None:
    """Collect everything once, then freeze what survives out of later collections."""
    global _settled_at
    with _lock:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        _settled_at = time.monotonic()


def settle_if_due() -> None:
    """Settle again when the last settle is older than SETTLE_EVERY_S (cyclic garbage among the
    frozen objects, e.g. a replaced tree, is reclaimed within that time)."""
    if _settled_at is not None and time.monotonic() - _settled_at > SETTLE_EVERY_S:
        settle()
