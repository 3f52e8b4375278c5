"""The Redis key layout shared by the collectors (write side) and the dashboard (read side).

  pw:versions            hash  dataset -> version (int, +1 per publish)
  pw:asof                hash  dataset -> as_of (ISO, CST) of the data in that publish
  pw:ds:<dataset>        hash  node code (or other key) -> JSON payload; sparse datasets skip
                               quiet 台区 and give their value once, under "_default"
  pw:health              hash  collector -> JSON (last success, duration, rows, rejects, error)
  pw:rejects             list  newest first, JSON rejected rows with their reasons (bounded)
  pw:epoch               string written by the running collectors; gone means Redis was wiped
  pw:processes           hash  child -> JSON (pid, restarts, last event), kept by app.py
  pw:warnings:state      hash  node -> JSON WarningState (the hysteresis memory across restarts)
  pw:wh:<node>           zset  warning level changes at the node and below, JSON, scored by
                               the change's time (epoch s of the naive CST time); bounded by age
                               and count (config/limits.yaml warning_history)

A dataset's hash, its version and its as_of change in one MULTI/EXEC, so a reader never sees
half a cycle.
"""
from __future__ import annotations

import redis

PREFIX = "pw"
VERSIONS = f"{PREFIX}:versions"
AS_OF = f"{PREFIX}:asof"
HEALTH = f"{PREFIX}:health"
REJECTS = f"{PREFIX}:rejects"
EPOCH = f"{PREFIX}:epoch"
PROCESSES = f"{PREFIX}:processes"
REJECTS_KEPT = 2000
DEFAULT_ENTRY = "_default"
WARNING_STATE = f"{PREFIX}:warnings:state"


def warning_history_key(code: str) -> str:
    return f"{PREFIX}:wh:{code}"


def dataset_key(dataset: str) -> str:
    return f"{PREFIX}:ds:{dataset}"


def connect(url: str, timeout_s: float = 2.0) -> redis.Redis:
    """A client that fails fast when Redis is away and reconnects by itself when it is back."""
    return redis.Redis.from_url(
        url, decode_responses=True, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
        health_check_interval=15, retry_on_timeout=False)
