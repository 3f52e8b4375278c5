"""Key customers and lifelines: supply status from OMS and SCADA, and the notice chain.

Polls key_customer_notice (OMS); reads the key customers from the customer files (topology),
the outages in progress from the outages collector and open breakers from the events collector
through the shared context. Until OMS is loaded it refuses to run: "supplied" must not be shown
only because nothing was read yet.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from collectors.base import Collector
from collectors.domain import keycustomers as kpi
from collectors.domain import validation as v
from collectors.domain.lists import json_records
from collectors.frames import typed
from collectors.plugins.events import OmsNotLoaded
from collectors.publish import Dataset
from collectors.sources.schema import key_customer_notice
from config.limits import limits

SOURCE = "OMS"
KEY = ["outage_id", "customer_id", "step"]
NO_TRIPS = pd.DataFrame({"feeder_code": pd.Series(dtype=object), "since": pd.Series(dtype="datetime64[us]")})


class KeyCustomersCollector(Collector):
    name = "keycustomers"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.notices = pd.DataFrame(columns=[*KEY, "due_at", "done_at", "updated_at"])

    def collect(self) -> dict[str, pd.DataFrame]:
        if "key_customer_notice" in self.watermarks:
            return {"key_customer_notice": self.poll(key_customer_notice)}
        since = self.ctx.clock.now() - timedelta(days=limits()["key_customers"]["notice_keep_days"])
        return {"key_customer_notice": self.ctx.source.read_table(
            key_customer_notice, key_customer_notice.c.due_at >= since)}

    def absorb(self, batches, now: datetime) -> list[dict]:
        cfg = limits()["key_customers"]
        latest = now + timedelta(minutes=5)
        rules = [*v.required(*KEY, "due_at", "updated_at"), v.one_of("step", cfg["notice_steps"]),
                 v.timestamp("due_at", now + timedelta(days=400)), v.timestamp("updated_at", latest),
                 v.timestamp("done_at", latest, optional=True)]
        good, rejects = v.apply_rules(batches["key_customer_notice"], rules, source=SOURCE,
                                      table="key_customer_notice", key=KEY)
        good = typed(good, times=("due_at", "done_at", "updated_at"))[self.notices.columns]
        both = pd.concat([self.notices, good], ignore_index=True) if not self.notices.empty else good
        both = both.sort_values("updated_at", kind="stable").drop_duplicates(KEY, keep="last")
        keep = pd.Timestamp(now) - pd.Timedelta(days=cfg["notice_keep_days"])
        self.notices = both[both["due_at"] >= keep].reset_index(drop=True)
        return rejects

    def datasets(self, now: datetime) -> list[Dataset]:
        outages, scope = self.ctx.frames.get("outages.outages"), self.ctx.frames.get("outages.scope")
        if outages is None or scope is None:
            raise OmsNotLoaded("OMS outages not loaded yet: key-customer status waits for the outages collector")
        customers = self.ctx.key_customers
        tripped = self.ctx.frames.get("events.tripped", NO_TRIPS)
        status = kpi.power_status(customers, kpi.lost_feeders(outages, tripped, now),
                                  kpi.tareas_out(outages, scope, now), now)
        notices = self.notices.assign(state=kpi.notice_states(self.notices, now))
        per_node = kpi.node_kpis(status, notices, customers, self.tree)
        self.ctx.frames["keycustomers.nodes"] = per_node
        entries = {code: {k: (round(float(x), 2) if k == "keycust_single_source_minutes" else int(x))
                          for k, x in row.items()} for code, row in per_node.iterrows()}
        entries.update(self._customers(customers, status, notices, outages))
        return [Dataset("keycustomers", now, entries)]

    @staticmethod
    def _customers(customers: pd.DataFrame, status: pd.DataFrame, notices: pd.DataFrame,
                   outages: pd.DataFrame) -> dict[str, dict]:
        """One entry per customer, "kc:<customer_id>": who, status, sources, notice steps."""
        info = customers[["customer_id", "name", "category", "lifeline", "importance"]].reset_index(drop=True)
        rows = json_records(info.merge(status, on="customer_id"))
        starts = outages.set_index("outage_id")["start_at"] if not outages.empty else pd.Series(dtype=object)
        steps = notices.assign(outage_start=notices["outage_id"].map(starts))
        chains = {cid: json_records(part.drop(columns=["customer_id", "updated_at"]).sort_values("due_at"))
                  for cid, part in steps.groupby("customer_id")}
        return {f"kc:{r['customer_id']}": {**r, "notices": chains.get(r["customer_id"], [])} for r in rows}
