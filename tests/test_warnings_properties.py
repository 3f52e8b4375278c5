"""Properties of the warning engine over generated inputs and raw-level sequences."""
from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import datetime, timedelta

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.domain.warnings import (
    INPUT_COLUMNS, WarningState, evaluate_dimensions, load_rules, step)

RULES = load_rules()
JULY = datetime(2026, 7, 15, 0, 0)
TICK = timedelta(minutes=RULES.interval_minutes)

# Values straddle every default threshold; NaN is "no data".
value = st.one_of(st.just(math.nan), st.floats(0, 60, allow_nan=False))
node = st.fixed_dictionaries({name: value for name in INPUT_COLUMNS})


def evaluated(*nodes: dict) -> list[pd.Series]:
    frame = evaluate_dimensions(pd.DataFrame(list(nodes), dtype="float64"), RULES)
    return [row for _, row in frame.iterrows()]


@settings(max_examples=100, deadline=None)
@given(node, st.sampled_from(INPUT_COLUMNS), st.floats(0, 60, allow_nan=False))
def test_raising_one_input_never_lowers_a_level(inputs, name, increase):
    # Going from no data to any value counts as raising it.
    raised = increase if math.isnan(inputs[name]) else inputs[name] + increase
    before, after = evaluated(inputs, {**inputs, name: raised})
    level_columns = [c for c in before.index if c == "raw_level" or c.startswith("level_")]
    for column in level_columns:
        assert after[column] >= before[column], column


@settings(max_examples=50, deadline=None)
@given(node)
def test_reasons_match_the_levels(inputs):
    row, = evaluated(inputs)
    assert row["raw_level"] == max([r["level"] for r in row["reasons"]], default=0)
    for reason in row["reasons"]:
        assert row[f"level_{reason['dimension']}"] == reason["level"]
        assert reason["value"] == inputs[reason["input"]]


raw_levels = st.lists(st.integers(0, 3), min_size=1, max_size=30)
windows = st.tuples(st.integers(1, 5), st.integers(1, 5))


@settings(max_examples=200, deadline=None)
@given(raw_levels, windows)
def test_hysteresis_bounds(raws, rise_fall):
    rise, fall = rise_fall
    rules = replace(RULES, hysteresis=replace(RULES.hysteresis, rise_after=rise, fall_after=fall))
    state, published = None, []
    for i, raw in enumerate(raws):
        state = step(state, raw, [{"level": raw}] if raw else [], JULY + i * TICK, rules)
        published.append(int(state.level))
        seen = raws[: i + 1]
        before = published[-2] if i else 0
        # Never above what the last `fall` evaluations saw: a level is held, not invented.
        assert state.level <= max(seen[-fall:])
        if state.level > before:  # a rise needs `rise` evaluations in a row at the new level
            assert len(seen) >= rise and min(seen[-rise:]) == state.level
        if state.level < before:  # a fall needs `fall` evaluations in a row below the old one
            assert len(seen) >= fall and max(seen[-fall:]) == state.level
        if len(seen) >= rise and rise <= fall:
            assert state.level >= min(seen[-rise:])
        assert WarningState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
