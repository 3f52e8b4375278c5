"""The wall playlist: the shipped file loads, districts expand in order, typos are refused by name."""
from __future__ import annotations

import pytest

from dashboard import wallconfig
from dashboard.wallconfig import WallConfigError, parse, urls

GOOD = {"dwell_seconds": 30, "reload_minutes": 360, "tick_ms": 2000,
        "playlist": [{"page": "wall", "dwell_seconds": 90}, {"page": "wall", "focus": "districts"},
                     {"page": "load", "focus": "PC01S01"}, {"page": "overview"}]}


def test_shipped_config_loads():
    wallconfig.load.cache_clear()
    assert wallconfig.load().playlist


def test_playlist_expands_districts_in_order_with_dwell():
    screens = urls(parse(GOOD), ["PC01", "PC02"])
    assert [s["url"] for s in screens] == ["/wall?kiosk=1", "/wall/PC01?kiosk=1", "/wall/PC02?kiosk=1",
                                           "/load/PC01S01?kiosk=1", "/?kiosk=1"]
    assert [s["dwell_ms"] for s in screens] == [90_000, 30_000, 30_000, 30_000, 30_000]


@pytest.mark.parametrize("broken, says", [
    ({"playlist": [{"page": "walls"}]}, "playlist entry 1: page must be one of"),
    ({"playlist": [{"page": "load", "dwell_seconds": 0}]}, "playlist entry 1: dwell_seconds"),
    ({"playlist": []}, "playlist must be a non-empty list"),
    ({"reload_minutes": "6h"}, "reload_minutes must be a positive number"),
])
def test_typos_are_refused_by_name(broken, says):
    with pytest.raises(WallConfigError, match=says):
        parse({**GOOD, **broken})
