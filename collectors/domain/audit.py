"""The "逢停必较" audit: every loss of supply the devices saw against what OMS was told.

Evidence comes from SCADA breaker events (trip → close, per feeder) and AMI last-gasp events
(power_off → power_on, per concentrator or meter). The rules [ASSUMED design, DOMAIN.md; numbers
in config/limits.yaml `audit`, definitions in docs/kpis.md]:

1. Device episodes: an off event to the next on event of the same device (ongoing if none).
2. 台区 episodes: overlapping device episodes of one 台区 merged; "whole" when its concentrator
   went off (not only some meters). A 台区 episode whose feeder tripped within the match window
   of it is part of that feeder episode.
3. Each episode is matched to the OMS outage (not cancelled) on the same equipment, whose start
   is nearest and within ± match_window of the episode's start. Same equipment: a feeder episode
   its feeder; a 台区 episode its 台区 (as the equipment or in the scope) or its feeder.
4. A case is one OMS outage with the episodes matched to it, or one unmatched episode. A case is
   audited when it lasted over must_report minutes. Unmatched and older than report_within:
   应报未报 (unreported). Matched and reported more than report_within after the first event:
   迟报 (late). Matched and the scope (台区 set) or customer count off by more than
   scope_tolerance, or the ETR passed by more than etr_grace with no update: 报送不规范.
"""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import numpy as np
import pandas as pd

from collectors.domain.intervals import island_ids
from collectors.domain.tree import LEVELS, Tree

FLAGS = ("unreported", "late", "wrong_scope", "wrong_customers", "stale_etr")
CASE_COLUMNS = ["case_id", "start", "end", "ongoing", "kind", "equipment", "episodes", "duration_min",
                "reported", "must_report", "pending", "report_delay_min", "observed_tareas",
                "reported_tareas", "observed_customers", "reported_customers", "irregular", *FLAGS]
EVENT_COLUMNS = ["case_id", "event_id", "device", "code", "event", "ts"]


def device_episodes(events: pd.DataFrame, device: str, off: str, on: str) -> pd.DataFrame:
    """One row per off event that follows no other off of its device, with the next on event."""
    e = events.sort_values([device, "ts", "event_id"]).reset_index(drop=True)
    same = e[device].eq(e[device].shift())
    starts = e["event"].eq(off) & ~(same & e["event"].shift().eq(off))
    is_on = e["event"].eq(on)
    next_ts = e["ts"].where(is_on).groupby(e[device]).bfill()
    next_id = e["event_id"].where(is_on).groupby(e[device]).bfill()
    # Between two starts there is always an "on" (a start follows no off), so the next "on"
    # after a start closes that start's episode and no later one.
    s = e[starts].assign(end=next_ts[starts], on_id=next_id[starts])
    return s.rename(columns={"ts": "start", "event_id": "off_id"})


