"""The 红橙黄 service warning: evaluated per 地市, 区县 and 供电所 every evaluation interval.

It reads no source system: its inputs are the other collectors' per-node frames in the shared
context (collectors/domain/warning_inputs.py). The hysteresis memory (WarningState per node) is
kept in Redis, so a restart continues where the last process stopped, and every change of level
is appended to a bounded history (collectors/redis_schema.py). The rules file is loaded when the
collector is built: a malformed one stops the collectors from starting, with its line number.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime

import pandas as pd

from collectors import redis_schema as keys
from collectors.base import Collector
from collectors.domain import warnings as engine
from collectors.domain.warning_inputs import build_inputs
from collectors.domain.warning_rules import RulesError
from collectors.publish import Dataset, dumps
from config.limits import limits

log = logging.getLogger("collectors")
LEVEL_NAMES = {int(level): level.name.lower() for level in engine.Level}
# the frames the inputs come from; before each has arrived once, evaluation waits (see cycle)
SOURCES = ("weather.daily_max", "scada.nodes", "ami.nodes", "orders.nodes", "orders.sensitive",
           "keycustomers.nodes")


def change_entry(code: str, at: datetime, was: int, level: int, reasons: list[dict]) -> str:
    """One level change as kept in the history lists (JSON)."""
    return dumps({"code": code, "at": at.isoformat(timespec="seconds"), "from": LEVEL_NAMES[int(was)],
                  "to": LEVEL_NAMES[int(level)], "level": int(level), "reasons": reasons})


class InputsNotReady(RuntimeError):
    pass


class WarningsCollector(Collector):
    name = "warnings"

    def __init__(self, ctx, rules_path=engine.DEFAULT_RULES_PATH):
        super().__init__(ctx)
        self.rules = engine.load_rules(rules_path)          # RulesError: refuse to start
        self.titles = {d.name: {"zh": d.title_zh, "en": d.title_en} for d in self.rules.dimensions}
        uncapped = set(self.rules.levels) - set(limits()["warning_history"]["max_entries"])
        if uncapped:
            raise RulesError(f"config/limits.yaml warning_history.max_entries has no cap for the "
                             f"evaluated level(s) {', '.join(sorted(uncapped))}")
        self.states: dict[str, engine.WarningState] | None = None
        self.inputs = pd.DataFrame()
        self.first_attempt: datetime | None = None
        self._client = None

    @property
    def client(self):
        if self._client is None:
            if not self.ctx.settings.redis_url:
                raise RuntimeError("the warnings collector keeps its state in Redis: REDIS_URL is not set")
            self._client = keys.connect(self.ctx.settings.redis_url)
        return self._client

    def collect(self) -> dict[str, pd.DataFrame]:
        """Nothing to poll; the first cycle reads the hysteresis memory back from Redis."""
        if self.states is None:
            self.states = self._load_states()
        return {}

    def _load_states(self) -> dict[str, engine.WarningState]:
        now = self.ctx.clock.now()
        states = {}
        for code, raw in self.client.hgetall(keys.WARNING_STATE).items():
            state = engine.WarningState.from_dict(json.loads(raw))
            if state.evaluated_at < now:   # a state from a later clock cannot be continued
                states[code] = state
            else:
                log.warning("warning state of %s is from %s, after now (%s): dropped", code,
                            state.evaluated_at, now)
        return states

    def absorb(self, batches, now: datetime) -> list[dict]:
        self._wait_for_inputs(now)
        self.inputs = build_inputs(self.ctx.frames, self.tree, now, self.rules.levels, self.rules.hot_day_min_c)
        evaluated = engine.evaluate_dimensions(self.inputs, self.rules)
        before = self.states
        after = engine.step_all(before, evaluated, now, self.rules)
        self._save(before, after, now)
        self.states = after
        return []

    def _wait_for_inputs(self, now: datetime) -> None:
        """Right after a start the other collectors may not have run yet: an evaluation on no data
        would count toward a fall. Wait for them, but at most one interval (a source that stays
        down must not stop the warnings: its inputs are then "no data")."""
        missing = [s for s in SOURCES if s not in self.ctx.frames]
        self.first_attempt = self.first_attempt or now
        if missing and (now - self.first_attempt).total_seconds() < self.interval_s:
            raise InputsNotReady(f"waiting for {', '.join(missing)}")

    def _save(self, before: dict, after: dict, now: datetime) -> None:
        """The new states and every change of level, in one transaction."""
        cfg = limits()["warning_history"]
        score = now.timestamp()
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(keys.WARNING_STATE, mapping={code: dumps(s.to_dict()) for code, s in after.items()})
        anc = self.tree.ancestors
        for code, state in after.items():
            was = before[code].level if code in before else engine.Level.NONE
            if state.level != was:
                change = change_entry(code, now, was, state.level, self._titled(state.reasons))
                for node in anc.loc[code, list(self.rules.levels)].dropna().unique():
                    pipe.zadd(keys.warning_history_key(node), {change: score})
        oldest = score - cfg["retention_days"] * 86400
        level_of = self.tree.nodes["level"]
        for code in after:
            history = keys.warning_history_key(code)
            pipe.zremrangebyscore(history, "-inf", f"({oldest}")
            pipe.zremrangebyrank(history, 0, -cfg["max_entries"][level_of[code]] - 1)
        pipe.execute()

    def _titled(self, reasons) -> list[dict]:
        return [{**r, "title": self.titles.get(r["dimension"])} for r in reasons]

    def datasets(self, now: datetime) -> list[Dataset]:
        columns = list(self.inputs.columns)
        values = self.inputs.to_numpy(dtype="float64").tolist() if columns else []
        row_of = dict(zip(self.inputs.index, values))
        entries = {}
        for code, state in self.states.items():
            row = row_of.get(code, [])
            inputs = dict(zip(columns, [None if x != x else round(x, 9) for x in row]))
            entries[code] = {
                "level": int(state.level), "level_name": LEVEL_NAMES[int(state.level)],
                "reasons": self._titled(state.reasons), "started_at": _iso(state.started_at),
                "changed_at": _iso(state.changed_at), "evaluated_at": _iso(state.evaluated_at),
                "raw_level": int(state.raw_level), "raw_reasons": self._titled(state.raw_reasons),
                "pending_level": None if state.pending_level is None else int(state.pending_level),
                "pending_count": state.pending_count,
                "inputs": inputs,
                "no_data": [c for c in engine.INPUT_COLUMNS if inputs.get(c) is None]}
        return [Dataset("warnings", now, entries)]


def _iso(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when else None
