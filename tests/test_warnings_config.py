"""config/warnings.yaml: the defaults load, and a malformed file is refused naming its line."""
from __future__ import annotations

import re

import pytest

from collectors.domain.warning_rules import GRID_LEVELS, DEFAULT_RULES_PATH, RulesError
from collectors.domain.warnings import load_rules

DEFAULT_TEXT = DEFAULT_RULES_PATH.read_text(encoding="utf-8")


def test_defaults_follow_domain_md():
    rules = load_rules()
    assert (rules.interval_minutes, rules.levels) == (15, ("city", "district", "station"))
    hysteresis = rules.hysteresis
    assert (hysteresis.rise_after, hysteresis.fall_after) == (2, 4)
    assert rules.season_gate.enabled and rules.season_gate.months == (6, 7, 8, 9, 10)
    assert [d.name for d in rules.dimensions] == [
        "temperature", "load_vs_peak", "tarea_load", "repair_surge", "overdue_arrival",
        "sensitive_orders", "key_customer"]
    guard = rules.dimensions[3].criteria[0].guard
    assert (guard.input, guard.at_least, guard.source) == ("repair_baseline", 5, "ASSUMED")


def test_grid_level_names_match_the_source_schema():
    from collectors.sources.schema import LEVELS
    assert GRID_LEVELS == LEVELS


def refusal(tmp_path, old: str, new: str) -> tuple[str, int, str]:
    """Load the default file with one edit; return (file, line, problem) of the refusal."""
    assert DEFAULT_TEXT.count(old) == 1, old
    path = tmp_path / "warnings.yaml"
    path.write_text(DEFAULT_TEXT.replace(old, new), encoding="utf-8")
    with pytest.raises(RulesError) as refused:
        load_rules(path)
    match = re.fullmatch(r"(.+?):(\d+): (.+)", str(refused.value), re.S)
    assert match, str(refused.value)
    return match[1], int(match[2]), match[3]


def line_of(marker: str, old: str, new: str) -> int:
    """The 1-based line of the first line holding marker in the edited file."""
    lines = DEFAULT_TEXT.replace(old, new).splitlines()
    return next(i for i, line in enumerate(lines, 1) if marker in line)


# (old text, new text, a marker on the line the refusal must name, words of the problem)
REFUSALS = [
    ("dimensions:\n", "dimensions:\n  fog: 1\n", "fog: 1", "must be a mapping"),
    ("season_gate:\n", "alerts: on\nseason_gate:\n", "alerts:", "unknown key 'alerts'"),
    ("        yellow: 0.90", "        yelow: 0.90", "yelow", "unknown key 'yelow'"),
    ("  fall_after: 4 ", "  # fall_after removed ", "hysteresis:", "missing key 'fall_after'"),
    ("        yellow: 0.90", "        yellow: high", "yellow: high", "must be a number"),
    ("        yellow: 0.90", "        yellow: '0.90'", "yellow: '0.90'", "must be a number"),
    ("        yellow: 0.90", "        yellow: .nan", "yellow: .nan", "must be finite"),
    ("        orange: 1.00", "        orange: 0.85", "orange: 0.85",
     "orange (0.85) must be greater than yellow (0.9)"),
    ("        red: 1.05", "        red: 1.00", "red: 1.00", "red (1) must be greater than orange"),
    ("        orange: 37\n        red: 40", "        orange: 41\n        red: 40", "red: 40",
     "red (40) must be greater than orange (41)"),
    ("months: [6, 7, 8, 9, 10]", "months: [6, 7, 13]", "months:", "13 is not a month"),
    ("months: [6, 7, 8, 9, 10]", "months:\n    - 6\n    - 0", "- 0", "0 is not a month"),
    ("months: [6, 7, 8, 9, 10]", "months: [6, 7, 6]", "months:", "listed twice"),
    ("months: [6, 7, 8, 9, 10]", "months: []", "months: []", "non-empty list"),
    ("months: [6, 7, 8, 9, 10]", "months: June", "months: June", "non-empty list"),
    ("enabled: true", "enabled: maybe", "enabled: maybe", "true or false"),
    ("      - input: media_escalations", "      - input: media", "input: media",
     "must be one of"),
    ("      - input: media_escalations", "      - input: sensitive_per_10k  # again",
     "# again", "used twice"),
    ('compare: ">"', 'compare: "<"', 'compare: "<"', "must be one of >=, >"),
    ("    source: DOC", "    source: GUESS", "source: GUESS", "must be one of DOC"),
    ("levels: [city, district, station]", "levels: [city, county]", "levels:",
     "got 'county'"),
    ("levels: [city, district, station]", "levels: [city, city]", "levels:", "listed twice"),
    ("interval_minutes: 15", "interval_minutes: 0", "interval_minutes", "greater than 0"),
    ("rise_after: 2", "rise_after: 1.5", "rise_after", "must be a whole number"),
    ("max_gap_minutes: 45", "max_gap_minutes: 10", "max_gap_minutes",
     "at least evaluation.interval_minutes"),
    ("# key customers with no supply\n        red: 1", "# key customers with no supply",
     "input: keycust_outages", "at least one of yellow"),
    ("  tarea_load:", "  load_vs_peak:", "  load_vs_peak:\n", "duplicate"),
    ("  tarea_load:", "  tarea load:", "tarea load:", "not a usable name"),
    ("  tarea_load:", "  season_gate:", "  season_gate:", "not a usable name"),
    ("          at_least: 5 ", "          at_least: [5] ", "at_least:", "must be a number"),
    ("title: {zh: 负荷, en: Load vs this year's peak}", "title: {zh: 负荷}", "zh: 负荷}",
     "missing key 'en'"),
    ("  interval_minutes: 15", "  interval_minutes: 15\n bad: [", "bad: [", "not valid YAML"),
]


@pytest.mark.parametrize("old,new,marker,problem", REFUSALS,
                         ids=[f"{i}:{r[3][:30]}" for i, r in enumerate(REFUSALS)])
def test_a_malformed_file_is_refused_naming_the_line(tmp_path, old, new, marker, problem):
    file, line, message = refusal(tmp_path, old, new)
    assert file == str(tmp_path / "warnings.yaml")
    assert problem in message
    if problem == "duplicate":  # the second occurrence is the bad one
        lines = DEFAULT_TEXT.replace(old, new).splitlines()
        assert line == [i for i, t in enumerate(lines, 1) if t == "  load_vs_peak:"][1]
    else:
        assert line == line_of(marker, old, new)


@pytest.mark.parametrize("text,problem", [
    ("", ":1: the rules file is empty"),
    ("- a\n- b\n", ":1: the rules file must be a mapping"),
    ("a: 1\n---\nb: 2\n", ":2: not valid YAML"),
])
def test_files_that_are_not_a_rule_set(tmp_path, text, problem):
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError, match=re.escape(f"{path}{problem}")):
        load_rules(path)
