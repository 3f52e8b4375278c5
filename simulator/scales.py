"""Size presets. A scale says how many cities, which districts, and how the tree fans out.

district area types cycle through `districts`; stations per district, feeders per station and
台区 per feeder are (low, high) uniform integer ranges, varied per node by the seed.
Backfill windows (days) are part of the preset: the province keeps its backfill small.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scale:
    name: str
    cities: int
    districts: tuple[str, ...]            # area type per district of each city
    stations: tuple[int, int]             # per district
    feeders: tuple[int, int]              # per station
    tareas: dict[str, tuple[int, int]]    # per feeder, by area type
    # backfill windows, days before "now"
    event_days: float = 35.0              # orders, outages, AMI/breaker events
    scada_days: float = 9.0               # SCADA history: hourly before the last 2 days
    scada_quarter_days: float = 2.0       # SCADA at 15-min resolution
    scada_last_year_days: int = 7         # +- days around the same date last year, hourly
    ami_hours: float = 3.0                # AMI 15-min load
    minute_hours: float = 1.0             # SCADA at 1-min resolution before "now"
    extra: dict = field(default_factory=dict)


_TAREAS = {"urban": (17, 26), "suburban": (19, 28), "rural": (22, 32), "remote": (20, 30)}

SCALES = {
    "tiny": Scale("tiny", 1, ("urban", "rural"), (2, 2), (3, 3),
                  {"urban": (7, 10), "suburban": (7, 10), "rural": (7, 10), "remote": (7, 10)},
                  event_days=3, scada_days=2, scada_last_year_days=1, ami_hours=3),
    "small": Scale("small", 1, ("urban", "suburban", "rural"), (3, 3), (5, 7), _TAREAS,
                   event_days=35, scada_days=9, scada_last_year_days=7),
    "demo": Scale("demo", 1, ("urban", "urban", "suburban", "suburban", "rural", "rural"),
                  (6, 8), (13, 17), _TAREAS),
    # province cities are more rural than the demo city: ~320 k 台区, ~43 M customers in all
    "province": Scale("province", 21, ("urban", "suburban", "suburban", "rural", "rural", "rural"),
                      (6, 8), (13, 17), _TAREAS,
                      event_days=2, scada_days=1, scada_quarter_days=1, scada_last_year_days=0, ami_hours=2,
                      minute_hours=0.25),
}


def get_scale(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; choose one of {', '.join(SCALES)}") from None
