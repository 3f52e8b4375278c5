"""Day types for baselines: workday, weekend or holiday, with China's 调休 make-up workdays."""
from __future__ import annotations

from datetime import date

import chinese_calendar


def day_type(day: date) -> str:
    try:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # outside the years the package knows: plain week rhythm
        return "weekend" if day.weekday() >= 5 else "workday"
    if not is_holiday:
        return "workday"
    return "holiday" if name else "weekend"


def same_type_days(today: date, count: int, lookback_days: int) -> list[date]:
    """The last `count` days before today with today's day type, newest first."""
    from datetime import timedelta
    wanted = day_type(today)
    days = []
    for back in range(1, lookback_days + 1):
        d = today - timedelta(days=back)
        if day_type(d) == wanted:
            days.append(d)
            if len(days) == count:
                break
    return days
