"""The 红橙黄 warning rule set: frozen dataclasses and a strict loader for config/warnings.yaml.

A rules file is accepted whole or refused whole. Every problem is raised as a RulesError that
reads '<file>:<line>: <problem>'. The line comes from the marks of the composed YAML node tree,
so the engine never runs on half a config and an operator can find the typo.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from pathlib import Path

import yaml
from yaml.constructor import SafeConstructor

from config import CONFIG_DIR

DEFAULT_RULES_PATH = CONFIG_DIR / "warnings.yaml"

# The grid level names of collectors.sources.schema.LEVELS (a test keeps them equal). Not
# imported, so that this module stays free of SQLAlchemy.
GRID_LEVELS = ("city", "district", "station", "feeder", "tarea")
SOURCES = ("DOC", "PRACTICE", "ASSUMED")
GATE_DIMENSION = "season_gate"  # the `dimension` of the reason given when the gate is closed
COMPARES = (">=", ">")

# The inputs the collectors compute per node, one column each (docs/warnings.md defines them
# precisely). A rule may only name these, so a typo in the YAML is refused instead of turning
# into a dimension that silently never fires.
INPUT_COLUMNS = (
    "temp_max_c", "hot_days", "load_vs_peak", "heavy_share", "overload_share",
    "repair_growth", "repair_baseline", "overdue_arrival_share", "key_customer_overdue",
    "sensitive_per_10k", "media_escalations", "keycust_one_source_lost",
    "keycust_single_source_minutes", "keycust_outages",
)


class Level(IntEnum):
    NONE = 0
    YELLOW = 1
    ORANGE = 2
    RED = 3


LEVEL_KEYS = {"yellow": Level.YELLOW, "orange": Level.ORANGE, "red": Level.RED}


class RulesError(ValueError):
    """A rules file that is refused; the message names the file, the line and the problem."""


@dataclass(frozen=True)
class Guard:
    """The criterion is evaluated only where `input` >= `at_least` (else: no data)."""
    input: str
    at_least: float
    source: str


@dataclass(frozen=True)
class Criterion:
    """One input compared with up to three thresholds; the highest level reached wins."""
    input: str
    compare: str
    thresholds: tuple[tuple[Level, float], ...]  # ascending by level and by value
    guard: Guard | None

    def threshold(self, level: Level) -> float:
        return dict(self.thresholds)[level]

    def describe(self, level: Level) -> str:
        text = f"{self.input} {self.compare} {self.threshold(level):g}"
        if self.guard:
            text += f" (evaluated when {self.guard.input} >= {self.guard.at_least:g})"
        return text


@dataclass(frozen=True)
class Dimension:
    name: str
    title_zh: str
    title_en: str
    source: str
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class Hysteresis:
    rise_after: int
    fall_after: int
    max_gap_minutes: float
    source: str

    @property
    def window(self) -> int:
        """How many recent evaluations the state must remember."""
        return max(self.rise_after, self.fall_after)


@dataclass(frozen=True)
class SeasonGate:
    enabled: bool
    months: tuple[int, ...]
    source: str

    def is_open(self, when: datetime) -> bool:
        return not self.enabled or when.month in self.months


@dataclass(frozen=True)
class Rules:
    path: str
    interval_minutes: int
    levels: tuple[str, ...]
    hysteresis: Hysteresis
    season_gate: SeasonGate
    hot_day_min_c: float
    dimensions: tuple[Dimension, ...]

    @property
    def inputs(self) -> tuple[str, ...]:
        """Every input column the rules read, guards included, in file order."""
        names = []
        for dim in self.dimensions:
            for crit in dim.criteria:
                names.append(crit.input)
                if crit.guard:
                    names.append(crit.guard.input)
        return tuple(names)


def load_rules(path: str | Path = DEFAULT_RULES_PATH) -> Rules:
    """Read and validate a rules file; raise RulesError('<file>:<line>: <problem>') if bad."""
    path = Path(path)
    top = _Map(path, _compose(path), "")
    interval, levels = _evaluation(top.mapping("evaluation"))
    rules = Rules(
        path=str(path), interval_minutes=interval, levels=levels,
        hysteresis=_hysteresis(top.mapping("hysteresis"), interval),
        season_gate=_season_gate(top.mapping("season_gate")),
        hot_day_min_c=_hot_day_min_c(top.mapping("input_parameters")),
        dimensions=_dimensions(top.mapping("dimensions")))
    top.close()
    return rules


def _compose(path: Path) -> yaml.Node:
    """The YAML node tree: unlike yaml.safe_load it keeps the line of every key and value."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except UnicodeDecodeError as exc:
        raise RulesError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise RulesError(f"{path}:{line}: not valid YAML: {exc.problem or exc.context}") from None
    if root is None:
        raise RulesError(f"{path}:1: the rules file is empty")
    return root


