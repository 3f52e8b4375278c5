"""Every environment variable Peakwatch reads, in one place (the README lists them).

Values are read when `load()` is called, so a test or app.py can set the environment first.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from config import VAR_DIR

# Default poll intervals in seconds (issue 2): fast sources every 5 s, SCADA every minute,
# AMI 15-min load every 15 min. Override one with PEAKWATCH_INTERVAL_<NAME>=seconds.
DEFAULT_INTERVALS = {
    "topology": 300.0,
    "orders": 5.0,
    "outages": 5.0,
    "events": 5.0,
    "scada": 60.0,
    "ami": 900.0,
    "weather": 300.0,
    "keycustomers": 5.0,
    "geo": 300.0,       # district outlines for the maps
    "warnings": None,   # None: evaluation.interval_minutes of config/warnings.yaml (15 min)
}


def _float(name: str, default: float | None) -> float | None:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    redis_url: str | None
    source_url: str
    source_is_default: bool
    scale: str
    scenario: str
    seed: int
    source_timeout_s: float
    watermark_overlap_s: float
    measurement_overlap_s: float
    stale_factor: float
    hang_after_s: float
    intervals: dict[str, float] = field(default_factory=dict)
    tick_ms: int = 1000
    tick_cache_ms: int = 250       # a web worker reads the tick state from Redis at most this often
    render_memo_s: float = 5.0     # a refresh answer is reused this long for screens on the same view

    def interval(self, collector: str) -> float:
        value = self.intervals[collector]
        return _configured_interval(collector) if value is None else value

    def stale_after_s(self, collector: str) -> float:
        """A dataset is stale once it is older than this many poll intervals (plus slack)."""
        return self.stale_factor * self.interval(collector) + 10.0


def _configured_interval(collector: str) -> float:
    """An interval its own rules file sets (only the warnings so far), in seconds."""
    from collectors.domain.warning_rules import load_rules   # the rules' one strict loader
    if collector != "warnings":
        raise KeyError(f"no configured interval for collector {collector!r}")
    return load_rules().interval_minutes * 60.0


def default_source_url() -> str:
    return f"sqlite:///{VAR_DIR / 'source.db'}"


def web_workers() -> int:
    """Web worker processes: PEAKWATCH_WEB_WORKERS, else 2 x cores + 1. A render holds its worker's
    GIL, so the ticks queued behind it in that worker wait: more processes than cores keep a
    thousand screens' p95 down (gunicorn, 2 workers: 307 ms, 4: 68 ms, 6: 45 ms on 2 cores)."""
    raw = os.environ.get("PEAKWATCH_WEB_WORKERS")
    return int(raw) if raw else 2 * len(os.sched_getaffinity(0)) + 1


def load() -> Settings:
    env = os.environ
    intervals = {
        name: _float(f"PEAKWATCH_INTERVAL_{name.upper()}", secs)
        for name, secs in DEFAULT_INTERVALS.items()
    }
    source_url = env.get("SOURCE_URL") or ""
    return Settings(
        redis_url=env.get("REDIS_URL") or None,
        source_url=source_url or default_source_url(),
        source_is_default=not source_url,
        scale=env.get("PEAKWATCH_SCALE", "demo"),
        scenario=env.get("PEAKWATCH_SCENARIO", "normal"),
        seed=int(env.get("PEAKWATCH_SEED", "20260715")),
        source_timeout_s=_float("PEAKWATCH_SOURCE_TIMEOUT", 10.0),
        watermark_overlap_s=_float("PEAKWATCH_WATERMARK_OVERLAP", 3600.0),
        # SCADA/AMI rows are stamped when written: the overlap only covers commit skew, and a
        # full hour of minute readings re-read every minute would be most of the cycle
        measurement_overlap_s=_float("PEAKWATCH_MEASUREMENT_OVERLAP", 600.0),
        stale_factor=_float("PEAKWATCH_STALE_FACTOR", 3.0),
        # a cycle running longer than this is hung: the collectors process exits and restarts
        hang_after_s=_float("PEAKWATCH_HANG_AFTER", 600.0),
        intervals=intervals,
        tick_ms=int(_float("PEAKWATCH_TICK_MS", 1000)),
        tick_cache_ms=int(_float("PEAKWATCH_TICK_CACHE_MS", 250)),
        render_memo_s=_float("PEAKWATCH_RENDER_MEMO_S", 5.0),
    )


@dataclass(frozen=True)
class SecuritySettings:
    """Who may see what (docs/security.md). Production means login required and a SECRET_KEY."""
    production: bool
    auth_required: bool          # dev default: anonymous viewers get the whole city
    secret_key: str | None
    app_db_url: str
    sso_header: str | None       # e.g. X-Remote-User, believed only from a trusted proxy
    trusted_proxies: frozenset[str]   # their X-Remote-User, X-Forwarded-For/-Proto are believed
    session_idle_minutes: float
    session_max_hours: float
    login_max_failures: int      # per user name within login_window_minutes, then locked
    login_ip_max_failures: int   # per client address, same window
    login_window_minutes: float
    account_recheck_s: float     # a worker reuses an account/token look-up this long (0: every request)


def default_app_db_url(var_dir=None) -> str:
    return f"sqlite:///{(var_dir or VAR_DIR) / 'app.db'}"


def load_security() -> SecuritySettings:
    env = os.environ
    production = env.get("PEAKWATCH_ENV", "development") == "production"
    return SecuritySettings(
        production=production,
        auth_required=production or env.get("PEAKWATCH_AUTH") == "required",
        secret_key=env.get("SECRET_KEY") or None,
        app_db_url=env.get("APP_DB_URL") or default_app_db_url(),
        sso_header=env.get("PEAKWATCH_SSO_HEADER") or None,
        trusted_proxies=frozenset(a.strip() for a in env.get("PEAKWATCH_TRUSTED_PROXIES", "").split(",") if a.strip()),
        session_idle_minutes=_float("PEAKWATCH_SESSION_IDLE_MINUTES", 30.0),
        session_max_hours=_float("PEAKWATCH_SESSION_MAX_HOURS", 12.0),
        login_max_failures=int(_float("PEAKWATCH_LOGIN_MAX_FAILURES", 5)),
        login_ip_max_failures=int(_float("PEAKWATCH_LOGIN_IP_MAX_FAILURES", 20)),
        login_window_minutes=_float("PEAKWATCH_LOGIN_WINDOW_MINUTES", 15.0),
        account_recheck_s=_float("PEAKWATCH_ACCOUNT_RECHECK_MS", 1000.0) / 1000,
    )
