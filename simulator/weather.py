"""Hourly temperature per district, and the scenario overlays (heat wave, typhoon).

A deterministic function of (seed, scenario, anchor, district, hour): any hour can be computed
on its own, so backfill, live ticks and a resumed run agree.

daily max = monthly climatology (interpolated by day of year) + a slow regional anomaly (three
sinusoids with seeded phases) + daily jitter + district offset (urban heat island);
daily min = max - diurnal range; the hour follows a cosine between 05:00 (min) and 14:00 (max).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import params as P
from .rng import rng
from .timebase import DAY, HOUR

_MID_MONTH_DOY = np.array([15, 45, 74, 105, 135, 166, 196, 227, 258, 288, 319, 349], dtype=float)


@dataclass
class Weather:
    seed: int
    scenario: str
    anchor: int                     # scenario anchor, seconds (the bootstrap "now")
    district_offset: np.ndarray     # degC per district

    @classmethod
    def for_topology(cls, seed, scenario, anchor, districts) -> "Weather":
        r = rng(seed, "weather-district")
        off = np.array([P.URBAN_HEAT_ISLAND if a == "urban" else (-0.4 if a in ("rural", "remote") else 0.2)
                        for a in districts["area_type"]]) + r.normal(0, 0.3, len(districts))
        # cities of a province sit in different places: a fixed offset per city
        cities = districts["city_idx"].to_numpy()
        city_off = rng(seed, "weather-city").normal(0, 0.8, cities.max() + 1)
        if cities.max() > 0:
            off = off + city_off[cities]
        return cls(seed, scenario, anchor, off)

    # --- daily extremes ---------------------------------------------------------------
    def _clim(self, days: np.ndarray) -> np.ndarray:
        # days since 1970-01-01 (doy 0) -> day of year; interpolate the monthly means periodically
        doy = days % 365.2425
        x = np.concatenate([_MID_MONTH_DOY - 365.2425, _MID_MONTH_DOY, _MID_MONTH_DOY + 365.2425])
        y = np.tile(np.asarray(P.MONTH_TMAX), 3)
        return np.interp(doy, x, y)

    def _anomaly(self, days: np.ndarray) -> np.ndarray:
        r = rng(self.seed, "weather-anomaly")
        periods = np.array([4.7, 9.3, 21.1])
        phases = r.uniform(0, 2 * np.pi, 3)
        amps = np.array([0.9, 1.3, 1.2]) * P.DAY_ANOMALY_SD / 1.6
        d = np.asarray(days, dtype=float)[..., None]
        return (amps * np.sin(2 * np.pi * d / periods + phases)).sum(-1)

    def daily_max(self, day: int) -> np.ndarray:
        """Daily maximum per district for the day index (days since epoch)."""
        base = self._clim(np.array([day]))[0] + self._anomaly(np.array([day]))[0]
        base += rng(self.seed, "weather-day", day).normal(0, 0.7)
        tmax = base + self.district_offset
        if self.scenario != "heatwave":
            # no heat wave unless asked for: natural maxima above NORMAL_SOFT_CAP are compressed
            over = np.maximum(0.0, tmax - P.NORMAL_SOFT_CAP)
            tmax = tmax - over * (1 - P.NORMAL_CAP_SLOPE)
        else:
            k = day - self.anchor // DAY
            prof = {-5: 33.0, -4: 34.3, -3: 35.6, -2: 36.9, -1: 38.4, 0: P.HEATWAVE_PEAK,
                    1: 39.3, 2: 37.8, 3: 35.9, 4: 34.5, 5: 33.2}
            if k in prof:
                # the scenario's curve, with the districts' own offsets around it
                tmax = prof[k] + (self.district_offset - self.district_offset.mean())
        return tmax

    def diurnal_range(self, day: int) -> float:
        rng_ = 7.5 + rng(self.seed, "weather-range", day).normal(0, 0.8)
        if self.scenario == "heatwave":
            k = day - self.anchor // DAY
            if P.HEATWAVE_DAYS[0] <= k <= P.HEATWAVE_DAYS[1]:
                rng_ = 8.3
        return max(4.0, rng_)

    # --- hours -----------------------------------------------------------------------
    def storm(self, secs) -> np.ndarray:
        """Typhoon intensity 0..1 at each time (0 outside the typhoon scenario)."""
        secs = np.asarray(secs, dtype=float)
        if self.scenario != "typhoon":
            return np.zeros_like(secs)
        start = self.anchor + P.TYPHOON_START_OFFSET_H * HOUR
        end = start + P.TYPHOON_HOURS * HOUR
        ramp = 2.5 * HOUR
        up = np.clip((secs - (start - ramp)) / ramp, 0, 1)
        down = np.clip((end + ramp - secs) / ramp, 0, 1)
        return np.minimum(up, down)

    def hourly(self, hour_sec: int) -> np.ndarray:
        """Temperature per district at a whole hour (degC, one decimal)."""
        day = hour_sec // DAY
        h = (hour_sec % DAY) / HOUR
        if h >= 5:
            tmax, rng_ = self.daily_max(day), self.diurnal_range(day)
        else:
            tmax, rng_ = self.daily_max(day - 1), self.diurnal_range(day - 1)
        # the next morning's minimum joins smoothly enough: use today's range
        tmin = tmax - rng_
        if 5 <= h <= 14:
            f = 0.5 - 0.5 * np.cos(np.pi * (h - 5) / 9)
        else:
            hh = h - 14 if h > 14 else h + 10
            f = 0.5 + 0.5 * np.cos(np.pi * hh / 15)
        t = tmin + (tmax - tmin) * f
        t = t + rng(self.seed, "weather-hour", hour_sec // HOUR).normal(0, 0.35, len(self.district_offset))
        s = float(self.storm([hour_sec])[0])
        if s > 0:
            t = t - P.TYPHOON_COOLING * s
        return np.round(t, 1)

    def at(self, sec: float) -> np.ndarray:
        """Temperature per district at any moment: linear between the hours."""
        h0 = int(sec // HOUR) * HOUR
        w = (sec - h0) / HOUR
        a = self._cached(h0)
        if w == 0:
            return a
        return a * (1 - w) + self._cached(h0 + HOUR) * w

    _cache: dict | None = None

    def _cached(self, hour_sec: int) -> np.ndarray:
        if self._cache is None:
            self._cache = {}
        v = self._cache.get(hour_sec)
        if v is None:
            if len(self._cache) > 5000:
                self._cache.clear()
            v = self._cache[hour_sec] = self.hourly(hour_sec)
        return v