def tarea_episodes(ami: pd.DataFrame, now: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """台区 episodes, and the device episodes with the id of the 台区 episode they belong to."""
    ami = ami.assign(dev=ami["meter_id"].where(ami["device"] == "meter", ami["tarea_code"]))
    # a device is a meter of one 台区 (the same meter number under another 台区 is another meter)
    ami = ami.assign(unit=ami["tarea_code"].astype(str) + "|" + ami["dev"].astype(str))
    dev = device_episodes(ami, "unit", "power_off", "power_on")
    dev = dev.assign(end_f=dev["end"].fillna(pd.Timestamp(now)), ongoing=dev["end"].isna(),
                     whole=dev["device"] == "concentrator")
    dev["island"] = island_ids(dev, "tarea_code", start="start", end="end_f")
    grouped = dev.sort_values("start").groupby("island")
    eps = pd.DataFrame({"tarea_code": grouped["tarea_code"].first(), "start": grouped["start"].min(),
                        "end": grouped["end_f"].max(), "ongoing": grouped["ongoing"].any(),
                        "whole": grouped["whole"].any(), "ep_id": "T:" + grouped["off_id"].first()})
    eps.loc[eps["ongoing"], "end"] = pd.NaT
    dev["ep_id"] = dev["island"].map(eps["ep_id"])
    return eps.reset_index(drop=True), dev


def or_own(mapped: pd.Series, ids: pd.Series) -> pd.Series:
    """Each id's mapped value, or the id itself where it has none. A map that matched nothing
    is float NaN, so it is cast to the ids' dtype before filling."""
    return mapped.astype(ids.dtype).fillna(ids)


def fold_into_feeders(tareas: pd.DataFrame, feeders: pd.DataFrame, window: pd.Timedelta) -> pd.Series:
    """For each 台区 episode, the feeder episode it belongs to (NaN if none)."""
    both = tareas[["ep_id", "feeder_code", "start"]].merge(
        feeders[["ep_id", "feeder_code", "start"]], on="feeder_code", suffixes=("", "_f"))
    both["gap"] = (both["start"] - both["start_f"]).abs()
    near = both[both["gap"] <= window].sort_values("gap").drop_duplicates("ep_id")
    return tareas["ep_id"].map(near.set_index("ep_id")["ep_id_f"])


def episodes(breaker: pd.DataFrame, ami: pd.DataFrame, tree: Tree, now: datetime,
             window: pd.Timedelta) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Audit episodes (feeder and unfolded 台区), observed 台区 per episode, and the events."""
    parent = tree.nodes["parent_code"]
    fdev = device_episodes(breaker, "feeder_code", "trip", "close")
    feeders = pd.DataFrame({"ep_id": "F:" + fdev["off_id"], "kind": "feeder", "equipment": fdev["feeder_code"],
                            "feeder_code": fdev["feeder_code"], "start": fdev["start"], "end": fdev["end"]})
    teps, tdev = tarea_episodes(ami, now)
    teps["feeder_code"] = teps["tarea_code"].map(parent)
    teps["owner"] = or_own(fold_into_feeders(teps, feeders, window), teps["ep_id"])
    own = teps[teps["owner"] == teps["ep_id"]]
    eps = pd.concat([feeders, pd.DataFrame({
        "ep_id": own["ep_id"], "kind": "tarea", "equipment": own["tarea_code"],
        "feeder_code": own["feeder_code"], "start": own["start"], "end": own["end"]})], ignore_index=True)
    observed = teps[["owner", "tarea_code", "whole"]].rename(columns={"owner": "ep_id"})
    owner_of = teps.set_index("ep_id")["owner"]
    events = pd.concat([
        _event_rows(fdev, "breaker", "feeder_code", "trip", "close", "F:" + fdev["off_id"]),
        _event_rows(tdev, tdev["device"], "dev", "power_off", "power_on", tdev["ep_id"].map(owner_of))],
        ignore_index=True)
    return eps, observed, events


def tag_feeders(found: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], tree: Tree) -> tuple:
    """`episodes` output with each row's feeder as a tree position (column fpos, int32; -1 for
    none): the episodes, observed 台区 and events of some feeders are then found on integers."""
    eps, observed, events = found
    at = tree.positions(eps["feeder_code"].to_numpy(dtype=object)).astype("int32")
    by_ep = pd.Series(at, index=pd.Index(eps["ep_id"].to_numpy(dtype=object)))

    def of(ep_ids: pd.Series) -> np.ndarray:
        return by_ep.reindex(ep_ids.to_numpy(dtype=object)).fillna(-1).to_numpy().astype("int32")
    return eps.assign(fpos=at), observed.assign(fpos=of(observed["ep_id"])), events.assign(fpos=of(events["ep_id"]))


def _ranges(fpos: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Row numbers of `fpos` (sorted) equal to one of `at`."""
    lo, hi = np.searchsorted(fpos, at, "left"), np.searchsorted(fpos, at, "right")
    n = hi - lo
    if not n.any():
        return np.array([], dtype="int64")
    starts = np.repeat(lo - np.cumsum(n) + n, n)
    return np.arange(n.sum()) + starts


