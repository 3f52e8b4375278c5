"""用电信息采集 (AMI): 台区 load and voltage every 15 min → heavy/overload 台区, low voltage."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from collectors.base import Collector
from collectors.domain import load as kpi
from collectors.domain import validation as v
from collectors.frames import conflicts_within, typed
from collectors.publish import Dataset
from collectors.sources.schema import ami_tarea_load
from config.limits import limits

SOURCE = "AMI"
KEY = ["tarea_code", "ts"]
VALUES = ["active_kw", "apparent_kva", "voltage_min_v", "low_voltage_customers"]
KEEP = pd.Timedelta(hours=3)   # the 8-point rule needs 2 h; keep a margin for late rows


class AmiCollector(Collector):
    name = "ami"
    measurements = True

    def __init__(self, ctx):
        super().__init__(ctx)
        self.points = pd.DataFrame(columns=[*KEY, *VALUES, "updated_at"])

    def collect(self) -> dict[str, pd.DataFrame]:
        if "ami_tarea_load" in self.watermarks:
            return {"ami_tarea_load": self.poll(ami_tarea_load)}
        since = self.ctx.clock.now() - KEEP.to_pytimedelta()
        return {"ami_tarea_load": self.ctx.source.read_table(ami_tarea_load, ami_tarea_load.c.ts >= since)}

    def rules(self, now: datetime) -> list[v.Rule]:
        latest = now + timedelta(minutes=5)
        cap = self.tree.nodes["capacity_kva"]
        return [*v.required(*KEY, *VALUES, "updated_at"), v.text("tarea_code", 32),
                v.known_code("tarea_code", self.tree.codes("tarea")),
                v.timestamp("ts", latest), v.timestamp("updated_at", latest),
                v.number("active_kw", 0, 1e6), v.number("apparent_kva", 0, 1e6),
                v.number("voltage_min_v", 0, 1000), v.number("low_voltage_customers", 0, 1e5),
                v.Rule("apparent_kva", "over_10x_capacity",
                       lambda df: pd.to_numeric(df["apparent_kva"], errors="coerce")
                       > 10 * cap.reindex(df["tarea_code"]).to_numpy())]

    def absorb(self, batches, now: datetime) -> list[dict]:
        good, rejects = v.apply_rules(batches["ami_tarea_load"], self.rules(now), source=SOURCE,
                                      table="ami_tarea_load", key=KEY)
        good = typed(good, times=("ts", "updated_at"), numbers=VALUES)[[*KEY, *VALUES, "updated_at"]]
        conflict = conflicts_within(good, KEY, "updated_at")
        rejects += [v.reject_record(r, source=SOURCE, table="ami_tarea_load", key=KEY, field="ts",
                                    rule="duplicate_conflict") for _, r in good[conflict].iterrows()]
        both = pd.concat([self.points, good[~conflict]], ignore_index=True) if not self.points.empty \
            else good[~conflict]
        both = both.sort_values("updated_at", kind="stable").drop_duplicates(KEY, keep="last")
        self.points = both[both["ts"] >= pd.Timestamp(now) - KEEP].reset_index(drop=True)
        return rejects

    def datasets(self, now: datetime) -> list[Dataset]:
        per_node = kpi.tarea_load(self.points, self.tree, now, limits()["load"])
        self.ctx.frames["ami.nodes"] = per_node.drop(columns="ami_ts")
        entries = {}
        for code, row in per_node.iterrows():
            total = int(row["tareas_total"]) if pd.notna(row["tareas_total"]) else 0
            if total == 0 and not row["heavy_tareas"] and not row["low_voltage_customers"]:
                continue  # a 台区 with nothing to report
            entries[code] = {"heavy_tareas": int(row["heavy_tareas"]),
                             "overload_tareas": int(row["overload_tareas"]),
                             "low_voltage_customers": int(row["low_voltage_customers"]),
                             "tareas_reporting": int(row["tareas_reporting"]),
                             "tareas_total": total}
        last = self.points["ts"].max()
        return [Dataset("ami", last.to_pydatetime() if pd.notna(last) else now, entries)]
