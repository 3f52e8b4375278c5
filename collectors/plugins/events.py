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
from collectors.domain.tree import LEVELS
from collectors.frames import conflicts_within, typed
from collectors.publish import Dataset, Patch, RawJSON, dumps, patch_digest
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
        self._base: kpi.Base | None = None    # the audit's clock-independent part, per case
        self._base_dirty: set[str] | None = None   # feeders to derive again in it (None: all)
        self._oms = None                  # the OMS log (outages.OutagesLog) the base was built on
        self._base_tree = None
        self._stale: set | None = None    # cases whose evidence, report or base changed (None: all)
        self._tripped_version = -1
        self._memo: dict[str, tuple] = {}  # per-cycle results kept while their inputs are equal
        self._evidence: dict[str, tuple] = {}   # case_id -> (event records, count)
        self._reports: dict[str, dict | None] = {}   # outage_id -> report record
        self._texts: dict[str, str] = {}    # case_id -> its listed finding's JSON
        self._shown: pd.DataFrame | None = None   # the listed findings' flags and ongoing, last cycle
        self._sums: dict[str, kpi.NodeSums] = {}   # month counts and pending per node
        self._month_text: dict[str, str] = {}
        self._entries: dict[str, RawJSON] = {}     # node -> its published entry
        self._heads_now: dict[str, list] = {}
        self._dataset: Dataset | None = None       # the last one handed out (a patch's base)
        self._ids: dict[str, set] = {}      # event ids in self.events, per table
        self._fpos_tree: dict[str, object] = {}   # per table, the tree of its _fpos (feeder position)

    def collect(self) -> dict[str, pd.DataFrame]:
        since = self.ctx.clock.now() - timedelta(days=limits()["audit"]["events_days"])
        return {name: self.poll(table) if name in self.watermarks
                else self.ctx.source.read_table(table, table.c.ts >= since)
                for name, (_, table, *_rest) in TABLES.items()}

    def rules(self, name: str, now: datetime) -> list[v.Rule]:
        _, _, code_col, level, kinds = TABLES[name]
        latest = now + timedelta(minutes=5)
        # the level's codes as an Index kept per tree: its hash table is built once, not per poll
        codes = self.tree.memo(("codes", level), lambda: pd.Index(self.tree.codes(level), dtype=object))
        rules = [*v.required("event_id", code_col, "event", "ts", "updated_at"), v.text("event_id", 40),
                 v.Rule(code_col, "known_code",
                        lambda df: df[code_col].notna() & (codes.get_indexer(df[code_col].astype(object)) < 0)),
                 v.one_of("event", kinds), v.timestamp("ts", latest), v.timestamp("updated_at", latest)]
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
            if len(state.columns) and self._fpos_tree.get(name) is not self.tree:
                state = state.assign(_fpos=self._feeder_positions(name, state))   # a new tree
                self._fpos_tree[name] = self.tree
            if len(good):
                # newest version per event wins; at an equal updated_at the row read last
                good = good.sort_values("updated_at", kind="stable").drop_duplicates(KEY, keep="last")
                good = good.assign(_fpos=self._feeder_positions(name, good))
                ids = self._ids.setdefault(name, set())
                if state.empty:
                    state = good.reset_index(drop=True)
                    self._touch(name, good)
                    ids.clear()
                    ids.update(good["event_id"].tolist())
                elif ids.isdisjoint(good["event_id"].tolist()):     # all new (the usual case)
                    self._touch(name, good)
                    state = pd.concat([state, good], ignore_index=True)
                    ids.update(good["event_id"].tolist())
                else:
                    hit = state["event_id"].isin(good["event_id"]).to_numpy()
                    before = state.loc[hit, ["event_id", "updated_at"]].set_index("event_id")["updated_at"]
                    prev = before.reindex(good["event_id"]).to_numpy()
                    wins = good[~(good["updated_at"].to_numpy() < prev)]   # NaT (new) compares False
                    if len(wins):
                        out = hit & state["event_id"].isin(wins["event_id"]).to_numpy()
                        self._touch(name, wins, state[out])
                        state = pd.concat([state[~out], wins], ignore_index=True)
                        ids.update(wins["event_id"].tolist())
                self._fpos_tree[name] = self.tree
            elif not len(state.columns):          # no rows yet, but the table's columns
                state = good.reset_index(drop=True).assign(_fpos=np.array([], dtype="int32"))
            if not state.empty:
                expired = (state["ts"] < horizon).to_numpy()
                if expired.any():
                    self._touch(name, state[expired])
                    self._ids.get(name, set()).difference_update(state.loc[expired, "event_id"].tolist())
                    state = state[~expired].reset_index(drop=True)
            if state is not self.events[name]:
                self._events_version += 1
            self.events[name] = state
            rejects += bad
        return rejects

    def _feeder_positions(self, name: str, rows: pd.DataFrame) -> np.ndarray:
        """The tree position of each event's feeder (-1 where it has none)."""
        codes = rows[TABLES[name][2]].astype(object)
        feeders = codes if name == "scada_breaker_event" else codes.map(self.tree.nodes["parent_code"])
        return self.tree.positions(feeders.to_numpy(dtype=object)).astype("int32")

    def _touch(self, name: str, *frames: pd.DataFrame) -> None:
        """Note the feeders whose events changed: only their episodes are derived again."""
        if self._dirty is None:
            return
        for rows in frames:
            if rows.empty:
                continue
            at = rows["_fpos"].to_numpy()
            if (at < 0).any():
                self._dirty = None          # a row we cannot place: derive everything again
                return
            self._dirty.update(self.tree.code_array[np.unique(at)].tolist())

    def datasets(self, now: datetime) -> list[Dataset]:
        log = self.ctx.frames.get("outages.log")
        if log is None:
            raise OmsNotLoaded("OMS outages not loaded yet: the audit waits for the outages collector")
        cfg = limits()["audit"]
        breaker, ami = self.events["scada_breaker_event"], self.events["ami_power_event"]
        self._update_base(breaker, ami, log, now, cfg)
        if self._tripped_version != self._events_version:
            self.ctx.frames["events.tripped"] = self._tripped(self._episodes)
            self._tripped_version = self._events_version
        base = self._base.cases if self._base is not None else None
        cases = kpi.case_flags(base, now, cfg) if base is not None else kpi._empty_cases()
        stale, self._stale = self._stale, set()
        if stale is None:
            self._evidence, self._reports, self._texts = {}, {}, {}
        else:
            for case in stale:
                self._evidence.pop(case, None)
                self._reports.pop(case, None)
        found = kpi.findings(cases, names=False)      # flag names only for the findings listed
        found.index = pd.Index(found["case_id"].to_numpy(), dtype=object)
        heads = self._heads(found, cfg)
        changed_texts = self._record_texts(found, heads, log.outages, stale, cfg)
        month_nodes, pending_nodes, index_in, index_out = self._node_sums(cases, now)
        return [self._publish(now, heads, changed_texts, month_nodes, pending_nodes, index_in, index_out)]

    # -- the clock-independent base -------------------------------------------------------------

    def _update_base(self, breaker, ami, log, now, cfg) -> None:
        """Episodes are derived again only for the feeders whose events changed; cases only where
        those episodes or the OMS outages on their keys changed."""
        tree = self.tree
        if breaker.empty and ami.empty:
            self._episodes, self._dirty, self._base, self._base_dirty = None, set(), None, None
            self._oms, self._stale = log, None
            return
        if self._episodes is None or self._episodes_version != self._events_version \
                or self._episodes_tree is not tree:
            window = pd.Timedelta(minutes=cfg["match_window_minutes"])
            if self._episodes is None or self._dirty is None or self._episodes_tree is not tree:
                self._episodes = kpi.EpisodeStore(kpi.episodes(breaker, ami, tree, now, window), tree)
                self._base_dirty = None
            elif self._dirty:   # episodes never span feeders: derive those of the touched ones only
                feeders = list(self._dirty)
                at = tree.positions(feeders)
                hit = np.zeros(len(tree.nodes) + 1, dtype=bool)   # by position; the last slot is -1
                hit[at[at >= 0]] = True
                fresh = kpi.episodes(breaker[hit[breaker["_fpos"].to_numpy()]],
                                     ami[hit[ami["_fpos"].to_numpy()]], tree, now, window)
                self._episodes.replace(at, fresh)
                if self._base_dirty is not None:
                    self._base_dirty.update(feeders)
            self._episodes_version, self._episodes_tree, self._dirty = self._events_version, tree, set()
        if self._base is None or self._base_tree is not tree or self._oms is None:
            self._base_dirty = None
        elif log is not self._oms:
            ids = log.changed_since(self._oms.revision)
            if ids is None:
                self._base_dirty = None
            elif ids and self._base_dirty is not None:
                ids = list(ids)
                codes = [o.loc[o["outage_id"].isin(ids), "equipment_code"] for o in (self._oms.outages, log.outages)]
                codes += [s.loc[s["outage_id"].isin(ids), "tarea_code"] for s in (self._oms.scope, log.scope)]
                self._base_dirty.update(kpi.feeders_of(pd.concat(codes, ignore_index=True), tree))
                self._note_stale(ids)
        if self._base_dirty is None or self._base_dirty:
            self._base, touched = kpi.update_base(self._base, self._episodes, log.outages, log.scope, tree,
                                                  cfg, self._base_dirty)
            self._note_stale(touched)
        self._oms, self._base_tree, self._base_dirty = log, tree, set()

    def _note_stale(self, cases) -> None:
        if cases is None:
            self._stale = None
        elif self._stale is not None:
            self._stale.update(cases)

    # -- the listed findings --------------------------------------------------------------------

    def _heads(self, found: pd.DataFrame, cfg: dict) -> dict[str, list]:
        """Case ids of the findings listed per node; they depend only on which cases are findings,
        their equipment and start."""
        key = found[["case_id", "equipment", "start"]]
        memo = self._memo.get("heads")
        if memo is None or memo[1] is not self.tree or not memo[0].equals(key):
            heads = head_per_node(found, self.tree, "equipment", cfg["list_levels"], ["start"], [False],
                                  cfg["findings_top"])
            memo = self._memo["heads"] = (key, self.tree, heads)
        return memo[2]

    def _record_texts(self, found, heads, outages, stale, cfg) -> set:
        """Each listed finding's JSON, made again only when it may have changed: a new one, one
        whose case, evidence or report changed, one still ongoing (its duration moves) and one
        whose flags moved with the clock. Returns the case ids whose text changed."""
        ids = sorted({case for cases in heads.values() for case in cases})
        shown = found.loc[ids]
        bits = pd.DataFrame({"ongoing": shown["ongoing"].to_numpy(),
                             "flags": _flag_bits(shown)}, index=shown.index)
        prev = self._shown
        if prev is None or stale is None:
            redo = np.ones(len(ids), dtype=bool)
        else:
            was = prev.reindex(shown.index)
            redo = (bits["ongoing"].to_numpy() | was["flags"].isna().to_numpy()
                    | (was["flags"].to_numpy() != bits["flags"].to_numpy())
                    | shown.index.isin(list(stale)))
        self._shown = bits
        redo |= ~shown.index.isin(list(self._texts))
        redo_ids = shown.index[redo]
        fresh = dict(zip(redo_ids, json_records(self._listing(kpi.flag_names(shown.loc[redo_ids]), outages, cfg))))
        texts, changed = {}, set()
        for case in ids:
            old = self._texts.get(case)
            text = dumps(fresh[case]) if case in fresh else old
            if text != old:
                changed.add(case)
            texts[case] = text
        self._texts = texts
        return changed

    def _listing(self, found: pd.DataFrame, outages: pd.DataFrame, cfg: dict) -> pd.DataFrame:
        """Each finding with its evidence: the events, and the report (None when absent).

        A case's evidence and report are converted once, and again only when the case changed."""
        if found.empty:
            return found
        missing = [case for case in found["case_id"].unique() if case not in self._evidence]
        if missing:
            ev = kpi.case_events(self._episodes, self._base, missing) \
                .sort_values(["ts", "event_id"], kind="stable")
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

    # -- month figures and pending cases per node -----------------------------------------------

    def _node_sums(self, cases: pd.DataFrame, now: datetime):
        """The month's counts and the pending cases per node, rolled up from what changed at
        their equipment only. Returns the nodes whose month figures changed, those whose pending
        count changed, and the nodes that entered and left the published set."""
        tree = self.tree
        month = self._sums.get("month")
        if month is None or month.tree is not tree:
            month = self._sums["month"] = kpi.NodeSums(tree, kpi.MONTH_COUNTS)
            self._sums["pending"] = kpi.NodeSums(tree, ["pending"])
            self._month_text, self._entries, self._heads_now = {}, {}, {}
            self._dataset = None           # a new tree: the next dataset goes out whole
        pending = self._sums["pending"]
        leaf = kpi.month_leaf(cases, now)
        pend = cases.loc[cases["pending"], "equipment"]
        memo = self._memo.get("leaves")
        if memo is not None and memo[0] is month and memo[1].equals(leaf) and memo[2].equals(pend):
            month_at = pending_at = np.array([], dtype="int64")     # nothing moved at any equipment
        else:
            month_at = month.update(leaf.groupby("code")[kpi.MONTH_COUNTS].sum())
            pending_at = pending.update(pend.groupby(pend).size().to_frame("pending"))
            self._memo["leaves"] = (month, leaf, pend)
        listed = month.values[:, 0] > 0
        if not self._entries:          # a new tree: every node
            month_at = np.flatnonzero(listed | (tree.level_numbers <= LEVELS.index("station")))
        in_set = listed[month_at] | (tree.level_numbers[month_at] <= LEVELS.index("station"))
        codes = tree.code_array[month_at]
        shown, gone = month_at[in_set], codes[~in_set]
        texts = _month_texts(month.frame(shown))
        changed = {code for code, text in texts.items() if self._month_text.get(code) != text}
        entered = set(texts) - self._month_text.keys()
        for code in gone:
            self._month_text.pop(code, None)
        self._month_text.update(texts)
        return changed, set(tree.code_array[pending_at]), entered, [c for c in gone if c in self._entries]

    def _publish(self, now, heads, changed_texts, month_nodes, pending_nodes, index_in, index_out) -> Dataset:
        """The audit dataset: every node's entry {"month", "pending", "findings"} as publish.dumps
        writes it, assembled again only for the nodes where a part changed, and handed to
        publish as a patch on the last dataset."""
        prev_heads, self._heads_now = self._heads_now, heads
        dirty = set(month_nodes) | set(index_in)
        dirty.update(node for node in pending_nodes if node in self._month_text)
        dirty.update(node for node in heads.keys() | prev_heads.keys()
                     if heads.get(node) != prev_heads.get(node))
        if changed_texts:
            dirty.update(node for node, cases in heads.items() if not changed_texts.isdisjoint(cases))
        pending = self._sums["pending"]
        dirty = list(dirty)
        waiting = pending.values[self.tree.positions(dirty), 0].tolist() if dirty else []
        texts = self._texts
        changed = {}
        for node, waits in zip(dirty, waiting):
            month = self._month_text.get(node)
            if month is None:
                continue
            text = RawJSON(f'{{"month":{month},"pending":{waits},"findings":['
                           + ",".join([texts[case] for case in heads.get(node, ())]) + "]}")
            if self._entries.get(node) != text:
                changed[node] = self._entries[node] = text
        removed = [node for node in index_out if self._entries.pop(node, None) is not None]
        last = self._dataset
        if last is not None and last.digest is not None:
            digest = patch_digest(last.digest, changed, removed)
            ds = Dataset("audit", now, dict(self._entries), digest=digest,
                         patch=Patch(last.digest, changed, removed))
        else:
            ds = Dataset("audit", now, dict(self._entries))
        self._dataset = ds
        return ds

    @staticmethod
    def _tripped(store) -> pd.DataFrame:
        """The feeders whose breaker is open now: their feeder episodes still ongoing, read off
        the episodes already derived (one breaker's trip-to-close episodes, row order aside)."""
        if store is None:
            return pd.DataFrame(columns=["feeder_code", "since"])
        return store.open_feeders()


def _flag_bits(found: pd.DataFrame) -> np.ndarray:
    bits = np.zeros(len(found), dtype="int64")
    for i, flag in enumerate(kpi.FLAGS):
        bits |= found[flag].to_numpy(dtype=bool).astype("int64") << i
    return bits


def _month_texts(rates: pd.DataFrame) -> dict[str, str]:
    return {code: dumps(m) for code, m in _months(rates).items()}


def _months(rates: pd.DataFrame) -> dict[str, dict]:
    """The month's counts and rates per node (rates None where a denominator is 0)."""
    counts = rates[["must_report", "reported", "on_time", "accurate", "irregular", *kpi.FLAGS]].astype("int64")
    ratios = rates[["completeness", "timeliness", "accuracy"]].astype("float64").round(12)
    ratios = ratios.astype(object).where(ratios.notna(), None)
    return counts.join(ratios).to_dict("index")
