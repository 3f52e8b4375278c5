"""95598 work orders: polled by watermark, kept as the latest version of each order.

The state spans the 35-day baseline lookback (~750k orders at province scale), so it is kept
columnar and updated in place (`domain.orders.OrderStore`): numpy arrays, codes for the repeated
values, no order text (the text rules become flags when a version is absorbed). A cycle selects
with numpy masks the few rows each KPI can count and hands only those to the pandas KPIs, so its
cost follows what is open, today's and the baseline days, not the whole window.
"""
from __future__ import annotations

import marshal
import pickle
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from collectors.base import FUTURE_TOLERANCE, Collector, Cycle
from collectors.domain import orders as kpi
from collectors.domain import sensitive
from collectors.domain.calendar import same_type_days
from collectors.domain import validation as v
from collectors.frames import SeenRows, conflicts_within, typed
from collectors.publish import Dataset, Patch, RawJSON, dumps, patch_digest
from collectors.redis_schema import DEFAULT_ENTRY
from collectors.sources.adapter import raw_select
from collectors.sources.schema import ORDER_STEPS, ORDER_TYPES, wo_order
from config.limits import limits

SOURCE = "95598"
STEP_COLS = [f"{s}_at" for s in ORDER_STEPS]
STATUSES = (*ORDER_STEPS, "cancelled")
STEP_RANK = {s: i for i, s in enumerate(ORDER_STEPS)} | {"cancelled": len(ORDER_STEPS)}
KEY = ["order_no"]
# what the repair KPIs and countdowns read of an order
KPI_COLUMNS = ["order_type", "tarea_code", "status", "area_type", "key_customer", "accepted_at",
               "arrived_at", "restored_at"]


