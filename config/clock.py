"""The one clock. Every process asks it for "now" so that replay and live mode agree.

Live mode is wall-clock time in China Standard Time (UTC+8, no daylight saving). Replay mode
maps real time onto simulated time: sim_now = origin + (real_now - real_origin) * speed.
app.py fixes the real origin once and hands the same PEAKWATCH_CLOCK to every child process.
All timestamps are naive datetimes in CST, as the source systems store them.
"""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")
ENV_VAR = "PEAKWATCH_CLOCK"


class Clock:
    def __init__(self, origin: datetime | None = None, speed: float = 1.0,
                 real_origin: float | None = None):
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self.origin = origin
        self.speed = speed
        self.real_origin = time.time() if real_origin is None else real_origin

    @property
    def is_live(self) -> bool:
        return self.origin is None and self.speed == 1.0

    def now(self) -> datetime:
        if self.origin is None:
            return datetime.now(CST).replace(tzinfo=None) if self.speed == 1.0 else \
                self._from_real_origin(datetime.fromtimestamp(self.real_origin, CST).replace(tzinfo=None))
        return self._from_real_origin(self.origin)

    def _from_real_origin(self, origin: datetime) -> datetime:
        return origin + timedelta(seconds=(time.time() - self.real_origin) * self.speed)

    def sleep_until(self, sim_time: datetime) -> None:
        """Sleep in real time until the simulated clock reaches sim_time."""
        ahead = (sim_time - self.now()).total_seconds()
        if ahead > 0:
            time.sleep(ahead / self.speed)

    def to_env(self) -> str:
        origin = self.origin.isoformat() if self.origin else "live"
        return f"{origin}|{self.speed}|{self.real_origin}"

    @classmethod
    def from_env(cls) -> "Clock":
        """Parse PEAKWATCH_CLOCK, 'ORIGIN|SPEED|REAL_ORIGIN'; unset means live wall-clock time."""
        raw = os.environ.get(ENV_VAR, "")
        if not raw:
            return cls()
        origin_s, speed_s, real_s = raw.split("|")
        origin = None if origin_s == "live" else datetime.fromisoformat(origin_s)
        return cls(origin=origin, speed=float(speed_s), real_origin=float(real_s))