def _evaluation(section: _Map) -> tuple[int, tuple[str, ...]]:
    interval = int(section.number("interval_minutes", integer=True, above=0))
    levels: list[str] = []
    for node in section.sequence("levels"):
        level = section.text_of(node, section.path("levels"), GRID_LEVELS)
        if level in levels:
            raise _error(section.file, node, f"{section.path('levels')}: '{level}' is listed twice")
        levels.append(level)
    section.close()
    return interval, tuple(levels)


def _hysteresis(section: _Map, interval: int) -> Hysteresis:
    result = Hysteresis(
        rise_after=int(section.number("rise_after", integer=True, above=0)),
        fall_after=int(section.number("fall_after", integer=True, above=0)),
        max_gap_minutes=section.number("max_gap_minutes"),
        source=section.text("source", SOURCES))
    if result.max_gap_minutes < interval:
        # A smaller gap would restart the hysteresis at every evaluation: it could never rise.
        raise _error(section.file, section.node_of("max_gap_minutes"),
                     f"{section.path('max_gap_minutes')} ({result.max_gap_minutes:g}) must be "
                     f"at least evaluation.interval_minutes ({interval})")
    section.close()
    return result


def _season_gate(section: _Map) -> SeasonGate:
    enabled = section.flag("enabled")
    months: list[int] = []
    for node in section.sequence("months"):
        what = section.path("months")
        month = int(section.number_of(node, what, integer=True))
        if not 1 <= month <= 12:
            raise _error(section.file, node, f"{what}: {month} is not a month (1-12)")
        if month in months:
            raise _error(section.file, node, f"{what}: {month} is listed twice")
        months.append(month)
    result = SeasonGate(enabled=enabled, months=tuple(months),
                        source=section.text("source", SOURCES))
    section.close()
    return result


def _hot_day_min_c(section: _Map) -> float:
    value = section.number("hot_day_min_c")
    section.close()
    return value


def _dimensions(section: _Map) -> tuple[Dimension, ...]:
    if not section.keys():
        raise _error(section.file, section.anchor, "dimensions: at least one dimension is needed")
    used: set[str] = set()
    return tuple(_dimension(section, name, used) for name in section.keys())


def _dimension(parent: _Map, name: str, used: set[str]) -> Dimension:
    section = parent.mapping(name)
    # The name becomes a level_<name> column and a reason's `dimension`; the gate owns its own.
    if not name.isidentifier() or name == GATE_DIMENSION:
        raise _error(parent.file, section.anchor, f"dimensions: '{name}' is not a usable name "
                     f"(letters, digits and _, and not '{GATE_DIMENSION}')")
    title = section.mapping("title")
    criteria = tuple(_criterion(_Map(parent.file, node, section.path(f"criteria[{i}]")), used)
                     for i, node in enumerate(section.sequence("criteria")))
    result = Dimension(name=name, title_zh=title.text("zh"), title_en=title.text("en"),
                       source=section.text("source", SOURCES), criteria=criteria)
    section.optional_text("note")  # free text for people reading the file
    title.close()
    section.close()
    return result


def _criterion(section: _Map, used: set[str]) -> Criterion:
    name = _fresh_input(section, "input", used)
    compare = section.optional_text("compare", COMPARES) or ">="
    thresholds = []
    for key, level in LEVEL_KEYS.items():
        if section.has(key):
            value = section.number(key)
            if thresholds and value <= thresholds[-1][1]:
                raise _error(section.file, section.node_of(key),
                             f"{section.where}: {key} ({value:g}) must be greater than "
                             f"{thresholds[-1][0].name.lower()} ({thresholds[-1][1]:g})")
            thresholds.append((level, value))
    if not thresholds:
        raise _error(section.file, section.anchor, f"{section.where}: {name} needs at least one "
                     "of yellow, orange, red")
    guard = _guard(section.mapping("guard"), used) if section.has("guard") else None
    section.close()
    return Criterion(input=name, compare=compare, thresholds=tuple(thresholds), guard=guard)


def _guard(section: _Map, used: set[str]) -> Guard:
    result = Guard(input=_fresh_input(section, "input", used),
                   at_least=section.number("at_least"), source=section.text("source", SOURCES))
    section.close()
    return result


