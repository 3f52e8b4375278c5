"""The warnings collector: the hysteresis walked up and down by a frozen clock in 15-min steps,
the memory kept across a restart, the bounded history, and a bad rules file refused."""
from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

import pytest

from collectors.domain import warnings as engine
from collectors.domain.warning_rules import RulesError
from collectors.plugins import REGISTRY
from collectors.plugins.warnings import WarningsCollector, change_entry
from collectors.redis_schema import WARNING_STATE, warning_history_key
from config.limits import limits
from simulator.scales import SCALES
from tests.kpi_harness import Harness, insert
from tests.sourcedata import fmt

START = datetime(2026, 7, 15, 23, 0)
# PC01's temperature at each 15-min evaluation: orange, orange, red, red, then a cool new day
TEMPS = [38.0, 38.0, 40.0, 40.0, 30.0, 30.0, 30.0, 30.0]
LEVELS = [0, 2, 2, 3, 3, 3, 3, 0]


def observe(url, at, temp):
    insert(url, "weather_obs", [{"district_code": "PC01", "ts": fmt(at), "temperature_c": temp,
                                 "updated_at": fmt(at)}])


def walk(h, url, steps):
    levels = []
    for i in steps:
        at = START + timedelta(minutes=15 * i)
        observe(url, at, TEMPS[i])
        h.at(at).run()
        levels.append(h.entry("warnings", "PC")["level"])
    return levels


@pytest.fixture
def harness(settings_env, source_url, redis_client):
    return Harness(redis_client, REGISTRY, START), source_url


def test_levels_rise_after_two_and_fall_after_four_evaluations(harness, redis_client):
    h, url = harness
    assert walk(h, url, range(len(TEMPS))) == LEVELS
    red = [json.loads(x) for x in redis_client.zrange(warning_history_key("PC"), 0, -1)]
    city = [(c["from"], c["to"], c["at"]) for c in red if c["code"] == "PC"]
    assert city == [("none", "orange", "2026-07-15T23:15:00"), ("orange", "red", "2026-07-15T23:45:00"),
                    ("red", "none", "2026-07-16T00:45:00")]
    assert {c["code"] for c in red} == {"PC", "PC01", "PC01S01", "PC01S02"}    # PC02 had no data
    assert h.entry("warnings", "PC02")["level"] == 0 and "temp_max_c" in h.entry("warnings", "PC02")["no_data"]


def test_published_warning_names_its_reason(harness):
    h, url = harness
    walk(h, url, range(4))
    w = h.entry("warnings", "PC01S02")
    assert (w["level_name"], w["started_at"], w["changed_at"]) == ("red", "2026-07-15T23:15:00",
                                                                   "2026-07-15T23:45:00")
    reason = w["reasons"][0]
    assert (reason["dimension"], reason["input"], reason["value"], reason["threshold"]) == \
        ("temperature", "temp_max_c", 40.0, 40)
    assert reason["title"] == {"zh": "高温", "en": "Heat"} and reason["source"] == "DOC"


def test_a_restart_continues_the_hysteresis(harness, redis_client):
    h, url = harness
    assert walk(h, url, range(6)) == LEVELS[:6]
    state = json.loads(redis_client.hget(WARNING_STATE, "PC"))
    assert [e["level"] for e in state["window"]] == [3, 3, 0, 0]
    restarted = Harness(redis_client, REGISTRY, START + timedelta(minutes=90))
    assert walk(restarted, url, range(6, 8)) == LEVELS[6:]     # still red, then the 4th cool one drops it


def test_history_is_bounded_per_level(harness, redis_client, monkeypatch):
    monkeypatch.setitem(limits()["warning_history"], "max_entries", {"city": 2, "district": 3, "station": 1})
    h, url = harness
    walk(h, url, range(len(TEMPS)))
    # PC01 and its 供电所 went none→orange→red→none: three changes each, PC01S02's list also
    # holds nothing from below (a 供电所 is the lowest evaluated level)
    assert [redis_client.zcard(warning_history_key(c)) for c in ("PC", "PC01", "PC01S02")] == [2, 3, 1]
    for code in ("PC", "PC01S02"):
        newest = json.loads(redis_client.zrange(warning_history_key(code), -1, -1)[0])
        assert newest["at"] == "2026-07-16T00:45:00"


# Redis keeps each zset member's bytes (sds, 3 B header) in a jemalloc size class (four per
# power of two), plus a skiplist node and a dict entry beside it (~96 B at 64 bit)
MEMBER_OVERHEAD_B = 96
# The history's share of the 1 GB Redis target at province scale: everything else held 177 MB
# after a simulated 24 h (benchmarks/README.md, Redis row); 600 MB leaves 2.3x that.
HISTORY_BUDGET_B = 600 * 2**20


def allocated(n: int) -> int:
    """jemalloc's size class for n bytes (n > 128): classes are 1/4 of a power of two apart."""
    step = 2 ** (math.ceil(math.log2(n)) - 3)
    return math.ceil(n / step) * step


def worst_entry_bytes() -> int:
    """A change to red with every dimension giving a reason, each its longest rule and value."""
    reasons = []
    for dim in engine.load_rules().dimensions:
        crit = max(dim.criteria, key=lambda c: len(c.describe(c.thresholds[-1][0])))
        reason = engine._reason(dim, crit, crit.thresholds[-1][0], -123456.789012345)
        reasons.append({**reason, "title": {"zh": dim.title_zh, "en": dim.title_en}})
    entry = change_entry("P21D06S08", START, engine.Level.NONE, engine.Level.RED, reasons)
    return allocated(len(entry.encode()) + 3) + MEMBER_OVERHEAD_B


def test_history_bound_fits_redis_at_province():
    """Every list full to its cap with the largest possible entry still fits the budget (the
    caps in config/limits.yaml; 90 days of a heatwave would fill the 供电所 lists)."""
    p = SCALES["province"]
    lists = {"city": p.cities, "district": p.cities * len(p.districts),
             "station": p.cities * len(p.districts) * p.stations[1]}
    caps = limits()["warning_history"]["max_entries"]
    worst = sum(n * caps[level] for level, n in lists.items()) * worst_entry_bytes()
    assert worst <= HISTORY_BUDGET_B, f"{worst / 2**20:.0f} MB"


def test_a_malformed_rules_file_is_refused_with_its_line(harness, tmp_path):
    h, _ = harness
    bad = tmp_path / "warnings.yaml"
    text = open(WarningsCollector(h.ctx).rules.path, encoding="utf-8").read()
    bad.write_text(text.replace("rise_after: 2", "rise_after: two"), encoding="utf-8")
    with pytest.raises(RulesError, match=r"warnings\.yaml:\d+: "):
        WarningsCollector(h.ctx, rules_path=bad)


def test_an_evaluated_level_without_a_history_cap_is_refused(harness, monkeypatch):
    h, _ = harness
    monkeypatch.setitem(limits()["warning_history"], "max_entries", {"city": 2000, "district": 500})
    with pytest.raises(RulesError, match="no cap for the evaluated level.*station"):
        WarningsCollector(h.ctx)


def test_interval_comes_from_the_rules_unless_overridden(harness, monkeypatch):
    h, _ = harness
    assert WarningsCollector(h.ctx).interval_s == 15 * 60
    monkeypatch.setenv("PEAKWATCH_INTERVAL_WARNINGS", "60")
    from config import settings as settings_mod
    h.ctx.settings = settings_mod.load()
    assert WarningsCollector(h.ctx).interval_s == 60
