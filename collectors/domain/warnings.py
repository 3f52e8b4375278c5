"""The 红橙黄 service-warning engine: pure functions, no Dash and no Redis (docs/warnings.md).

  evaluate_dimensions(inputs, rules)           raw level per node = the highest over the
                                               dimensions, with the reasons that raised it
  step(state, raw_level, reasons, now, rules)  one node's published level: hysteresis and the
                                               season gate
  WarningState.to_dict() / from_dict()         the JSON the collectors keep between evaluations
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from collectors.domain.warning_rules import (
    DEFAULT_RULES_PATH, GATE_DIMENSION, INPUT_COLUMNS, Criterion, Dimension, Level, Rules,
    RulesError, load_rules)

__all__ = [
    "DEFAULT_RULES_PATH", "INPUT_COLUMNS", "Level", "Rules", "RulesError", "WarningState",
    "Evaluation", "evaluate_dimensions", "gate_reason", "load_rules", "step", "step_all",
]

Reason = dict[str, Any]


# ---- raw levels --------------------------------------------------------------------------

def evaluate_dimensions(inputs: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """One row per node (same index): raw_level, reasons, and level_<dimension> for each one.

    `inputs` has one row per node code and any of INPUT_COLUMNS; a missing column or NaN is
    "no data" and never raises a level. reasons lists, highest level first, one reason per
    dimension at yellow or above: {dimension, level, input, value, threshold, rule, source}.
    """
    unknown = sorted(set(inputs.columns) - set(INPUT_COLUMNS))
    if unknown:
        raise ValueError(f"unknown warning input columns {unknown}; expected some of "
                         f"{list(INPUT_COLUMNS)}")
    if not inputs.index.is_unique:
        raise ValueError("inputs must have one row per node code")
    values = _numeric(inputs, rules)
    levels: dict[str, pd.Series] = {}
    winners: dict[str, pd.Series] = {}
    for dim in rules.dimensions:
        per_criterion = pd.concat([_criterion_level(values, crit) for crit in dim.criteria],
                                  axis=1, keys=range(len(dim.criteria)))
        levels[dim.name] = per_criterion.max(axis=1)
        # Among criteria reaching the dimension's level, the first in the file explains it.
        winners[dim.name] = per_criterion.idxmax(axis=1)
    level_frame = pd.DataFrame(levels, index=inputs.index, dtype="int64")
    out = pd.DataFrame({"raw_level": level_frame.max(axis=1).astype("int64")},
                       index=inputs.index)
    out["reasons"] = [_node_reasons(values, rules, levels, winners, row)
                      for row in range(len(inputs))]
    return out.join(level_frame.add_prefix("level_"))


def _numeric(inputs: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Every input the rules read, as floats; a missing column is all NaN (no data)."""
    nan = pd.Series(float("nan"), index=inputs.index)
    return pd.DataFrame({
        name: pd.to_numeric(inputs[name], errors="raise").astype("float64")
        if name in inputs.columns else nan for name in rules.inputs}, index=inputs.index)


def _criterion_level(values: pd.DataFrame, crit: Criterion) -> pd.Series:
    """NaN compares false with every threshold, so no data never raises a level."""
    value = values[crit.input]
    live = values[crit.guard.input].ge(crit.guard.at_least) if crit.guard else True
    reached = pd.Series(int(Level.NONE), index=values.index, dtype="int64")
    for level, threshold in crit.thresholds:  # ascending, so the highest level hit wins
        hit = value.gt(threshold) if crit.compare == ">" else value.ge(threshold)
        reached = reached.mask(hit & live, int(level))
    return reached


def _node_reasons(values: pd.DataFrame, rules: Rules, levels: dict[str, pd.Series],
                  winners: dict[str, pd.Series], row: int) -> list[Reason]:
    reasons = []
    for dim in rules.dimensions:
        level = Level(int(levels[dim.name].iat[row]))
        if level:
            crit = dim.criteria[int(winners[dim.name].iat[row])]
            reasons.append(_reason(dim, crit, level, float(values[crit.input].iat[row])))
    return sorted(reasons, key=lambda reason: -reason["level"])  # stable: file order in a tie


def _reason(dim: Dimension, crit: Criterion, level: Level, value: float) -> Reason:
    return {"dimension": dim.name, "level": int(level), "input": crit.input, "value": value,
            "threshold": crit.threshold(level), "rule": crit.describe(level),
            "source": dim.source}


def gate_reason(now: datetime, rules: Rules) -> Reason:
    """Why the published level is 0 outside the season, in the same shape as any reason."""
    gate = rules.season_gate
    months = ", ".join(str(month) for month in gate.months)
    return {"dimension": GATE_DIMENSION, "level": int(Level.NONE), "input": "month",
            "value": now.month, "threshold": list(gate.months),
            "rule": f"season gate closed: warnings are issued in months {months}",
            "source": gate.source}


# ---- published level: hysteresis and season gate ----------------------------------------