class EpisodeStore:
    """`episodes` output (episodes, observed 台区, events; each with fpos, see `tag_feeders`) kept
    between cycles in chunks, each sorted by feeder position: replacing the episodes of some
    feeders appends their fresh rows as a chunk and makes it the feeders' owner, instead of
    copying every row (episodes never span feeders, so a feeder's rows are all derived from its
    own events). A feeder's rows are those in the chunk that owns it; the others are dead and
    the chunks are merged again when there are many of them or many dead rows."""

    MAX_CHUNKS = 96

    def __init__(self, found: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], tree: Tree):
        self.tree = tree
        self.owner = np.zeros(len(tree.nodes) + 1, dtype="int32")   # last slot: position -1
        self.chunks: list = []
        self.empty = tuple(p.iloc[:0].assign(fpos=np.array([], dtype="int32")) if "fpos" not in p else p.iloc[:0]
                           for p in found)
        self._add(tag_feeders(found, tree))

    def _add(self, tagged) -> int:
        parts = tuple(p.sort_values("fpos", kind="stable").reset_index(drop=True) for p in tagged)
        fpos = tuple(p["fpos"].to_numpy() for p in parts)
        eps = parts[0]
        open_rows = np.flatnonzero(((eps["kind"] == "feeder") & eps["end"].isna()).to_numpy())
        opened = (fpos[0][open_rows], eps["feeder_code"].to_numpy(dtype=object)[open_rows],
                  eps["start"].to_numpy()[open_rows])
        self.chunks.append({"parts": parts, "fpos": fpos, "live": [len(p) for p in parts], "open": opened})
        return len(self.chunks) - 1

    def __len__(self) -> int:
        """The number of episodes."""
        return sum(c["live"][0] for c in self.chunks if c is not None)

    def replace(self, feeders_at: np.ndarray, fresh: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> None:
        """Every episode of the feeders at `feeders_at` (positions) replaced by `fresh`, the
        episodes derived from those feeders' events alone."""
        at = np.unique(np.asarray(feeders_at, dtype="int64"))
        at = at[at >= 0]
        own = self.owner[at]
        for c in np.unique(own).tolist():
            chunk, sel = self.chunks[c], at[own == c]
            if chunk is None:                  # a chunk let go (no live rows of these feeders)
                continue
            for k, fpos in enumerate(chunk["fpos"]):
                chunk["live"][k] -= len(_ranges(fpos, sel))
            if not any(chunk["live"]):
                self.chunks[c] = None          # nothing of it is live: let it go
        self.owner[at] = self._add(tag_feeders(fresh, self.tree))
        live = [c for c in self.chunks if c is not None]
        dead = sum(len(f) - n for c in live for f, n in zip(c["fpos"], c["live"]))
        if len(live) > self.MAX_CHUNKS or dead > sum(sum(c["live"]) for c in live) // 2 + 10_000:
            whole = self.whole()
            self.chunks, self.owner[:] = [], 0
            self._add(whole)

    def whole(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """All episodes, observed 台区 and events (row order aside, what `episodes` gives)."""
        out: list[list] = [[], [], []]
        for c, chunk in enumerate(self.chunks):
            if chunk is None:
                continue
            for k, (part, fpos) in enumerate(zip(chunk["parts"], chunk["fpos"])):
                keep = self.owner[fpos] == c     # position -1 reads the last slot
                if keep.all():
                    out[k].append(part)
                elif keep.any():
                    out[k].append(part[keep])
        return tuple(pd.concat(o, ignore_index=True) if o else e for o, e in zip(out, self.empty))

    def for_feeders(self, feeders_at) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The episodes, observed 台区 and events of the feeders at these positions."""
        at = np.unique(np.asarray(feeders_at, dtype="int64"))
        at = at[at >= 0]
        own = self.owner[at]
        out: list[list] = [[], [], []]
        for c in np.unique(own).tolist():
            chunk, sel = self.chunks[c], at[own == c]
            if chunk is None:
                continue
            for k, (part, fpos) in enumerate(zip(chunk["parts"], chunk["fpos"])):
                rows = _ranges(fpos, sel)
                if len(rows):
                    out[k].append(part.take(rows))
        return tuple(pd.concat(o, ignore_index=True) if len(o) > 1 else o[0] if o else e
                     for o, e in zip(out, self.empty))

    def open_feeders(self) -> pd.DataFrame:
        """The feeders whose breaker is open now (their feeder episodes still ongoing)."""
        codes, since = [], []
        for c, chunk in enumerate(self.chunks):
            if chunk is None:
                continue
            fpos, code, start = chunk["open"]
            keep = self.owner[fpos] == c
            codes.append(code[keep])
            since.append(start[keep])
        if not codes or not sum(len(x) for x in codes):
            return pd.DataFrame(columns=["feeder_code", "since"])
        return pd.DataFrame({"feeder_code": np.concatenate(codes), "since": np.concatenate(since)})


def _event_rows(dev: pd.DataFrame, device, code_col: str, off: str, on: str, ep: pd.Series) -> pd.DataFrame:
    offs = pd.DataFrame({"ep_id": ep, "event_id": dev["off_id"], "device": device, "code": dev[code_col],
                         "event": off, "ts": dev["start"]})
    ons = pd.DataFrame({"ep_id": ep, "event_id": dev["on_id"], "device": device, "code": dev[code_col],
                        "event": on, "ts": dev["end"]}).dropna(subset=["event_id"])
    return pd.concat([offs, ons])


def match(eps: pd.DataFrame, outages: pd.DataFrame, scope: pd.DataFrame, window: pd.Timedelta) -> pd.Series:
    """Episode id → the matched OMS outage id (nearest start within the window)."""
    ep_keys = pd.concat([eps[["ep_id", "equipment", "start"]].set_axis(["ep_id", "key", "start"], axis=1),
                         eps.loc[eps["kind"] == "tarea", ["ep_id", "feeder_code", "start"]]
                         .set_axis(["ep_id", "key", "start"], axis=1)])
    # only the outages and scope rows on one of these keys can match (a few episodes are matched
    # again each cycle against every outage of the window)
    wanted = pd.unique(ep_keys["key"].to_numpy(dtype=object))
    on_key = pd.Series(outages["equipment_code"].to_numpy(dtype=object)).isin(wanted).to_numpy()
    in_scope = pd.Series(scope["tarea_code"].to_numpy(dtype=object)).isin(wanted).to_numpy()
    keys = pd.concat([outages.loc[on_key, ["outage_id", "equipment_code"]].set_axis(["outage_id", "key"], axis=1),
                      scope.loc[in_scope, ["outage_id", "tarea_code"]].set_axis(["outage_id", "key"], axis=1)],
                     ignore_index=True)
    # the outages on those keys, not cancelled (selected before the columns: no copy of every row)
    wanted_ids = outages["outage_id"].isin(keys["outage_id"]).to_numpy()
    live = outages.loc[wanted_ids, ["outage_id", "status", "start_at", "reported_at"]]
    live = live[(live["status"] != "cancelled").to_numpy()].drop(columns="status")
    keys = keys.merge(live, on="outage_id").drop_duplicates()
    cand = ep_keys.merge(keys, on="key")
    cand["gap"] = (cand["start_at"] - cand["start"]).abs()
    cand = cand[cand["gap"] <= window].sort_values(["gap", "reported_at", "outage_id"])
    return cand.drop_duplicates("ep_id").set_index("ep_id")["outage_id"]


def cases(eps: pd.DataFrame, observed: pd.DataFrame, matched: pd.Series, outages: pd.DataFrame,
          scope: pd.DataFrame, tree: Tree, now: datetime, cfg: dict) -> pd.DataFrame:
    """One row per case with its flags (see the module docstring)."""
    return case_flags(case_base(eps, observed, matched, outages, scope, tree, cfg), now, cfg)


def case_base(eps: pd.DataFrame, observed: pd.DataFrame, matched: pd.Series, outages: pd.DataFrame,
              scope: pd.DataFrame, tree: Tree, cfg: dict) -> pd.DataFrame:
    """Per case, everything that does not depend on the clock: its episodes' span (end NaT while
    ongoing), the report, and the observed-against-reported scope checks. Indexed by case_id;
    `case_flags` adds what depends on `now`."""
    eps = eps.assign(case_id=or_own(eps["ep_id"].map(matched), eps["ep_id"]), ongoing=eps["end"].isna())
    g = eps.groupby("case_id")
    c = pd.DataFrame({"start": g["start"].min(), "end": g["end"].max(), "ongoing": g["ongoing"].any(),
                      "kind": g["kind"].first(), "equipment": g["equipment"].first(),
                      "episodes": g.size()})
    c.loc[c["ongoing"], "end"] = pd.NaT
    # the reports of these cases only (set_index on every outage copied the whole frame)
    report = outages[outages["outage_id"].isin(c.index).to_numpy()].set_index("outage_id").reindex(c.index)
    c["reported"] = report["reported_at"].notna()
    c.loc[c["reported"], "equipment"] = report["equipment_code"]
    c.loc[c["reported"], "kind"] = report["equipment_type"]
    c["report_delay_min"] = (report["reported_at"] - c["start"]).dt.total_seconds() / 60.0
    c["reported_at"] = report["reported_at"]
    c["etr"] = report["etr"]
    c["restored_at"] = report["restored_at"]
    return c.join(_scope_checks(eps, observed, report, scope, tree, cfg["scope_tolerance"]))


def case_flags(base: pd.DataFrame, now: datetime, cfg: dict) -> pd.DataFrame:
    """The cases at `now`: durations of ongoing cases and every flag that depends on the clock."""
    now_ts = pd.Timestamp(now)
    c = base
    duration = (c["end"].fillna(now_ts) - c["start"]).dt.total_seconds() / 60.0
    reported = c["reported"]
    must = duration > cfg["must_report_minutes"]
    within = pd.Timedelta(minutes=cfg["report_within_minutes"])
    unreported = must & ~reported & (now_ts - c["start"] > within)
    late = must & reported & (c["reported_at"] - c["start"] > within)
    wrong_scope = c["wrong_scope"] & must & reported
    wrong_customers = c["wrong_customers"] & must & reported
    etr_over = c["restored_at"].fillna(now_ts) - c["etr"]
    stale_etr = must & reported & (etr_over > pd.Timedelta(minutes=cfg["etr_grace_minutes"])).fillna(False)
    out = pd.DataFrame({
        "start": c["start"], "end": c["end"], "ongoing": c["ongoing"], "kind": c["kind"],
        "equipment": c["equipment"], "episodes": c["episodes"], "duration_min": duration,
        "reported": reported, "must_report": must, "unreported": unreported,
        "pending": must & ~reported & ~unreported, "report_delay_min": c["report_delay_min"],
        "late": late, "observed_tareas": c["observed_tareas"], "reported_tareas": c["reported_tareas"],
        "observed_customers": c["observed_customers"], "reported_customers": c["reported_customers"],
        "wrong_scope": wrong_scope, "wrong_customers": wrong_customers, "stale_etr": stale_etr,
        "irregular": wrong_scope | wrong_customers | stale_etr}, index=c.index)
    return out.rename_axis("case_id").reset_index()


def _scope_checks(eps, observed, report, scope, tree, tolerance) -> pd.DataFrame:
    """Observed against reported scope: the 台区 sets and the customer counts."""
    seen = observed.merge(eps[["ep_id", "case_id"]], on="ep_id")
    customers = tree.nodes["customers"]
    per_case = seen.groupby("case_id")
    obs_tareas = per_case["tarea_code"].nunique()
    all_whole = per_case["whole"].all()
    obs_customers = seen.drop_duplicates(["case_id", "tarea_code"]).assign(
        c=lambda d: d["tarea_code"].map(customers)).groupby("case_id")["c"].sum()
    reported = scope[scope["outage_id"].isin(report.index)].drop_duplicates()
    pairs = seen[["case_id", "tarea_code"]].drop_duplicates().assign(seen=True).merge(
        reported.rename(columns={"outage_id": "case_id"}).assign(told=True), how="outer",
        on=["case_id", "tarea_code"])
    pairs = pairs[pairs["case_id"].isin(obs_tareas.index)]
    differ = (pairs["seen"].isna() | pairs["told"].isna()).groupby(pairs["case_id"]).sum()
    out = pd.DataFrame(index=report.index)
    out["observed_tareas"] = obs_tareas.reindex(out.index).fillna(0).astype("int64")
    # float64 whatever the cases at hand (a count is NaN where nothing was reported or seen
    # whole), so that cases derived in parts join into what one derivation gives
    out["reported_tareas"] = reported.groupby("outage_id")["tarea_code"].nunique().reindex(out.index) \
        .astype("float64")
    out["observed_customers"] = obs_customers.where(all_whole).reindex(out.index).astype("float64")
    out["reported_customers"] = report["customers"].astype("float64")
    out["wrong_scope"] = (differ.reindex(out.index) / out["observed_tareas"].where(out["observed_tareas"] > 0)
                          > tolerance).fillna(False)
    off = (out["reported_customers"] - out["observed_customers"]).abs() / out["observed_customers"].where(
        out["observed_customers"] > 0)
    out["wrong_customers"] = (off > tolerance).fillna(False)
    return out


def audit(breaker: pd.DataFrame, ami: pd.DataFrame, outages: pd.DataFrame, scope: pd.DataFrame,
          tree: Tree, now: datetime, cfg: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All cases with their flags, and the events behind each case (case_id, event rows)."""
    window = pd.Timedelta(minutes=cfg["match_window_minutes"])
    if breaker.empty and ami.empty:
        return _empty_cases(), pd.DataFrame(columns=EVENT_COLUMNS)
    return audit_episodes(episodes(breaker, ami, tree, now, window), outages, scope, tree, now, cfg)


def audit_episodes(found: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], outages: pd.DataFrame,
                   scope: pd.DataFrame, tree: Tree, now: datetime, cfg: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The audit from episodes already derived (they change only when events arrive)."""
    return audit_at(audit_base(found, outages, scope, tree, cfg), now, cfg)


def audit_base(found: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], outages: pd.DataFrame,
               scope: pd.DataFrame, tree: Tree, cfg: dict) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """What the audit needs that does not depend on the clock: the cases' base (`case_base`, None
    when there is no episode) and the events with their case_id. It changes only when the episodes
    or the OMS outages change."""
    window = pd.Timedelta(minutes=cfg["match_window_minutes"])
    eps, observed, events = found
    if eps.empty:
        return None, pd.DataFrame(columns=EVENT_COLUMNS)
    matched = match(eps, outages, scope, window)
    base = case_base(eps, observed, matched, outages, scope, tree, cfg)
    events = events.assign(case_id=or_own(events["ep_id"].map(matched), events["ep_id"]))
    return base, events.drop(columns="ep_id")


class Base(NamedTuple):
    """The audit's clock-independent part kept between cycles: the cases' base (`case_base`,
    indexed by case_id in order; None when there is no episode) and, per episode (index ep_id),
    its feeder and the case it belongs to."""
    cases: pd.DataFrame | None
    episodes: pd.DataFrame


def update_base(prev: Base | None, found, outages: pd.DataFrame, scope: pd.DataFrame, tree: Tree, cfg: dict,
                feeders=None) -> tuple[Base, set | None]:
    """`prev` brought up to date with `found` (the episodes: `episodes` output, or an
    `EpisodeStore`) and the OMS frames, and the ids of the cases whose base was derived again
    (None: all of them).

    `feeders` are the feeders whose episodes, or the OMS outages on whose keys (equipment or
    scope 台区), changed since `prev` (None: derive everything). Every key of an episode lies in
    its own feeder, so only the episodes of those feeders can match another outage; a case is
    derived again, with all its episodes, when it had or gets an episode there."""
    window = pd.Timedelta(minutes=cfg["match_window_minutes"])
    store = found if isinstance(found, EpisodeStore) else None
    if prev is None or feeders is None or prev.cases is None or store is None or not len(store):
        eps, observed, _ = store.whole() if store is not None else found
        if eps.empty:
            return Base(None, pd.DataFrame({"feeder_code": [], "case_id": []})), None
        matched = match(eps, outages, scope, window)
        cases = case_base(eps, observed, matched, outages, scope, tree, cfg).sort_index()
        return Base(cases, _episode_cases(eps, matched)), None
    feeders = list(feeders)
    if not feeders:
        return prev, set()
    old = prev.episodes
    was_there = old["feeder_code"].isin(feeders).to_numpy()
    there = store.for_feeders(tree.positions(feeders))[0]
    fresh = _episode_cases(there, match(there, outages, scope, window))
    kept = old[~was_there]
    episodes_now = pd.concat([kept, fresh]) if len(fresh) else kept
    touched = set(old.loc[was_there, "case_id"]) | set(fresh["case_id"])
    theirs = episodes_now[episodes_now["case_id"].isin(touched).to_numpy()]
    # the touched cases' episodes, with their observed 台区, from their own feeders only
    eps, observed, _ = store.for_feeders(tree.positions(pd.unique(theirs["feeder_code"].to_numpy(dtype=object))))
    rows = eps[eps["ep_id"].isin(theirs.index).to_numpy()]
    kept_cases = prev.cases[~prev.cases.index.isin(touched)]
    derived = case_base(rows, observed[observed["ep_id"].isin(theirs.index).to_numpy()], theirs["case_id"],
                        outages, scope, tree, cfg) if len(rows) else kept_cases.iloc[:0]
    parts = [p for p in (kept_cases, derived) if len(p)]
    cases = _merge_sorted(kept_cases, derived) if len(parts) > 1 else parts[0] if parts else None
    return Base(cases, episodes_now), touched


def _merge_sorted(kept: pd.DataFrame, fresh: pd.DataFrame) -> pd.DataFrame:
    """`pd.concat([kept, fresh]).sort_index()` for `kept` already sorted by its index and
    `fresh` a few rows whose index values are not in `kept`: the few are sorted and slotted in
    (searchsorted) instead of sorting the whole frame again."""
    fresh = fresh.sort_index()
    n, m = len(kept), len(fresh)
    at = np.searchsorted(kept.index.to_numpy(dtype=object), fresh.index.to_numpy(dtype=object)) \
        + np.arange(m)
    order = np.empty(n + m, dtype="int64")
    slot = np.ones(n + m, dtype=bool)
    slot[at] = False
    order[slot] = np.arange(n)
    order[at] = n + np.arange(m)
    return pd.concat([kept, fresh]).take(order)


def _episode_cases(eps: pd.DataFrame, matched: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"feeder_code": eps["feeder_code"].to_numpy(),
                         "case_id": or_own(eps["ep_id"].map(matched), eps["ep_id"]).to_numpy()},
                        index=pd.Index(eps["ep_id"].to_numpy()))


def case_events(events, base: Base, cases, tree: Tree | None = None) -> pd.DataFrame:
    """The events behind the given cases, with their case_id (EVENT_COLUMNS). `events` is the
    events frame of `episodes`, or an `EpisodeStore` (then read for the cases' feeders only)."""
    eps = base.episodes[base.episodes["case_id"].isin(list(cases))]
    if isinstance(events, EpisodeStore):
        events = events.for_feeders(events.tree.positions(pd.unique(eps["feeder_code"].to_numpy(dtype=object))))[2]
    if "fpos" in events:
        events = events.drop(columns="fpos")
    rows = events[events["ep_id"].isin(eps.index)]
    return rows.assign(case_id=rows["ep_id"].map(eps["case_id"]).to_numpy()).drop(columns="ep_id")


def feeders_of(codes, tree: Tree) -> set:
    """The feeders at or above the given nodes (none for a node above the feeder level or
    outside the tree)."""
    feeder = tree.ancestors["feeder"].reindex(pd.unique(pd.Series(codes, dtype=object).to_numpy()))
    return set(feeder.dropna().tolist())


def audit_at(based: tuple[pd.DataFrame | None, pd.DataFrame], now: datetime, cfg: dict
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cases with their flags at `now`, and the events behind each case."""
    base, events = based
    if base is None:
        return _empty_cases(), events
    return case_flags(base, now, cfg), events


def _empty_cases() -> pd.DataFrame:
    flags = {"ongoing", "reported", "must_report", "pending", "irregular", *FLAGS}
    dtype = {c: "datetime64[us]" if c in ("start", "end") else bool if c in flags
             else object if c in ("case_id", "kind", "equipment") else "float64" for c in CASE_COLUMNS}
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtype.items()})


def month_rates(c: pd.DataFrame, tree: Tree, now: datetime) -> pd.DataFrame:
    """Per node, over audited cases that started this month and are decided (not pending):
    counts, and the reporting completeness, timeliness and accuracy rates."""
    return month_rollup(month_leaf(c, now), tree)


def month_leaf(c: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """The month's decided audited cases as leaf counts per equipment (input of month_rollup)."""
    start = pd.Timestamp(now).normalize().replace(day=1)
    done = c[c["must_report"] & ~c["pending"] & (c["start"] >= start)]
    return pd.DataFrame({"code": done["equipment"], "must_report": 1,
                         "reported": done["reported"].astype(int),
                         "on_time": (done["reported"] & ~done["late"]).astype(int),
                         "accurate": (done["reported"] & ~done["irregular"]).astype(int),
                         **{f: done[f].astype(int) for f in (*FLAGS, "irregular")}}).reset_index(drop=True)


def month_rollup(leaf: pd.DataFrame, tree: Tree) -> pd.DataFrame:
    per_node = tree.complete(tree.rollup(leaf, "code", upto="tarea"), upto="station").astype("int64")
    must = per_node["must_report"].where(per_node["must_report"] > 0)
    per_node["completeness"] = per_node["reported"] / must
    per_node["timeliness"] = per_node["on_time"] / must
    per_node["accuracy"] = per_node["accurate"] / per_node["reported"].where(per_node["reported"] > 0)
    return per_node


MONTH_COUNTS = ["must_report", "reported", "on_time", "accurate", "irregular", *FLAGS]


class NodeSums:
    """Per tree node, the sums of integer leaf columns over the equipment at or below it (what
    `tree.rollup(..., upto="tarea")` gives), kept up to date from the leaf sums per equipment:
    only what changed at an equipment is added to its ancestors."""

    def __init__(self, tree: Tree, columns: list[str]):
        self.tree, self.columns = tree, list(columns)
        self.values = np.zeros((len(tree.nodes), len(self.columns)), dtype="int64")
        self.leaf = pd.DataFrame({c: pd.Series(dtype="int64") for c in self.columns})

    def update(self, leaf: pd.DataFrame) -> np.ndarray:
        """Take `leaf` (sums per equipment code, the index) as the new leaf values; returns the
        positions of the nodes whose sums may have changed."""
        leaf = leaf[self.columns].astype("int64")
        codes = self.leaf.index.union(leaf.index)
        delta = leaf.reindex(codes, fill_value=0) - self.leaf.reindex(codes, fill_value=0)
        delta = delta[(delta.to_numpy() != 0).any(axis=1)]
        self.leaf = leaf
        at = self.tree.positions(delta.index)
        known = at >= 0                  # a code outside the tree counts nowhere
        at, d = at[known], delta.to_numpy()[known]
        touched = []
        for level in LEVELS:
            anc = self.tree.ancestor_positions[level][at]
            has = anc >= 0
            np.add.at(self.values, anc[has], d[has])
            touched.append(anc[has])
        return np.unique(np.concatenate(touched)) if touched else np.array([], dtype="int64")

    def frame(self, positions: np.ndarray) -> pd.DataFrame:
        """The month figures of these nodes as `month_rollup` gives them (counts and rates)."""
        per_node = pd.DataFrame(self.values[positions], columns=self.columns,
                                index=pd.Index(self.tree.code_array[positions], dtype=object))
        must = per_node["must_report"].where(per_node["must_report"] > 0)
        per_node["completeness"] = per_node["reported"] / must
        per_node["timeliness"] = per_node["on_time"] / must
        per_node["accuracy"] = per_node["accurate"] / per_node["reported"].where(per_node["reported"] > 0)
        return per_node


def findings(c: pd.DataFrame, names: bool = True) -> pd.DataFrame:
    """Cases with at least one flag, with the list of their flags (`flag_names`; left out when
    not `names`)."""
    flagged = c[c[list(FLAGS)].any(axis=1)].copy()
    return flag_names(flagged) if names else flagged


def flag_names(flagged: pd.DataFrame) -> pd.DataFrame:
    """The cases with the list of their flags in column "flags"."""
    flagged = flagged.copy()
    names = np.array(FLAGS)
    flagged["flags"] = [names[row].tolist() for row in flagged[list(FLAGS)].to_numpy(dtype=bool)]
    return flagged