def _fresh_input(section: _Map, key: str, used: set[str]) -> str:
    """An input column may feed one rule only, so that each reason has one owner."""
    name = section.text(key, INPUT_COLUMNS)
    if name in used:
        raise _error(section.file, section.node_of(key), f"input '{name}' is used twice")
    used.add(name)
    return name


def _error(file: Path, node: yaml.Node, problem: str) -> RulesError:
    return RulesError(f"{file}:{node.start_mark.line + 1}: {problem}")


class _Map:
    """One YAML mapping being read. Keys are read by name; close() refuses any key left unread.

    `anchor` is the node a missing key is reported at: the mapping's own key when it has one,
    because that is the line a reader looks for.
    """

    def __init__(self, file: Path, node: yaml.Node, where: str, anchor: yaml.Node | None = None):
        self.file, self.node, self.anchor = file, node, anchor or node
        self.where = where or "the rules file"
        self._prefix = f"{where}." if where else ""
        if not isinstance(node, yaml.MappingNode):
            raise _error(file, node, f"{self.where} must be a mapping")
        self._keys: dict[str, yaml.Node] = {}
        self._values: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or key in self._values:
                raise _error(file, key_node, f"{self.where}: duplicate or invalid key {key!r}")
            self._keys[key], self._values[key] = key_node, value_node
        self._asked: set[str] = set()

    def keys(self) -> list[str]:
        return list(self._values)

    def path(self, key: str) -> str:
        """The dotted name of a key, for messages: dimensions.load_vs_peak.criteria[0].red."""
        return self._prefix + key

    def has(self, key: str) -> bool:
        self._asked.add(key)
        return key in self._values

    def node_of(self, key: str) -> yaml.Node:
        if not self.has(key):
            raise _error(self.file, self.anchor, f"{self.where}: missing key '{key}'")
        return self._values[key]

    def mapping(self, key: str) -> _Map:
        return _Map(self.file, self.node_of(key), self.path(key), self._keys[key])

    def sequence(self, key: str) -> list[yaml.Node]:
        node = self.node_of(key)
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise _error(self.file, node, f"{self.path(key)} must be a non-empty list")
        return node.value

    def number(self, key: str, **limits) -> float:
        return self.number_of(self.node_of(key), self.path(key), **limits)

    def number_of(self, node: yaml.Node, what: str, integer: bool = False,
                  above: float | None = None) -> float:
        allowed = {"tag:yaml.org,2002:int"} | (set() if integer else {"tag:yaml.org,2002:float"})
        kind = "a whole number" if integer else "a number"
        if not isinstance(node, yaml.ScalarNode) or node.tag not in allowed:
            raise _error(self.file, node, f"{what} must be {kind}, got {_shown(node)}")
        value = SafeConstructor().construct_object(node)
        if not math.isfinite(value):
            raise _error(self.file, node, f"{what} must be finite, got {node.value}")
        if above is not None and value <= above:
            raise _error(self.file, node, f"{what} must be greater than {above:g}, "
                         f"got {node.value}")
        return float(value)

    def flag(self, key: str) -> bool:
        node = self.node_of(key)
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            raise _error(self.file, node, f"{self.path(key)} must be true or false, "
                         f"got {_shown(node)}")
        return SafeConstructor().construct_object(node)

    def text(self, key: str, choices: tuple[str, ...] | None = None) -> str:
        return self.text_of(self.node_of(key), self.path(key), choices)

    def optional_text(self, key: str, choices: tuple[str, ...] | None = None) -> str | None:
        return self.text(key, choices) if self.has(key) else None

    def text_of(self, node: yaml.Node, what: str, choices: tuple[str, ...] | None) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str" \
                or not node.value.strip():
            raise _error(self.file, node, f"{what} must be a non-empty text, got {_shown(node)}")
        if choices and node.value not in choices:
            raise _error(self.file, node, f"{what} must be one of {', '.join(choices)}, "
                         f"got '{node.value}'")
        return node.value

    def close(self) -> None:
        for key, key_node in self._keys.items():
            if key not in self._asked:
                expected = ", ".join(sorted(self._asked)) or "none"
                raise _error(self.file, key_node,
                             f"{self.where}: unknown key '{key}' (expected: {expected})")


def _shown(node: yaml.Node) -> str:
    return f"'{node.value}'" if isinstance(node, yaml.ScalarNode) else f"a {node.id}"
