"""Weather per district: the latest temperature, today's maximum, and hot days in a row."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from collectors.base import Collector
from collectors.domain import validation as v
from collectors.frames import typed
from collectors.publish import Dataset
from collectors.sources.schema import weather_obs

SOURCE = "weather"
KEY = ["district_code", "ts"]
KEEP_DAYS = 10


class WeatherCollector(Collector):
    name = "weather"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.obs = pd.DataFrame(columns=[*KEY, "temperature_c", "updated_at"])

    def collect(self) -> dict[str, pd.DataFrame]:
        if "weather_obs" in self.watermarks:
            return {"weather_obs": self.poll(weather_obs)}
        since = self.ctx.clock.now() - timedelta(days=KEEP_DAYS)
        return {"weather_obs": self.ctx.source.read_table(weather_obs, weather_obs.c.ts >= since)}

    def absorb(self, batches, now: datetime) -> list[dict]:
        latest = now + timedelta(minutes=5)
        rules = [*v.required(*KEY, "temperature_c", "updated_at"),
                 v.known_code("district_code", self.tree.codes("district")),
                 v.timestamp("ts", latest), v.timestamp("updated_at", latest),
                 v.number("temperature_c", -60, 60)]
        good, rejects = v.apply_rules(batches["weather_obs"], rules, source=SOURCE,
                                      table="weather_obs", key=KEY)
        good = typed(good, times=("ts", "updated_at"), numbers=("temperature_c",))[self.obs.columns]
        both = pd.concat([self.obs, good], ignore_index=True) if not self.obs.empty else good
        both = both.sort_values("updated_at", kind="stable").drop_duplicates(KEY, keep="last")
        self.obs = both[both["ts"] >= pd.Timestamp(now) - pd.Timedelta(days=KEEP_DAYS)]
        return rejects

    def datasets(self, now: datetime) -> list[Dataset]:
        obs = self.obs[self.obs["ts"] <= pd.Timestamp(now)]
        entries = {}
        if obs.empty:
            self.ctx.frames["weather.daily_max"] = pd.DataFrame({
                "district_code": pd.Series(dtype=object), "day": pd.Series(dtype="datetime64[us]"),
                "temperature_c": pd.Series(dtype="float64")})
            return [Dataset("weather", now, entries)]
        daily_max = obs.groupby(["district_code", obs["ts"].dt.normalize()])["temperature_c"].max()
        self.ctx.frames["weather.daily_max"] = daily_max.rename_axis(["district_code", "day"]).reset_index()
        today = pd.Timestamp(now).normalize()
        latest = obs.sort_values("ts").drop_duplicates("district_code", keep="last").set_index("district_code")
        for code, row in latest.iterrows():
            days = daily_max.loc[code].sort_index(ascending=False)
            entries[code] = {"temperature_c": round(float(row["temperature_c"]), 1),
                             "observed_at": row["ts"].isoformat(),
                             "max_today_c": round(float(days.get(today, float("nan"))), 1)
                             if today in days.index else None,
                             "hot_days_35": _streak(days, today, 35.0)}
        city = self.tree.codes("city")
        if len(city) and entries:
            hottest = max(entries.values(), key=lambda e: e["temperature_c"])
            entries[city[0]] = dict(hottest)
        return [Dataset("weather", now, entries)]


def _streak(daily_max: pd.Series, today: pd.Timestamp, threshold: float) -> int:
    """Consecutive days up to today whose maximum reached the threshold."""
    count, day = 0, today
    while day in daily_max.index and daily_max[day] >= threshold:
        count += 1
        day -= pd.Timedelta(days=1)
    return count
