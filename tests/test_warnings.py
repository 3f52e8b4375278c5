"""The 红橙黄 raw levels: every default rule at its boundaries, and the input contract."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from collectors.domain.warnings import INPUT_COLUMNS, Level, evaluate_dimensions, load_rules

RULES = load_rules()
NONE, YELLOW, ORANGE, RED = Level.NONE, Level.YELLOW, Level.ORANGE, Level.RED
EPS = 1e-9


def raw(**inputs) -> tuple[int, list[dict]]:
    """The raw level and reasons of one node with these inputs."""
    out = evaluate_dimensions(pd.DataFrame([inputs], index=["N1"], dtype="float64"), RULES)
    return int(out.at["N1", "raw_level"]), out.at["N1", "reasons"]


# (dimension, input, threshold, level at the threshold, level just below, extra inputs).
# The numbers are DOMAIN.md's table, written out so that a wrong number in the YAML fails.
BOUNDARIES = [
    ("temperature", "hot_days", 3, YELLOW, NONE, {}),
    ("temperature", "temp_max_c", 37, ORANGE, NONE, {}),
    ("temperature", "temp_max_c", 40, RED, ORANGE, {}),
    ("load_vs_peak", "load_vs_peak", 0.90, YELLOW, NONE, {}),
    ("load_vs_peak", "load_vs_peak", 1.00, ORANGE, YELLOW, {}),
    ("load_vs_peak", "load_vs_peak", 1.05, RED, ORANGE, {}),
    ("tarea_load", "heavy_share", 0.03, YELLOW, NONE, {}),
    ("tarea_load", "heavy_share", 0.05, ORANGE, YELLOW, {}),
    ("tarea_load", "heavy_share", 0.08, RED, ORANGE, {}),
    ("tarea_load", "overload_share", 0.01, ORANGE, NONE, {}),
    ("tarea_load", "overload_share", 0.02, RED, ORANGE, {}),
    ("repair_surge", "repair_growth", 0.30, YELLOW, NONE, {"repair_baseline": 5}),
    ("repair_surge", "repair_growth", 0.60, ORANGE, YELLOW, {"repair_baseline": 5}),
    ("repair_surge", "repair_growth", 1.00, RED, ORANGE, {"repair_baseline": 5}),
    ("overdue_arrival", "overdue_arrival_share", 0.05, YELLOW, NONE, {}),
    ("overdue_arrival", "overdue_arrival_share", 0.10, ORANGE, YELLOW, {}),
    ("overdue_arrival", "overdue_arrival_share", 0.20, RED, ORANGE, {}),
    ("overdue_arrival", "key_customer_overdue", 1, RED, NONE, {}),
    ("sensitive_orders", "sensitive_per_10k", 0.5, YELLOW, NONE, {}),
    ("sensitive_orders", "sensitive_per_10k", 1, ORANGE, YELLOW, {}),
    ("sensitive_orders", "sensitive_per_10k", 2, RED, ORANGE, {}),
    ("sensitive_orders", "media_escalations", 1, RED, NONE, {}),
    ("key_customer", "keycust_one_source_lost", 1, YELLOW, NONE, {}),
    ("key_customer", "keycust_outages", 1, RED, NONE, {}),
]


@pytest.mark.parametrize("dimension,name,threshold,at,below,extra", BOUNDARIES,
                         ids=[f"{b[1]}>={b[2]}" for b in BOUNDARIES])
def test_each_rule_at_its_boundary(dimension, name, threshold, at, below, extra):
    assert raw(**{name: threshold - EPS}, **extra)[0] == below
    assert raw(**{name: threshold + EPS}, **extra)[0] == at
    level, reasons = raw(**{name: threshold}, **extra)
    assert level == at
    assert reasons[0] == {
        "dimension": dimension, "level": int(at), "input": name, "value": threshold,
        "threshold": threshold, "rule": reasons[0]["rule"], "source": reasons[0]["source"]}
    assert reasons[0]["rule"].startswith(f"{name} >= {threshold:g}")


def test_single_source_is_orange_only_beyond_30_minutes():
    # The table says "> 30 min": at exactly 30 minutes the customer is still yellow at most.
    assert raw(keycust_single_source_minutes=30)[0] == NONE
    assert raw(keycust_single_source_minutes=30 + EPS)[0] == ORANGE
    level, reasons = raw(keycust_one_source_lost=1, keycust_single_source_minutes=31)
    assert level == ORANGE and reasons[0]["rule"] == "keycust_single_source_minutes > 30"


def test_temperature_source_is_the_cma_scale_and_the_rest_assumed():
    sources = {dim.name: dim.source for dim in RULES.dimensions}
    assert sources.pop("temperature") == "DOC"
    assert set(sources.values()) == {"ASSUMED"}
    assert RULES.hot_day_min_c == 35


def test_no_surge_is_evaluated_over_a_tiny_baseline():
    assert raw(repair_growth=5.0, repair_baseline=5 - EPS)[0] == NONE
    assert raw(repair_growth=5.0, repair_baseline=float("nan"))[0] == NONE
    assert raw(repair_growth=5.0)[0] == NONE
    level, reasons = raw(repair_growth=5.0, repair_baseline=5)
    assert level == RED and "repair_baseline >= 5" in reasons[0]["rule"]


def test_no_data_never_raises_a_level():
    assert raw()[0] == NONE
    assert raw(**{name: float("nan") for name in INPUT_COLUMNS})[0] == NONE
    assert raw(load_vs_peak=float("nan"), heavy_share=0.05)[0] == ORANGE


def test_level_is_the_highest_over_dimensions_with_reasons_highest_first():
    level, reasons = raw(hot_days=4, load_vs_peak=1.06, heavy_share=0.06, temp_max_c=30)
    assert level == RED
    assert [(r["dimension"], r["level"]) for r in reasons] == [
        ("load_vs_peak", 3), ("tarea_load", 2), ("temperature", 1)]


def test_a_dimension_is_explained_by_its_highest_criterion_first_in_the_file_on_a_tie():
    assert raw(heavy_share=0.04, overload_share=0.03)[1][0]["input"] == "overload_share"
    assert raw(heavy_share=0.06, overload_share=0.015)[1][0]["input"] == "heavy_share"


def test_many_nodes_keep_their_codes_and_get_a_level_per_dimension():
    inputs = pd.DataFrame({"load_vs_peak": [0.5, 0.95, None], "media_escalations": [0, 0, 2]},
                          index=pd.Index(["C1", "D1", "S1"], name="code"))
    out = evaluate_dimensions(inputs, RULES)
    assert list(out.index) == ["C1", "D1", "S1"]
    assert out["raw_level"].tolist() == [0, 1, 3]
    assert out["level_load_vs_peak"].tolist() == [0, 1, 0]
    assert out["level_sensitive_orders"].tolist() == [0, 0, 3]
    assert out.at["C1", "reasons"] == []


def test_no_nodes_give_an_empty_frame():
    out = evaluate_dimensions(pd.DataFrame({"load_vs_peak": []}), RULES)
    assert out.empty and "raw_level" in out.columns


@pytest.mark.parametrize("frame,problem", [
    (pd.DataFrame({"load_vs_peek": [1.0]}), "unknown warning input"),
    (pd.DataFrame({"load_vs_peak": [1.0, 1.0]}, index=["A", "A"]), "one row per node"),
    (pd.DataFrame({"load_vs_peak": ["high"]}), "Unable to parse"),
])
def test_bad_inputs_are_refused(frame, problem):
    with pytest.raises(ValueError, match=problem):
        evaluate_dimensions(frame, RULES)


def test_reason_values_are_plain_json_numbers():
    reason = raw(key_customer_overdue=2)[1][0]
    assert type(reason["value"]) is float and math.isfinite(reason["value"])
    assert type(reason["threshold"]) is float and type(reason["level"]) is int
