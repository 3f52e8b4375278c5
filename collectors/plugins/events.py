"""SCADA breaker events and AMI last-gasp events → the "逢停必较" audit against OMS.

The audit needs the OMS outages too: it reads the outages collector's state from the shared
context (`outages.outages`, `outages.scope`), and refuses to run before that is loaded, so that
no outage is called unreported only because OMS was not read yet. It shares the feeders whose
breaker is open now (`events.tripped`) for the key-customer supply status.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from collectors.base import Collector
from collectors.domain import audit as kpi
from collectors.domain import validation as v
from collectors.domain.lists import head_per_node, json_records
from collectors.frames import conflicts_within, typed
from collectors.publish import Dataset, RawJSON, dumps
from collectors.sources.schema import ami_power_event, scada_breaker_event
from config.limits import limits

KEY = ["event_id"]
TABLES = {"scada_breaker_event": ("SCADA", scada_breaker_event, "feeder_code", "feeder", ("trip", "close")),
          "ami_power_event": ("AMI", ami_power_event, "tarea_code", "tarea", ("power_off", "power_on"))}
DEVICES = ("concentrator", "meter")


class OmsNotLoaded(RuntimeError):
    pass


class EventsCollector(Collector):
    name = "events"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.events = {name: pd.DataFrame() for name in TABLES}
        self._events_version = 0          # +1 whenever events are added or leave the window
        self._episodes = None
        self._episodes_version = -1
        self._episodes_tree = None
        self._dirty: set[str] | None = set()   # feeders whose events changed since the episodes
        self._base = None                 # the audit's clock-independent part (kpi.audit_base)
        self._base_inputs = None          # (episodes version, outages, scope, tree) it was built from
        self._tripped_version = -1
        self._memo: dict[str, tuple] = {}  # per-cycle results kept while their inputs are equal
        self._evidence: dict[str, tuple] = {}   # case_id -> (event records, count), for self._base
        self._evidence_of = None          # the events frame self._evidence was taken from
        self._reports: dict[str, dict | None] = {}   # outage_id -> report record, for self._reports_of
        self._reports_of = None
        self._record_json: dict[str, tuple[dict, str]] = {}   # case_id -> (listed record, its JSON)

    def collect(self) -> dict[str, pd.DataFrame]:
        since = self.ctx.clock.now() - timedelta(days=limits()["audit"]["events_days"])
        return {name: self.poll(table) if name in self.watermarks
                else self.ctx.source.read_table(table, table.c.ts >= since)
                for name, (_, table, *_rest) in TABLES.items()}

    def rules(self, name: str, now: datetime) -> list[v.Rule]:
        _, _, code_col, level, kinds = TABLES[name]
        latest = now + timedelta(minutes=5)
        rules = [*v.required("event_id", code_col, "event", "ts", "updated_at"), v.text("event_id", 40),
                 v.known_code(code_col, self.tree.codes(level)), v.one_of("event", kinds),
                 v.timestamp("ts", latest), v.timestamp("updated_at", latest)]
        if name == "ami_power_event":
            rules += [v.one_of("device", DEVICES),
                      v.Rule("meter_id", "required_for_meter",
                             lambda df: (df["device"] == "meter") & df["meter_id"].isna())]
        return rules

    def absorb(self, batches, now: datetime) -> list[dict]:
        rejects = []
        horizon = pd.Timestamp(now) - pd.Timedelta(days=limits()["audit"]["events_days"])
        for name, raw in batches.items():
            source = TABLES[name][0]
            good, bad = v.apply_rules(raw, self.rules(name, now), source=source, table=name, key=KEY)
            good = typed(good, times=("ts", "updated_at"))
            conflict = conflicts_within(good, KEY, "updated_at")
            bad += [v.reject_record(r, source=source, table=name, key=KEY, field="event_id",
                                    rule="duplicate_conflict") for _, r in good[conflict].iterrows()]
            good, state = good[~conflict], self.events[name]
            if len(good):
                replaced = state[state["event_id"].isin(good["event_id"])] if not state.empty else state
                self._touch(name, good, replaced)
                both = pd.concat([state, good], ignore_index=True) if not state.empty else good
                state = both.sort_values("updated_at", kind="stable").drop_duplicates(KEY, keep="last")
            if not state.empty:
                expired = state["ts"] < horizon
                if len(good) or expired.any():
                    self._touch(name, state[expired])
                    state = state[~expired].reset_index(drop=True)
            if len(good) or len(state) != len(self.events[name]):
                self._events_version += 1
            self.events[name] = state
            rejects += bad
        return rejects

    def _touch(self, name: str, *frames: pd.DataFrame) -> None:
        """Note the feeders whose events changed: only their episodes are derived again."""
        if self._dirty is None:
            return
        for rows in frames:
            if rows.empty:
                continue
            codes = rows[TABLES[name][2]]
            feeders = codes if name == "scada_breaker_event" else \
                codes.map(self.tree.nodes["parent_code"])
            if feeders.isna().any():
                self._dirty = None          # a row we cannot place: derive everything again
                return
            self._dirty.update(feeders.unique().tolist())

    def datasets(self, now: datetime) -> list[Dataset]:
        outages, scope = self.ctx.frames.get("outages.outages"), self.ctx.frames.get("outages.scope")
        if outages is None or scope is None:
            raise OmsNotLoaded("OMS outages not loaded yet: the audit waits for the outages collector")
        cfg = limits()["audit"]
        breaker, ami = self.events["scada_breaker_event"], self.events["ami_power_event"]
        cases, events = self._audit(breaker, ami, outages, scope, now, cfg)
        if self._tripped_version != self._events_version:
            self.ctx.frames["events.tripped"] = self._tripped(breaker)
            self._tripped_version = self._events_version
        months, rates_index = self._month(cases, now)
        found = kpi.findings(cases).reset_index(drop=True)
        heads = self._heads(found, cfg)
        shown = found.loc[sorted({label for labels in heads.values() for label in labels})]
        records = dict(zip(shown.index, json_records(self._listing(shown, events, outages, cfg))))
        texts = self._record_texts(records)
        month_texts = self._month_texts(months)
        waiting = self._waiting(cases, rates_index)
        # each entry is {"month": ..., "pending": ..., "findings": [...]} as publish.dumps writes
        # it, assembled from the parts' JSON, each serialised only when it changed
        entries = {code: RawJSON(f'{{"month":{month_texts[code]},"pending":{waiting[code]},"findings":['
                                 + ",".join([texts[label] for label in heads.get(code, ())]) + "]}")
                   for code in rates_index}
        return [Dataset("audit", now, entries)]

    def _record_texts(self, records: dict) -> dict:
        """Each listed finding's JSON, serialised again only when its record changed."""
        cache, kept = self._record_json, {}
        texts = {}
        for label, record in records.items():
            case = record["case_id"]
            old = cache.get(case)
            if old is None or old[0] != record:
                old = (record, dumps(record))
            kept[case] = old
            texts[label] = old[1]
        self._record_json = kept
        return texts

    def _month_texts(self, months: dict) -> dict:
        memo = self._memo.get("month_texts")
        if memo is None or memo[0] is not months:
            memo = self._memo["month_texts"] = (months, {code: dumps(m) for code, m in months.items()})
        return memo[1]

    def _month(self, cases: pd.DataFrame, now: datetime) -> tuple[dict, pd.Index]:
        """The month's rates per node, rolled up again only when the month's decided cases changed."""
        leaf = kpi.month_leaf(cases, now)
        memo = self._memo.get("month")
        if memo is None or memo[1] is not self.tree or not memo[0].equals(leaf):
            rates = kpi.month_rollup(leaf, self.tree)
            memo = self._memo["month"] = (leaf, self.tree, _months(rates), rates.index)
        return memo[2], memo[3]

    def _waiting(self, cases: pd.DataFrame, index: pd.Index) -> dict:
        """Pending audited cases per node (0 where none), again only when they changed."""
        pending = cases[cases["pending"]].groupby("equipment").size().rename("pending") \
            .rename_axis("code").reset_index()
        memo = self._memo.get("waiting")
        if memo is None or memo[1] is not self.tree or memo[2] is not index or not memo[0].equals(pending):
            waiting = self.tree.rollup(pending, "code", upto="tarea")["pending"] if not pending.empty \
                else pd.Series()
            waiting = waiting.reindex(index, fill_value=0).astype("int64").to_dict()
            memo = self._memo["waiting"] = (pending, self.tree, index, waiting)
        return memo[3]

    def _heads(self, found: pd.DataFrame, cfg: dict) -> dict[str, list]:
        """Labels of the findings listed per node; they depend only on which cases are findings,
        their equipment and start."""
        key = found[["case_id", "equipment", "start"]]
        memo = self._memo.get("heads")
        if memo is None or memo[1] is not self.tree or not memo[0].equals(key):
            heads = head_per_node(found, self.tree, "equipment", cfg["list_levels"], ["start"], [False],
                                  cfg["findings_top"])
            memo = self._memo["heads"] = (key, self.tree, heads)
        return memo[2]

    def _audit(self, breaker, ami, outages, scope, now, cfg):
        """Episodes are derived again only when events arrived; the matching against OMS only
        when the episodes or the OMS frames changed (the outages collector replaces a frame only
        when it changed); the time-dependent flags are evaluated every cycle."""
        if breaker.empty and ami.empty:
            self._episodes, self._dirty = None, set()
            return kpi.audit(breaker, ami, outages, scope, self.tree, now, cfg)
        if self._episodes is None or self._episodes_version != self._events_version:
            window = pd.Timedelta(minutes=cfg["match_window_minutes"])
            if self._episodes is None or self._dirty is None or self._episodes_tree is not self.tree:
                self._episodes = kpi.episodes(breaker, ami, self.tree, now, window)
            elif self._dirty:   # episodes never span feeders: derive those of the touched ones only
                feeders = list(self._dirty)
                parent = self.tree.nodes["parent_code"]
                fresh = kpi.episodes(breaker[breaker["feeder_code"].isin(feeders)],
                                     ami[ami["tarea_code"].map(parent).isin(feeders)], self.tree, now, window)
                self._episodes = kpi.replace_feeders(self._episodes, fresh, feeders)
            self._episodes_version, self._episodes_tree, self._dirty = self._events_version, self.tree, set()
        inputs = (self._episodes_version, outages, scope, self.tree)
        if self._base_inputs is None or any(a is not b for a, b in zip(inputs[1:], self._base_inputs[1:])) \
                or inputs[0] != self._base_inputs[0]:
            self._base = kpi.audit_base(self._episodes, outages, scope, self.tree, cfg)
            self._base_inputs = inputs
        return kpi.audit_at(self._base, now, cfg)

    @staticmethod
    def _tripped(breaker: pd.DataFrame) -> pd.DataFrame:
        if breaker.empty:
            return pd.DataFrame(columns=["feeder_code", "since"])
        eps = kpi.device_episodes(breaker, "feeder_code", "trip", "close")
        open_now = eps[eps["end"].isna()]
        return pd.DataFrame({"feeder_code": open_now["feeder_code"], "since": open_now["start"]})

    def _listing(self, found: pd.DataFrame, events: pd.DataFrame, outages: pd.DataFrame, cfg: dict) -> pd.DataFrame:
        """Each finding with its evidence: the events, and the report (None when absent).

        A case's evidence and report are converted once, and again only when the events frame
        (a new audit base) or the outages frame is replaced."""
        if found.empty:
            return found
        if self._evidence_of is not events:
            self._evidence, self._evidence_of = {}, events
        if self._reports_of is not outages:
            self._reports, self._reports_of = {}, outages
        missing = [case for case in found["case_id"].unique() if case not in self._evidence]
        if missing:
            ev = events[events["case_id"].isin(missing)].sort_values(["ts", "event_id"], kind="stable")
            shown = ev.groupby("case_id").head(cfg["evidence_events"])
            by_case: dict[str, list[dict]] = {case: [] for case in missing}
            for case, record in zip(shown["case_id"], json_records(shown.drop(columns="case_id"))):
                by_case[case].append(record)   # a few events per listed finding
            counts = ev.groupby("case_id").size()
            for case in missing:
                self._evidence[case] = (by_case[case] or None, int(counts.get(case, 0)))
        report_cols = ["outage_id", "outage_type", "equipment_type", "equipment_code", "customers",
                       "start_at", "reported_at", "etr", "restored_at", "status"]
        unread = [case for case in found["case_id"].unique() if case not in self._reports]
        if unread:
            rows = outages[outages["outage_id"].isin(unread)][report_cols]
            self._reports.update(dict.fromkeys(unread))
            self._reports.update({r["outage_id"]: r for r in json_records(rows)})
        cols = ["case_id", "equipment", "kind", "start", "end", "duration_min", "report_delay_min",
                "observed_tareas", "reported_tareas", "observed_customers", "reported_customers", "flags"]
        out = found[cols].copy()
        out["duration_min"] = out["duration_min"].round(1)
        out["report_delay_min"] = out["report_delay_min"].round(1)
        evidence = [self._evidence[case] for case in out["case_id"]]
        out["events"] = [e for e, _ in evidence]
        out["events_total"] = np.array([n for _, n in evidence], dtype="int64")
        out["report"] = [self._reports[case] for case in out["case_id"]]
        return out


def _months(rates: pd.DataFrame) -> dict[str, dict]:
    """The month's counts and rates per node (rates None where a denominator is 0)."""
    counts = rates[["must_report", "reported", "on_time", "accurate", "irregular", *kpi.FLAGS]].astype("int64")
    ratios = rates[["completeness", "timeliness", "accuracy"]].astype("float64").round(12)
    ratios = ratios.astype(object).where(ratios.notna(), None)
    return counts.join(ratios).to_dict("index")