class OrdersCollector(Collector):
    name = "orders"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.store = kpi.OrderStore(times=(*STEP_COLS, "updated_at"))
        self._no_frequent = pd.Series(dtype="float64")
        self._tareas = (None, None, None)   # (tree, its 台区 codes, the nodes above), per tree
        self.repair: kpi.RepairKpis | None = None    # running repair KPIs (one day, tree, store generation)
        self.sensitive: sensitive.SensitiveState | None = None   # running sensitive orders (tree, generation)
        self.countdowns: kpi.CountdownTexts | None = None        # per-order countdown texts (generation)
        self.published = {name: Entries(name) for name in ("orders", "sensitive", "countdowns")}

    @property
    def state(self) -> pd.DataFrame:
        """Every kept order as a frame indexed by order number (for inspection and tests)."""
        return self.store.frame(keyed=True)

    def collect(self) -> dict[str, pd.DataFrame]:
        if "wo_order" in self.watermarks:
            return {"wo_order": self.poll(wo_order)}
        # First cycle: the baseline window, plus every order still open however old.
        since = self.ctx.clock.now() - timedelta(days=limits()["baseline"]["lookback_days"] + 1)
        where = (wo_order.c.accepted_at >= since) | wo_order.c.restored_at.is_(None)
        return {"wo_order": self.ctx.source.read_table(wo_order, where)}

    def poll(self, table) -> pd.DataFrame:
        """Collector.poll, with the rows seen before told apart on the driver's own tuples: the
        overlap re-reads ~10k rows an hour at province scale, and a frame of them all plus
        hashing each column as pandas text cost more than the query. A row is seen when a row
        of the same content (every column, typed as the driver gives it) was absorbed before,
        as SeenRows decides; only the rest become a frame."""
        mark = self.watermarks.get(table.name)
        stmt = raw_select(table)
        if mark is not None:
            stmt = stmt.where(table.c.updated_at >= mark - timedelta(seconds=self.overlap_s))
        columns, rows = self.ctx.source.read_rows(stmt.order_by(table.c.updated_at))
        seen = self._seen.setdefault(table.name, SeenRows())
        hashes = row_hashes(rows)
        fresh = np.flatnonzero(~pd.Index(hashes).isin(seen.hashes.index)) if len(seen.hashes) else np.arange(len(rows))
        frame = pd.DataFrame([rows[i] for i in fresh.tolist()], columns=columns)
        self._pending[table.name] = pd.Series(v.to_datetime(frame["updated_at"]).to_numpy(), index=hashes[fresh])
        return frame

    def cycle(self, now: datetime):
        """The first cycle reads its window in slices of accepted_at, each absorbed before the
        next is read: at province scale the raw rows of 35 days (every value a Python object)
        would take several times the memory of the state they become."""
        if "wo_order" in self.watermarks:
            return super().cycle(now)
        self.tree  # noqa: B018  (raises before touching the source when the tree is missing)
        result = Cycle()
        stamps = []    # the watermark moves only once every slice is in (a failed read retries all)
        for where in _bootstrap_slices(self.ctx.clock.now(), limits()["baseline"]["lookback_days"] + 1):
            chunk = self.ctx.source.read_table(wo_order, where)
            result.rows_in += len(chunk)
            result.rejects += self.absorb({"wo_order": chunk}, now)
            ts = v.to_datetime(chunk["updated_at"]) if not chunk.empty else pd.Series(dtype="datetime64[us]")
            newest = ts[ts <= pd.Timestamp(now) + FUTURE_TOLERANCE].max()
            if pd.notna(newest):      # what advance() would take from the whole slice
                stamps.append(pd.DataFrame({"updated_at": [newest]}))
            del chunk
        for part in stamps:
            self.advance("wo_order", part, now)
        self.store.fit()
        self._commit_seen()
        return result, self.datasets(now)

    def _tarea_codes(self) -> pd.Index:
        tree = self.tree
        if self._tareas[0] is not tree:
            self._tareas = (tree, tree.codes("tarea"), tree.nodes.index[tree.nodes["level"] != "tarea"])
        return self._tareas[1]

    def _upper(self) -> pd.Index:
        """The nodes above 台区 level (of the current tree)."""
        self._tarea_codes()
        return self._tareas[2]

    def rules(self, now: datetime, parsed: dict[str, pd.Series] | None = None) -> list[v.Rule]:
        """`parsed`: the batch's timestamps already parsed (each column once per batch, not once
        per rule; the index of the batch)."""
        latest = now + timedelta(minutes=5)
        stamp = v.timestamp if parsed is None else (
            lambda c, at, optional=False: _parsed_timestamp(c, at, parsed, optional))
        lifecycle = _lifecycle_broken if parsed is None else (lambda df: _lifecycle_broken(df, parsed))
        return [*v.required("order_no", "order_type", "customer_id", "tarea_code", "channel",
                            "status", "accepted_at", "updated_at"),
                *[v.text(c, 32) for c in ("order_no", "customer_id", "tarea_code", "subtype")],
                v.text("content"), v.one_of("order_type", ORDER_TYPES), v.one_of("status", STATUSES),
                _known_code("tarea_code", self._tarea_codes()),
                stamp("accepted_at", latest), stamp("updated_at", latest),
                *[stamp(c, latest, optional=True) for c in STEP_COLS[1:]],
                v.Rule("status", "lifecycle_order", lifecycle)]

    def absorb(self, batches, now: datetime) -> list[dict]:
        raw = batches["wo_order"]
        if raw.empty:
            self._retain(now)
            return []
        parsed = {c: _parse(raw[c]) for c in (*STEP_COLS, "updated_at")}
        good, rejects = v.apply_rules(raw, self.rules(now, parsed), source=SOURCE, table="wo_order", key=KEY)
        if good.empty:
            self._retain(now)
            return rejects
        good = typed(good, flags=("key_customer",)).assign(**{c: p.loc[good.index] for c, p in parsed.items()})
        conflict = conflicts_within(good, KEY, "updated_at")
        rejects += self._reject(good[conflict], "order_no", "duplicate_conflict")
        good = good[~conflict]
        good, more = self._against_state(good)
        rejects += more
        areas = self.tree.nodes["area_type"]
        cfg = limits()["sensitive"]
        good = good.assign(area_type=areas.reindex(good["tarea_code"]).to_numpy(),
                           **sensitive.text_flags(good, cfg))
        sens = self.sensitive
        live = sens is not None and sens.generation == self.store.generation and sens.tree is self.tree
        if live:
            sens.before_write(self.store, self.store.rows_of(good["order_no"].to_numpy(dtype=object)))
        rows = self.store.upsert(good)
        if live:
            sens.written(rows)
        if self.countdowns is not None:
            self.countdowns.forget(rows)
        r = self.repair
        if r is not None and r.generation == self.store.generation and r.tree is self.tree:
            r.update(self.store, rows)
        self._retain(now)
        return rejects

    def _against_state(self, good: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
        """Re-read rows change nothing; same version with other content, or a step back, is rejected."""
        if self.store.n == 0 or good.empty:
            return good, []
        rows = self.store.rows_of(good["order_no"].to_numpy())
        known = rows >= 0
        if not known.any():
            return good, []
        cols = ["status", *STEP_COLS, "tarea_code", "order_type", "updated_at"]
        prev = self.store.frame(rows=rows[known], columns=cols)
        mine = good[known]
        prev_ts = prev["updated_at"].to_numpy()
        same_version = mine["updated_at"].to_numpy() == prev_ts
        older = mine["updated_at"].to_numpy() < prev_ts
        cmp = cols[:-1]
        differs = ~(mine[cmp].astype("string").fillna("").to_numpy()
                    == prev[cmp].astype("string").fillna("").to_numpy()).all(axis=1)
        conflict = same_version & differs
        backwards = ~same_version & ~older & (
            mine["status"].map(STEP_RANK).to_numpy() < prev["status"].astype(object).map(STEP_RANK).to_numpy())
        drop = np.zeros(len(good), dtype=bool)
        drop[known] = conflict | backwards | older
        rejects = (self._reject(mine[conflict], "order_no", "duplicate_conflict")
                   + self._reject(mine[backwards], "status", "status_backwards"))
        return good[~drop], rejects

    @staticmethod
    def _reject(rows: pd.DataFrame, field: str, rule: str) -> list[dict]:
        return [v.reject_record(r, source=SOURCE, table="wo_order", key=KEY, field=field, rule=rule)
                for _, r in rows.iterrows()]

    def _retain(self, now: datetime) -> None:
        """Forget closed orders accepted before the lookback (+1 day); checked at the day's turn,
        so the store is compacted once a day, not every cycle."""
        horizon = pd.Timestamp(now).normalize() - pd.Timedelta(days=limits()["baseline"]["lookback_days"] + 1)
        if self.store.horizon == horizon:
            return
        s = self.store
        keep = (s.col("accepted_at") >= horizon.to_datetime64()) | s.open_repair()
        s.keep(keep)
        s.horizon = horizon

    def _repair_kpis(self, now: datetime, cfg: dict) -> tuple[kpi.RepairKpis, bool]:
        """The running repair KPIs, built again for a new day, tree or compacted store."""
        r = self.repair
        if r is None or r.today != now.date() or r.tree is not self.tree or r.generation != self.store.generation:
            self.repair = r = kpi.RepairKpis(self.tree, self.store, now, cfg)
            return r, True
        return r, False

    def datasets(self, now: datetime) -> list[Dataset]:
        cfg = limits()
        s = self.store
        repair, fresh = self._repair_kpis(now, cfg)
        whole, moved = repair.cycle(s, now)
        # the nodes down to feeder level (what the warnings read), in code order
        self.ctx.frames["orders.nodes"] = whole
        days = repair.baseline_days
        shown = kpi.active_nodes(moved, self._upper())
        changed = kpi.payloads(shown, days)
        changed[DEFAULT_ENTRY] = kpi.zero_payload(days)
        entries = self.published["orders"]
        removed = (set(entries.json) - set(changed) if fresh
                   else moved.index[~moved.index.isin(shown.index)])
        rep = cfg["repair"]
        texts = self.countdowns
        if texts is None or texts.generation != s.generation or texts.rep is not rep:
            self.countdowns = texts = kpi.CountdownTexts(s, rep)
        clocks = texts.lists(s, now, self.tree, rep["countdown_levels"], rep["countdown_top"])
        lists = self.published["countdowns"]
        published = [entries.dataset(now, changed, removed),
                     lists.dataset(now, {k: RawJSON(v) for k, v in clocks.items()}, set(lists.json) - set(clocks))]
        return published + self._sensitive(now, cfg["sensitive"])

    def _sensitive(self, now: datetime, cfg: dict) -> list[Dataset]:
        """Sensitive orders need OMS (a group of calls with no known outage): wait for it."""
        outages, scope = self.ctx.frames.get("outages.outages"), self.ctx.frames.get("outages.scope")
        if outages is None or scope is None:
            return []
        frequent = self.ctx.frames.get("outages.frequent")
        if frequent is None:
            frequent = self._no_frequent
        else:
            frequent = frequent["level"] if not hasattr(self, "_freq") or self._freq[0] is not frequent \
                else self._freq[1]
            self._freq = (self.ctx.frames.get("outages.frequent"), frequent)
        st = self.sensitive
        if st is None or st.tree is not self.tree or st.generation != self.store.generation:
            self.sensitive = st = sensitive.SensitiveState(self.tree, self.store, cfg)
        fresh = st.fresh
        whole, moved, lists = st.cycle(self.store, now, frequent, outages, scope, self.ctx.frames.get("outages.log"))
        self.ctx.frames["orders.sensitive"] = whole
        shown = moved[moved.index.isin(self._upper()) | (moved["sensitive"] > 0)]
        changed = {k: RawJSON(v) for k, v in sensitive.payload_text(shown, st.lists).items()}
        entries = self.published["sensitive"]
        removed = (set(entries.json) - set(changed) if fresh
                   else moved.index[~moved.index.isin(shown.index)])
        return [entries.dataset(now, changed, removed)]


def _row_hash(row: tuple) -> int:
    try:
        return hash(marshal.dumps(row))       # type-tagged bytes: 1, 1.0 and '1' differ
    except ValueError:                        # a driver's datetime, Decimal, ...
        return hash(pickle.dumps(row, 5))


def row_hashes(rows: list[tuple]) -> np.ndarray:
    """A 64-bit hash of each driver row's content, its values' types included (within one
    process; what SeenRows keeps for the rows already absorbed)."""
    return np.fromiter(map(_row_hash, rows), dtype="int64", count=len(rows))


def _bootstrap_slices(now: datetime, days: int, step_days: int = 3):
    """The first cycle's rows (accepted in the last `days`, or still open however old), as
    disjoint where-clauses on accepted_at; the last is open-ended (rows stamped ahead)."""
    acc = wo_order.c.accepted_at
    since = now - timedelta(days=days)
    yield (acc.is_(None) | (acc < since)) & wo_order.c.restored_at.is_(None)
    start = since
    while start + timedelta(days=step_days) <= now:
        yield (acc >= start) & (acc < start + timedelta(days=step_days))
        start += timedelta(days=step_days)
    yield acc >= start


def _known_code(field: str, codes: pd.Index) -> v.Rule:
    """validation.known_code through the index's own lookup table (built once per tree): isin
    would hash the province's 330k 台区 codes again on every batch."""
    return v.Rule(field, "known_code", lambda df: pd.Series(
        df[field].notna().to_numpy() & (codes.get_indexer(df[field].to_numpy(dtype=object)) < 0), index=df.index))


def _parse(raw: pd.Series):
    """The column parsed, or the error parsing raised (the rules using it raise it again, so the
    rows are rejected as rule_error exactly as without the cache)."""
    try:
        return v.to_datetime(raw)
    except Exception as exc:  # noqa: BLE001
        return exc


def _column(parsed: dict, field: str, index: pd.Index) -> pd.Series:
    ts = parsed[field]
    if isinstance(ts, Exception):
        raise ts
    return ts.reindex(index)


def _parsed_timestamp(field: str, latest: datetime, parsed: dict[str, pd.Series], optional: bool) -> v.Rule:
    """validation.timestamp, on the column parsed once for the batch."""
    def broken(df):
        ts = _column(parsed, field, df.index)
        bad = ts.isna() | (ts < v.EARLIEST) | (ts > pd.Timestamp(latest))
        return bad & df[field].notna() if optional else bad
    return v.Rule(field, "timestamp", broken)


def _lifecycle_broken(df: pd.DataFrame, parsed: dict[str, pd.Series] | None = None) -> pd.Series:
    """A later step stamped before an earlier one, or a status whose own step has no time."""
    times = pd.DataFrame({c: v.to_datetime(df[c]) if parsed is None else _column(parsed, c, df.index)
                          for c in STEP_COLS})
    filled = times.ffill(axis=1)
    backwards = (times.iloc[:, 1:].to_numpy() < filled.iloc[:, :-1].to_numpy()).any(axis=1)
    missing = np.zeros(len(df), dtype=bool)
    for step in ORDER_STEPS:
        missing |= ((df["status"] == step) & times[f"{step}_at"].isna()).to_numpy()
    return pd.Series(backwards | missing, index=df.index)


class Entries:
    """A dataset's entries as last handed to publish, as JSON text: each cycle hands over only
    the entries that may have moved; those whose text did not change are dropped, and the rest
    go out as a patch (publish writes just them when Redis holds the base, everything otherwise).
    Readers see the same bytes as a whole rewrite would give."""

    def __init__(self, name: str):
        self.name = name
        self.json: dict[str, RawJSON] = {}
        self.digest = "empty"

    def dataset(self, now: datetime, changed: dict[str, object], removed) -> Dataset:
        json, put = self.json, {}
        for key, value in changed.items():
            text = value if isinstance(value, RawJSON) else RawJSON(dumps(value))
            if json.get(key) != text:
                put[key] = text
        gone = [k for k in removed if k in json and k not in changed]
        json.update(put)
        for k in gone:
            del json[k]
        base, self.digest = self.digest, patch_digest(self.digest, put, gone)
        return Dataset(self.name, now, dict(json), digest=self.digest, patch=Patch(base, put, gone))
