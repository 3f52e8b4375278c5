"""Time helpers. Inside the simulator a moment is an int64 count of seconds since 1970-01-01
00:00 of naive China Standard Time (CST is treated as if it were UTC: no zone arithmetic, no
daylight saving). Day types come from chinese-calendar (holidays and 调休 make-up workdays)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np

EPOCH = datetime(1970, 1, 1)
MIN, HOUR, DAY = 60, 3600, 86400


def to_sec(dt: datetime) -> int:
    return int((dt - EPOCH) // timedelta(seconds=1))


def to_dt(sec: int | float) -> datetime:
    return EPOCH + timedelta(seconds=int(sec))


def floor(sec, step: int):
    return (np.asarray(sec) // step) * step if isinstance(sec, np.ndarray) else (int(sec) // step) * step


def iso_strings(secs: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD HH:MM:SS.ffffff': exactly how SQLAlchemy stores a DateTime in SQLite, so
    string comparisons in SQL (watermarks) order correctly."""
    s = np.datetime_as_string(np.asarray(secs, dtype="int64").astype("datetime64[s]").astype("datetime64[us]"))
    return np.strings.replace(s, "T", " ")


@lru_cache(maxsize=4096)
def day_info(day: date) -> tuple[str, bool]:
    """(BDEW day type 'workday'|'saturday'|'sunday', is_workday) for one calendar day.

    Holidays count as Sundays; a 调休 make-up workday on a weekend counts as a workday.
    Years chinese-calendar does not know fall back to the plain week.
    """
    try:
        import chinese_calendar as cc
        workday = bool(cc.is_workday(day))
        holiday = bool(cc.is_holiday(day)) and day.weekday() < 5
    except (NotImplementedError, ImportError):
        workday, holiday = day.weekday() < 5, False
    if workday:
        return "workday", True
    if holiday or day.weekday() == 6:
        return "sunday", False
    return "saturday", False


DAYTYPE_INDEX = {"workday": 0, "saturday": 1, "sunday": 2}


def day_of(sec: int) -> date:
    return (EPOCH + timedelta(days=int(sec) // DAY)).date()


def season_index(day: date) -> int:
    """BDEW seasons: 0 summer (15.05-14.09), 1 transition, 2 winter."""
    md = (day.month, day.day)
    if (5, 15) <= md <= (9, 14):
        return 0
    if (3, 21) <= md <= (5, 14) or (9, 15) <= md <= (10, 31):
        return 1
    return 2