@dataclass(frozen=True)
class Evaluation:
    """One raw evaluation remembered for hysteresis."""
    level: Level
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class WarningState:
    """One node's warning between evaluations. Times are naive CST, like the clock's."""
    level: Level                     # the published level
    reasons: tuple[Reason, ...]      # the evaluation that backs `level` (or the gate reason)
    started_at: datetime | None      # when the level rose from 0; None while it is 0
    changed_at: datetime | None      # the last level change; None if it never changed
    evaluated_at: datetime           # the `now` of the latest step
    raw_level: Level                 # the latest raw evaluation, shown even when gated
    raw_reasons: tuple[Reason, ...]
    window: tuple[Evaluation, ...]   # recent in-season evaluations, oldest first

    @property
    def pending_level(self) -> Level | None:
        """The latest raw level while it pulls away from the published one, else None."""
        if not self.window or self.window[-1].level == self.level:
            return None
        return self.window[-1].level

    @property
    def pending_count(self) -> int:
        """Evaluations in a row on the side of the published level where the latest one is."""
        def side(level: Level) -> int:
            return (level > self.level) - (level < self.level)
        count = 0
        for past in reversed(self.window):
            if side(past.level) == 0 or side(past.level) != side(self.window[-1].level):
                break
            count += 1
        return count

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready. pending_level and pending_count are derived, for readers only."""
        return {
            "level": int(self.level), "reasons": list(self.reasons),
            "started_at": _iso(self.started_at), "changed_at": _iso(self.changed_at),
            "evaluated_at": _iso(self.evaluated_at),
            "raw_level": int(self.raw_level), "raw_reasons": list(self.raw_reasons),
            "window": [{"level": int(e.level), "reasons": list(e.reasons)} for e in self.window],
            "pending_level": None if self.pending_level is None else int(self.pending_level),
            "pending_count": self.pending_count,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WarningState:
        return cls(
            level=Level(data["level"]), reasons=tuple(data["reasons"]),
            started_at=_time(data["started_at"]), changed_at=_time(data["changed_at"]),
            evaluated_at=_time(data["evaluated_at"]),
            raw_level=Level(data["raw_level"]), raw_reasons=tuple(data["raw_reasons"]),
            window=tuple(Evaluation(Level(e["level"]), tuple(e["reasons"]))
                         for e in data["window"]))


def step(state: WarningState | None, raw_level: int, reasons: Iterable[Reason],
         now: datetime, rules: Rules) -> WarningState:
    """The node's next state after one evaluation (state None: the node's first evaluation).

    In season, the published level rises to min(raw over the last rise_after evaluations) when
    that is above it, and falls to max(raw over the last fall_after evaluations) when that is
    below it. Out of season it is 0 at once and the hysteresis memory is cleared.
    """
    if state is not None and now <= state.evaluated_at:
        raise ValueError(f"evaluation at {now} is not after the previous one at "
                         f"{state.evaluated_at}")
    raw_level, reasons = Level(raw_level), tuple(reasons)
    before = state.level if state else Level.NONE
    if rules.season_gate.is_open(now):
        window = _window(state, Evaluation(raw_level, reasons), now, rules)
        level = _hysteresis_level(before, window, rules)
        backing = _backing_reasons(level, window, state.reasons if state else ())
    else:
        window, level, backing = (), Level.NONE, (gate_reason(now, rules),)
    return WarningState(
        level=level, reasons=backing,
        started_at=(state.started_at if before else now) if level else None,
        changed_at=now if level != before else (state.changed_at if state else None),
        evaluated_at=now, raw_level=raw_level, raw_reasons=reasons, window=window)


def step_all(states: Mapping[str, WarningState], evaluated: pd.DataFrame, now: datetime,
             rules: Rules) -> dict[str, WarningState]:
    """step() for every node of evaluate_dimensions' output; nodes not in it are dropped."""
    return {code: step(states.get(code), level, reasons, now, rules)
            for code, level, reasons in zip(evaluated.index, evaluated["raw_level"],
                                            evaluated["reasons"])}


def _window(state: WarningState | None, latest: Evaluation, now: datetime,
            rules: Rules) -> tuple[Evaluation, ...]:
    """The remembered evaluations plus the latest; a long gap breaks "in a row"."""
    gap = timedelta(minutes=rules.hysteresis.max_gap_minutes)
    if state is None or now - state.evaluated_at > gap:
        return (latest,)
    return (state.window + (latest,))[-rules.hysteresis.window:]


def _hysteresis_level(current: Level, window: tuple[Evaluation, ...], rules: Rules) -> Level:
    raw = [evaluation.level for evaluation in window]
    rise, fall = rules.hysteresis.rise_after, rules.hysteresis.fall_after
    if len(raw) >= rise and min(raw[-rise:]) > current:
        return min(raw[-rise:])
    if len(raw) >= fall and max(raw[-fall:]) < current:
        return max(raw[-fall:])
    return current


def _backing_reasons(level: Level, window: tuple[Evaluation, ...],
                     previous: tuple[Reason, ...]) -> tuple[Reason, ...]:
    """The reasons of the newest remembered evaluation at or above the published level.

    A change of level always has one (the evaluations that caused it). A held level keeps
    its previous reasons when a long gap restarted the memory without such an evaluation.
    """
    if not level:
        return ()
    backing = [e for e in window if e.level >= level]
    return backing[-1].reasons if backing else previous


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
