"""The 逢停必较 audit on hand-made cases: each kind of finding, with its evidence, and a properly
reported outage that must not be flagged."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from collectors.plugins.events import EventsCollector
from collectors.plugins.outages import OutagesCollector
from collectors.plugins.topology import TopologyCollector
from tests.kpi_harness import Harness, insert
from tests.sourcedata import fmt

NOW = datetime(2026, 7, 15, 14, 20)
S = timedelta(seconds=40)


def at(h, m=0):
    return datetime(2026, 7, 15, h, m)


def breaker(eid, feeder, kind, ts):
    return {"event_id": eid, "feeder_code": feeder, "event": kind, "ts": fmt(ts), "updated_at": fmt(ts)}


def ami(eid, tarea, kind, ts, meter=None):
    return {"event_id": eid, "tarea_code": tarea, "device": "meter" if meter else "concentrator",
            "meter_id": meter, "event": kind, "ts": fmt(ts), "updated_at": fmt(ts)}


def gasp(prefix, tarea, off, on=None, meter=None):
    rows = [ami(f"{prefix}-off", tarea, "power_off", off + S, meter)]
    return rows + ([ami(f"{prefix}-on", tarea, "power_on", on + S, meter)] if on else [])


def oms(oid, equipment, start, reported, *, etype="tarea", customers, scope, etr=None, restored=None):
    row = {"outage_id": oid, "outage_type": "fault", "equipment_type": etype, "equipment_code": equipment,
           "cause": "test", "customers": customers, "start_at": fmt(start), "reported_at": fmt(reported),
           "etr": fmt(etr) if etr else None, "restored_at": fmt(restored) if restored else None,
           "status": "restored" if restored else "active", "notice_published_at": None,
           "updated_at": fmt(restored or reported)}
    return row, [{"outage_id": oid, "tarea_code": t, "updated_at": fmt(reported)} for t in scope]


F_UNREP, F_SCOPE, F_MOMENT = "PC01S01F001", "PC02S01F001", "PC01S01F002"
BREAKERS = [breaker("b1", F_UNREP, "trip", at(12)), breaker("b2", F_UNREP, "close", at(12, 40)),
            breaker("b3", F_SCOPE, "trip", at(9)), breaker("b4", F_SCOPE, "close", at(10)),
            breaker("b5", F_MOMENT, "trip", at(13)), breaker("b6", F_MOMENT, "close", at(13, 2))]
GASPS = [
    *[r for t in (1, 2, 3) for r in gasp(f"u{t}", f"{F_UNREP}T00{t}", at(12), at(12, 40))],   # unreported feeder
    *gasp("late", "PC01S02F001T001", at(10), at(11)),                                       # late
    *[r for t in (1, 2, 3) for r in gasp(f"w{t}", f"{F_SCOPE}T00{t}", at(9), at(10))],      # wrong scope
    *gasp("etr", "PC01S02F002T001", at(11)),                                                # stale ETR, still out
    *gasp("ok", "PC01S02F002T002", at(8), at(9)),                                           # properly reported
    *gasp("pend", "PC02S01F002T003", at(14, 10)),                                           # 10 min: not due yet
    *[r for m in (1, 2) for r in gasp(f"lv{m}", "PC02S01F002T001", at(7), at(8), meter=f"M{m}")],  # LV branch
]
REPORTS = [
    oms("L1", "PC01S02F001T001", at(10), at(10, 40), customers=100, scope=["PC01S02F001T001"], restored=at(11)),
    oms("W1", F_SCOPE, at(9, 2), at(9, 10), etype="feeder", customers=100, scope=[f"{F_SCOPE}T001"],
        restored=at(10)),
    oms("E1", "PC01S02F002T001", at(11), at(11, 5), customers=100, scope=["PC01S02F002T001"], etr=at(12, 30)),
    oms("P1", "PC01S02F002T002", at(8, 1), at(8, 10), customers=200, scope=["PC01S02F002T002"],
        etr=at(9, 30), restored=at(9)),
]


@pytest.fixture
def audit(settings_env, source_url, redis_client):
    insert(source_url, "scada_breaker_event", BREAKERS)
    insert(source_url, "ami_power_event", GASPS)
    insert(source_url, "oms_outage", [r for r, _ in REPORTS])
    insert(source_url, "oms_outage_tarea", [s for _, scope in REPORTS for s in scope])
    return Harness(redis_client, [TopologyCollector, OutagesCollector, EventsCollector], NOW).run()


def findings(h, code="PC"):
    return {f["case_id"]: f for f in h.entry("audit", code)["findings"]}


def test_each_finding_and_nothing_else(audit):
    found = {case: sorted(f["flags"]) for case, f in findings(audit).items()}
    assert found == {"F:b1": ["unreported"], "L1": ["late"], "W1": ["wrong_customers", "wrong_scope"],
                     "E1": ["stale_etr"], "T:lv1-off": ["unreported"]}


def test_evidence(audit):
    f = findings(audit)
    unreported = f["F:b1"]
    assert unreported["report"] is None and unreported["equipment"] == F_UNREP
    assert {(e["device"], e["event"]) for e in unreported["events"]} == {
        ("breaker", "trip"), ("breaker", "close"), ("concentrator", "power_off"), ("concentrator", "power_on")}
    assert unreported["events_total"] == 2 + 6 and unreported["observed_tareas"] == 3
    late = f["L1"]
    assert late["report"]["outage_id"] == "L1" and late["report_delay_min"] == pytest.approx(39.3, abs=0.05)
    scope = f["W1"]
    assert (scope["observed_tareas"], scope["reported_tareas"]) == (3, 1)
    assert (scope["observed_customers"], scope["reported_customers"]) == (600, 100)
    assert f["T:lv1-off"]["observed_customers"] is None     # meters only: the branch's customers are unknown


def test_month_rates(audit):
    month = audit.entry("audit", "PC")["month"]
    assert {k: month[k] for k in ("must_report", "reported", "on_time", "accurate", "unreported", "late",
                                  "irregular")} == {"must_report": 6, "reported": 4, "on_time": 3, "accurate": 2,
                                                    "unreported": 2, "late": 1, "irregular": 2}
    assert (month["completeness"], month["timeliness"], month["accuracy"]) == pytest.approx((4 / 6, 0.5, 0.5), abs=1e-9)
    assert audit.entry("audit", "PC")["pending"] == 1


def test_findings_roll_up_to_the_equipment_s_ancestors(audit):
    assert set(findings(audit, "PC01")) == {"F:b1", "L1", "E1"}
    assert set(findings(audit, "PC02S01")) == {"W1", "T:lv1-off"}
    assert audit.entry("audit", "PC01S02")["month"]["must_report"] == 3       # L1, E1, P1


def test_a_late_report_turns_an_unreported_case_into_a_reported_one(audit, source_url):
    row, scope = oms("U1", F_UNREP, at(12), at(12, 50), etype="feeder", customers=600,
                     scope=[f"{F_UNREP}T00{t}" for t in (1, 2, 3)], restored=at(12, 40))
    insert(source_url, "oms_outage", [row])
    insert(source_url, "oms_outage_tarea", scope)
    audit.run()
    assert sorted(findings(audit)["U1"]["flags"]) == ["late"]
    assert "F:b1" not in findings(audit)


@pytest.mark.parametrize("seed", range(20))
def test_merge_sorted_equals_a_whole_sort(seed):
    """The audit base keeps its cases sorted by case_id; the cases derived again are slotted in
    (`_merge_sorted`) instead of sorting the whole frame: the same frame as concat + sort_index."""
    import random

    import numpy as np
    import pandas as pd

    from collectors.domain.audit import _merge_sorted

    rnd = random.Random(seed)
    ids = rnd.sample([f"{p}:{i:04d}" for p in "FTO" for i in range(60)] + ["A", "Z", "F:"], rnd.randint(1, 40))
    split = rnd.randint(0, len(ids))
    frame = pd.DataFrame({"n": np.arange(len(ids)), "s": [i[::-1] for i in ids],
                          "t": pd.to_datetime(np.arange(len(ids)), unit="m")}, index=pd.Index(ids, dtype=object))
    kept, fresh = frame.iloc[:split].sort_index(), frame.iloc[split:]
    pd.testing.assert_frame_equal(_merge_sorted(kept, fresh), pd.concat([kept, fresh]).sort_index())
