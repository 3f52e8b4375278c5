"""The published level: hysteresis up and down, the season gate, and the JSON state."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import pandas as pd
import pytest

from collectors.domain.warnings import (
    WarningState, evaluate_dimensions, load_rules, step, step_all)

RULES = load_rules()
JULY = datetime(2026, 7, 15, 12, 0)
TICK = timedelta(minutes=15)


def reason(level: int, tag: str = "x") -> dict:
    return {"dimension": tag, "level": level}


def walk(raws, start=JULY, rules=RULES, state=None) -> list[WarningState]:
    """Step one node through raw levels at 15-min intervals; each reason names its step."""
    states = []
    for i, level in enumerate(raws):
        reasons = [reason(level, f"step{i}")] if level else []
        state = step(state, level, reasons, start + i * TICK, rules)
        states.append(state)
    return states


def levels(raws, **kwargs) -> list[int]:
    return [int(s.level) for s in walk(raws, **kwargs)]


@pytest.mark.parametrize("raws,expected", [
    ([1, 1], [0, 1]),                         # rise after 2 in a row
    ([2, 1, 1], [0, 1, 1]),                   # rises to the lowest of the last 2
    ([1, 3, 3], [0, 1, 3]),                   # yellow, then red once red twice in a row
    ([3, 3, 3], [0, 3, 3]),
    ([0, 1, 0, 1, 0, 1], [0] * 6),            # oscillation never rises
    ([1, 3, 1, 3, 1, 3], [0, 1, 1, 1, 1, 1]),  # nor escalates
])
def test_rising(raws, expected):
    assert levels(raws) == expected


@pytest.mark.parametrize("tail,expected", [
    ([2, 2, 2, 2], [3, 3, 3, 2]),              # falls after 4 in a row below
    ([0, 0, 0, 3, 0, 0, 0], [3] * 7),          # one red evaluation restarts the count
    ([3, 0, 3, 0, 3, 0, 3, 0], [3] * 8),       # oscillation never flaps
    ([1, 2, 1, 0, 0, 0], [3, 3, 3, 2, 2, 1]),  # falls to the highest of the last 4
    ([0, 0, 0, 0, 0, 0, 0, 0], [3, 3, 3, 0, 0, 0, 0, 0]),
])
def test_falling_from_red(tail, expected):
    assert levels([3, 3] + tail)[2:] == expected


def test_started_and_changed_times_follow_the_episode():
    states = walk([1, 1, 3, 3, 0, 0, 0, 0])
    assert states[0].started_at is None and states[0].changed_at is None
    assert states[1].started_at == states[1].changed_at == JULY + TICK
    assert states[3].started_at == JULY + TICK and states[3].changed_at == JULY + 3 * TICK
    assert states[7].level == 0 and states[7].started_at is None
    assert states[7].changed_at == JULY + 7 * TICK


def test_reasons_come_from_the_newest_evaluation_backing_the_level():
    states = walk([3, 3, 1, 2, 1, 0])
    assert [r["dimension"] for r in states[4].reasons] == ["step1"]  # red held, 3 below
    assert states[5].level == 2
    assert [r["dimension"] for r in states[5].reasons] == ["step3"]  # fell to step 3's orange
    assert states[5].raw_reasons == ()


def test_pending_level_and_count():
    states = walk([0, 2, 3, 3, 1, 1])
    assert (states[1].pending_level, states[1].pending_count) == (2, 1)
    assert (states[2].level, states[2].pending_level) == (2, 3)
    assert (states[3].level, states[3].pending_level, states[3].pending_count) == (3, None, 0)
    assert (states[5].pending_level, states[5].pending_count) == (1, 2)


def test_evaluations_far_apart_are_not_in_a_row():
    gap = timedelta(minutes=RULES.hysteresis.max_gap_minutes)
    first = step(None, 2, [reason(2)], JULY, RULES)
    assert step(first, 2, [reason(2)], JULY + gap, RULES).level == 2
    late = step(first, 2, [reason(2)], JULY + gap + timedelta(seconds=1), RULES)
    assert late.level == 0 and len(late.window) == 1


def test_a_gap_holds_the_level_and_its_reasons():
    held = walk([3, 3])[-1]
    later = step(held, 0, [], JULY + timedelta(hours=3), RULES)
    assert later.level == 3 and later.reasons == held.reasons


def test_time_must_move_forward():
    state = step(None, 1, [], JULY, RULES)
    with pytest.raises(ValueError, match="not after"):
        step(state, 1, [], JULY, RULES)


def test_other_hysteresis_settings():
    quick = replace(RULES, hysteresis=replace(RULES.hysteresis, rise_after=1, fall_after=1))
    assert levels([2, 0, 3, 1], rules=quick) == [2, 0, 3, 1]
    slow = replace(RULES, hysteresis=replace(RULES.hysteresis, rise_after=3, fall_after=2))
    assert levels([1, 1, 1, 0, 0], rules=slow) == [0, 0, 1, 1, 0]


def test_the_gate_is_closed_before_june_and_opens_with_a_fresh_count():
    may = datetime(2026, 5, 31, 23, 30)
    states = walk([3, 3, 3, 3], start=may)
    assert [int(s.level) for s in states] == [0, 0, 0, 3]
    closed = states[1]
    assert closed.reasons[0]["dimension"] == "season_gate"
    assert "season gate closed" in closed.reasons[0]["rule"]
    assert closed.reasons[0]["value"] == 5
    assert closed.raw_level == 3 and closed.raw_reasons  # raw values stay visible
    assert closed.window == ()


def test_the_gate_closes_at_once_in_november():
    october = datetime(2026, 10, 31, 23, 30)
    states = walk([3, 3, 3, 3], start=october)
    assert [int(s.level) for s in states] == [0, 3, 0, 0]
    assert states[2].changed_at == datetime(2026, 11, 1, 0, 0)
    assert states[2].started_at is None


def test_gate_settings():
    january = datetime(2026, 1, 10, 12, 0)
    off = replace(RULES, season_gate=replace(RULES.season_gate, enabled=False))
    assert levels([2, 2], start=january, rules=off) == [0, 2]
    july_only = replace(RULES, season_gate=replace(RULES.season_gate, months=(7,)))
    assert levels([2, 2], start=datetime(2026, 6, 10), rules=july_only) == [0, 0]
    assert levels([2, 2], rules=july_only) == [0, 2]


def test_state_survives_json():
    for state in walk([1, 3, 3, 2, 0, 0], start=datetime(2026, 10, 31, 23, 0)):
        text = json.dumps(state.to_dict(), ensure_ascii=False)
        assert WarningState.from_dict(json.loads(text)) == state
    fresh = json.loads(json.dumps(walk([2, 2])[-1].to_dict()))
    assert fresh["level"] == 2 and fresh["started_at"] == (JULY + TICK).isoformat()
    assert fresh["window"][-1] == {"level": 2, "reasons": [reason(2, "step1")]}


def test_step_all_steps_every_evaluated_node():
    inputs = pd.DataFrame({"load_vs_peak": [1.2, 0.5]}, index=["C1", "D1"])
    evaluated = evaluate_dimensions(inputs, RULES)
    states = step_all({}, evaluated, JULY, RULES)
    states = step_all({**states, "GONE": states["C1"]}, evaluated, JULY + TICK, RULES)
    assert set(states) == {"C1", "D1"}
    assert states["C1"].level == 3 and states["C1"].reasons[0]["dimension"] == "load_vs_peak"
    assert states["D1"].level == 0
