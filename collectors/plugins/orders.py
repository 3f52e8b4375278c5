"""95598 work orders: polled by watermark, kept as the latest version of each order."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from collectors.base import Collector
from collectors.domain import orders as kpi
from collectors.domain import sensitive
from collectors.domain.lists import top_per_node
from collectors.domain import validation as v
from collectors.frames import conflicts_within, typed, upsert
from collectors.publish import Dataset
from collectors.redis_schema import DEFAULT_ENTRY
from collectors.sources.schema import ORDER_STEPS, ORDER_TYPES, wo_order
from config.limits import limits

SOURCE = "95598"
STEP_COLS = [f"{s}_at" for s in ORDER_STEPS]
STATUSES = (*ORDER_STEPS, "cancelled")
STEP_RANK = {s: i for i, s in enumerate(ORDER_STEPS)} | {"cancelled": len(ORDER_STEPS)}
KEY = ["order_no"]


class OrdersCollector(Collector):
    name = "orders"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.state = pd.DataFrame()

    def collect(self) -> dict[str, pd.DataFrame]:
        if "wo_order" in self.watermarks:
            return {"wo_order": self.poll(wo_order)}
        # First cycle: the baseline window, plus every order still open however old.
        since = self.ctx.clock.now() - timedelta(days=limits()["baseline"]["lookback_days"] + 1)
        where = (wo_order.c.accepted_at >= since) | wo_order.c.restored_at.is_(None)
        return {"wo_order": self.ctx.source.read_table(wo_order, where)}

    def rules(self, now: datetime) -> list[v.Rule]:
        latest = now + timedelta(minutes=5)
        return [*v.required("order_no", "order_type", "customer_id", "tarea_code", "channel",
                            "status", "accepted_at", "updated_at"),
                *[v.text(c, 32) for c in ("order_no", "customer_id", "tarea_code", "subtype")],
                v.text("content"), v.one_of("order_type", ORDER_TYPES), v.one_of("status", STATUSES),
                v.known_code("tarea_code", self.tree.codes("tarea")),
                v.timestamp("accepted_at", latest), v.timestamp("updated_at", latest),
                *[v.timestamp(c, latest, optional=True) for c in STEP_COLS[1:]],
                v.Rule("status", "lifecycle_order", _lifecycle_broken)]

    def absorb(self, batches, now: datetime) -> list[dict]:
        raw = batches["wo_order"]
        good, rejects = v.apply_rules(raw, self.rules(now), source=SOURCE, table="wo_order", key=KEY)
        good = typed(good, times=(*STEP_COLS, "updated_at"), flags=("key_customer",))
        conflict = conflicts_within(good, KEY, "updated_at")
        rejects += self._reject(good[conflict], "order_no", "duplicate_conflict")
        good = good[~conflict]
        good, more = self._against_state(good)
        rejects += more
        areas = self.tree.nodes["area_type"]
        good = good.assign(area_type=areas.reindex(good["tarea_code"]).to_numpy())
        self.state = upsert(self.state, good, "order_no")
        self._retain(now)
        return rejects

    def _against_state(self, good: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
        """Re-read rows change nothing; same version with other content, or a step back, is rejected."""
        if self.state.empty or good.empty:
            return good, []
        prev = self.state.reindex(good["order_no"])
        known = prev["order_no"].notna().to_numpy()
        prev_ts = prev["updated_at"].to_numpy()
        same_version = known & (good["updated_at"].to_numpy() == prev_ts)
        older = known & (good["updated_at"].to_numpy() < prev_ts)
        cols = ["status", *STEP_COLS, "tarea_code", "order_type"]
        differs = ~(good[cols].astype("string").fillna("") .to_numpy()
                    == prev[cols].astype("string").fillna("").to_numpy()).all(axis=1)
        conflict = same_version & differs
        backwards = known & ~same_version & ~older & (
            good["status"].map(STEP_RANK).to_numpy() < prev["status"].map(STEP_RANK).to_numpy())
        rejects = (self._reject(good[conflict], "order_no", "duplicate_conflict")
                   + self._reject(good[backwards], "status", "status_backwards"))
        return good[~(conflict | backwards | older)], rejects

    @staticmethod
    def _reject(rows: pd.DataFrame, field: str, rule: str) -> list[dict]:
        return [v.reject_record(r, source=SOURCE, table="wo_order", key=KEY, field=field, rule=rule)
                for _, r in rows.iterrows()]

    def _retain(self, now: datetime) -> None:
        horizon = pd.Timestamp(now) - pd.Timedelta(days=limits()["baseline"]["lookback_days"] + 1)
        s = self.state
        self.state = s[(s["accepted_at"] >= horizon) | kpi.open_repair_mask(s)]

    def datasets(self, now: datetime) -> list[Dataset]:
        if self.state.empty:
            self.state = pd.DataFrame(columns=[c.name for c in wo_order.c] + ["area_type"])
            self.state = typed(self.state, times=(*STEP_COLS, "updated_at"))
        cfg = limits()
        per_node = kpi.node_kpis(self.state, self.tree, now, cfg)
        self.ctx.frames["orders.nodes"] = per_node
        days = per_node.attrs["baseline_days"]
        upper = self.tree.nodes.index[self.tree.nodes["level"] != "tarea"]
        entries = kpi.payloads(kpi.active_nodes(per_node, upper), days)
        entries[DEFAULT_ENTRY] = kpi.zero_payload(days)
        rep = cfg["repair"]
        clocks = top_per_node(kpi.countdowns(self.state, now, rep), self.tree, "tarea_code",
                              rep["countdown_levels"], ["minutes_left"], [True], rep["countdown_top"])
        published = [Dataset("orders", now, entries), Dataset("countdowns", now, clocks)]
        return published + self._sensitive(now, cfg["sensitive"])

    def _sensitive(self, now: datetime, cfg: dict) -> list[Dataset]:
        """Sensitive orders need OMS (a group of calls with no known outage): wait for it."""
        outages, scope = self.ctx.frames.get("outages.outages"), self.ctx.frames.get("outages.scope")
        if outages is None or scope is None:
            return []
        frequent = self.ctx.frames.get("outages.frequent", pd.DataFrame({"level": []}))["level"]
        flags = sensitive.classify(self.state, cfg, frequent, outages, scope, now)
        per_node = sensitive.node_kpis(self.state, flags, self.tree, now, cfg)
        self.ctx.frames["orders.sensitive"] = per_node
        lists = top_per_node(sensitive.listing(self.state, flags, now, cfg), self.tree, "tarea_code",
                             cfg["list_levels"], ["accepted_at", "order_no"], [False, False], cfg["list_top"])
        return [Dataset("sensitive", now, sensitive.payloads(per_node, lists, self.tree))]


def _lifecycle_broken(df: pd.DataFrame) -> pd.Series:
    """A later step stamped before an earlier one, or a status whose own step has no time."""
    times = pd.DataFrame({c: v.to_datetime(df[c]) for c in STEP_COLS})
    filled = times.ffill(axis=1)
    backwards = (times.iloc[:, 1:].to_numpy() < filled.iloc[:, :-1].to_numpy()).any(axis=1)
    missing = np.zeros(len(df), dtype=bool)
    for step in ORDER_STEPS:
        missing |= ((df["status"] == step) & times[f"{step}_at"].isna()).to_numpy()
    return pd.Series(backwards | missing, index=df.index)
