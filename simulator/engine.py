"""The Simulation: build, backfill, resume, advance, prune. See simulator/__init__.py for the API."""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import delete, text

from collectors.sources import schema as S

from . import params as P
from .db import Dialect, col, make_engine
from .geo import district_geojson
from .load import LoadModel
from .planner import Batch, Planner
from .reveal import reveal
from .scales import get_scale
from .tables import sim_metadata
from .timebase import DAY, HOUR, MIN, to_sec
from .topology import build
from .weather import Weather

log = logging.getLogger("simulator")
FORMAT_VERSION = "4"   # 4: grid_area (district outlines)
PLAN_AHEAD = 2 * HOUR
SCHEDULE_AHEAD = 8 * DAY
ORDER_STEP_COLS = [f"{s}_at" for s in S.ORDER_STEPS] + ["cancelled_at"]


class Simulation:
    """A simulated city writing the five source systems into one SQL database."""

    def __init__(self, url: str, scale: str = "demo", scenario: str = "normal", seed: int = 1):
        if scenario not in ("normal", "heatwave", "typhoon"):
            raise ValueError(f"unknown scenario {scenario!r}")
        self.url = url
        self.scale = get_scale(scale)
        self.scenario = scenario
        self.seed = int(seed)
        self.engine = make_engine(url)
        self.d = Dialect(self.engine)
        self.topo = build(self.scale, self.seed)
        self.t_pos = {c: i for i, c in enumerate(self.topo.tareas["code"])}
        self.anchor: int | None = None
        self.start: int | None = None
        self.last_tick: int | None = None
        self.planned_until: int | None = None
        self.scheduled_until: int | None = None
        self.last_prune = 0
        self.pruned_until: int | None = None
        self.iv = np.zeros((0, 4))  # outage intervals: tarea pos, start, end, share
        self.stats = {"rows": 0}

    # --- models (need the anchor) -------------------------------------------------------------
    def _models(self) -> None:
        self.weather = Weather.for_topology(self.seed, self.scenario, self.anchor, self.topo.districts)
        self.load = LoadModel(self.topo, self.weather, self.seed)
        self.planner = Planner(self.topo, self.weather, self.load, self.seed)

    def _identity(self) -> dict:
        return {"seed": str(self.seed), "scale": self.scale.name, "scenario": self.scenario,
                "version": FORMAT_VERSION}

    def _read_meta(self) -> dict:
        try:
            with self.engine.connect() as c:
                return dict(c.execute(text("SELECT key, value FROM sim_meta")).fetchall())
        except Exception:
            return {}

    def _write_meta(self, conn, **kv) -> None:
        for k, v in kv.items():
            conn.execute(text("DELETE FROM sim_meta WHERE key = :k"), {"k": k})
            conn.execute(text("INSERT INTO sim_meta (key, value) VALUES (:k, :v)"), {"k": k, "v": str(v)})

    # --- bootstrap ------------------------------------------------------------------------------
    def bootstrap(self, now: datetime, backfill_days: float | None = None, rebuild: bool = False) -> str:
        """Resume a matching simulation in the database, or rebuild it with history up to `now`.

        Returns 'resumed' or 'rebuilt'.
        """
        now_s = to_sec(now)
        meta = self._read_meta()
        ident = self._identity()
        if (not rebuild and meta.get("ready") == "1" and all(meta.get(k) == v for k, v in ident.items())
                and now_s - int(meta["last_tick"]) < 10 * DAY and now_s >= int(meta["last_tick"])):
            self.anchor, self.start = int(meta["anchor"]), int(meta["start"])
            self.last_tick = int(meta["last_tick"])
            self.planned_until = int(meta["planned_until"])
            self.scheduled_until = int(meta["scheduled_until"])
            self._models()
            self.planner.report_seq = int(meta.get("report_seq", 0))
            self._load_state()
            self.advance(now)
            return "resumed"
        self._rebuild(now_s, backfill_days)
        return "rebuilt"

    def _rebuild(self, now: int, backfill_days: float | None) -> None:
        t0 = time.time()
        sc = self.scale
        event_days = sc.event_days if backfill_days is None else float(backfill_days)
        self.anchor = now
        self.start = (now - int(event_days * DAY)) // HOUR * HOUR
        self._models()
        S.metadata.drop_all(self.engine)
        sim_metadata.drop_all(self.engine)
        S.metadata.create_all(self.engine)
        sim_metadata.create_all(self.engine)
        topo_stamp = min(self.start, now - int(max(sc.scada_days, 1) * DAY) - 400 * DAY)
        with self.engine.begin() as c:
            self._write_meta(c, **self._identity(), ready="0", anchor=self.anchor, start=self.start)
            self._write_topology(c, topo_stamp)
        # plans: every hour from the start, planned outages 8 days ahead
        self.planner.reset_crews(self.start)
        self.planned_until = self.start
        self.scheduled_until = self.start
        self._plan_until(now + PLAN_AHEAD)
        t_plan = time.time()
        # measurements
        self._backfill_measurements(now)
        t_meas = time.time()
        with self.engine.begin() as c:
            reveal(c, self.d, 0, now, stamp="event")
            self._write_meta(c, last_tick=now, ready="1")
        self.last_tick = now
        self.last_prune = now
        log.info("rebuilt %s/%s seed %s: plan %.1fs, measurements %.1fs, reveal %.1fs",
                 sc.name, self.scenario, self.seed, t_plan - t0, t_meas - t_plan, time.time() - t_meas)

    def _write_topology(self, c, stamp: int) -> None:
        n = self.topo.nodes
        up = [self.d.ts(stamp)] * len(n)
        self.d.insert_rows(c, "grid_node", ["code", "name", "level", "parent_code", "area_type", "customers",
                                            "capacity_kva", "rated_current_a", "lon", "lat", "updated_at"],
                           [col(n["code"]), col(n["name"]), col(n["level"]), col(n["parent_code"]),
                            col(n["area_type"]), col(n["customers"]), col(n["capacity_kva"]),
                            col(n["rated_current_a"]), col(n["lon"]), col(n["lat"]), up])
        areas = district_geojson(seed=self.seed, topo=self.topo)["features"]
        self.d.insert_rows(c, "grid_area", ["code", "geometry", "updated_at"],
                           [[f["id"] for f in areas], [json.dumps(f["geometry"]) for f in areas],
                            [self.d.ts(stamp)] * len(areas)])
        k = self.topo.key_customers
        up = [self.d.ts(stamp)] * len(k)
        self.d.insert_rows(c, "key_customer", ["customer_id", "name", "category", "lifeline", "importance",
                                               "tarea_code", "primary_feeder", "backup_feeder", "updated_at"],
                           [col(k["customer_id"]), col(k["name"]), col(k["category"]),
                            [bool(x) for x in k["lifeline"]], col(k["importance"]), col(k["tarea_code"]),
                            col(k["primary_feeder"]), col(k["backup_feeder"]), up])

    def _load_state(self) -> None:
        with self.engine.connect() as c:
            rows = c.execute(text("SELECT station_code, crew, free_at FROM sim_crew")).fetchall()
            self.planner.load_crew_state([(r[0], r[1], to_sec(_as_dt(r[2]))) for r in rows])
            iv = c.execute(text("SELECT tarea_code, start_at, end_at, share FROM sim_outage_tarea "
                                "WHERE end_at > :t"), {"t": self.d.ts(self.last_tick - DAY)}).fetchall()
        self.iv = np.array([(self.t_pos[r[0]], to_sec(_as_dt(r[1])), to_sec(_as_dt(r[2])), r[3])
                            for r in iv], dtype=float).reshape(-1, 4)

    # --- planning ---------------------------------------------------------------------------------
    def _plan_until(self, target: int) -> None:
        """Plan every hour before `target` (and planned outages 8 days beyond), in chunks."""
        target_h = (target // HOUR + 1) * HOUR
        if self.planned_until >= target_h:
            return
        batch = Batch()
        while self.planned_until < target_h:
            H = self.planned_until
            batch.extend(self.planner.plan_hour(H))
            self.planned_until = H + HOUR
            sched_target = self.planned_until + SCHEDULE_AHEAD
            while self.scheduled_until < sched_target:
                batch.extend(self.planner.plan_scheduled(self.scheduled_until))
                self.scheduled_until += HOUR
            if len(batch) > 50000:
                self._write_batch(batch)
                batch = Batch()
        self._write_batch(batch)

    def _write_batch(self, b: Batch) -> None:
        d = self.d
        with self.engine.begin() as c:
            if b.outages:
                df = pd.DataFrame(b.outages)
                cols = list(df.columns)
                vals = []
                for cname in cols:
                    if cname.endswith("_at"):
                        vals.append(d.ts_col(pd.to_numeric(df[cname], errors="coerce").to_numpy(dtype=float)))
                    else:
                        vals.append(col(df[cname]))
                d.insert_rows(c, "sim_outage", cols, vals)
            if b.outage_tareas:
                a = list(zip(*b.outage_tareas))
                d.insert_rows(c, "sim_outage_tarea", ["outage_id", "tarea_code", "customers", "share",
                                                      "in_report", "start_at", "end_at"],
                              [list(a[0]), list(a[1]), list(a[2]), list(a[3]), list(a[4]),
                               d.ts_col(np.array(a[5])), d.ts_col(np.array(a[6]))])
                new = np.array([(self.t_pos[t], s, e, sh) for _, t, _, sh, _, s, e in b.outage_tareas],
                               dtype=float).reshape(-1, 4)
                self.iv = np.vstack([self.iv, new])
            if b.oms_revs:
                a = list(zip(*b.oms_revs))
                cols = ["outage_id", "outage_type", "equipment_type", "equipment_code", "cause", "customers",
                        "start_at", "reported_at", "etr", "restored_at", "status", "notice_published_at",
                        "rev_at"]
                vals = []
                for i, cname in enumerate(cols):
                    if cname.endswith("_at") or cname == "etr":
                        vals.append(d.ts_col(np.array([np.nan if v is None else v for v in a[i]], dtype=float)))
                    else:
                        vals.append(list(a[i]))
                # one revision per (outage, moment): keep the last if two collide
                rows = {}
                for row in zip(*vals):
                    rows[(row[0], row[-1])] = row
                vals = [list(x) for x in zip(*rows.values())]
                d.insert_rows(c, "sim_oms_rev", cols, vals)
            if b.oms_tareas:
                a = list(zip(*b.oms_tareas))
                d.insert_rows(c, "sim_oms_tarea", ["outage_id", "tarea_code", "reveal_at"],
                              [list(a[0]), list(a[1]), d.ts_col(np.array(a[2]))])
            if b.orders:
                df = pd.DataFrame(b.orders)
                cols = [cc.name for cc in sim_metadata.tables["sim_order_plan"].columns]
                vals = []
                for cname in cols:
                    if cname.endswith("_at"):
                        vals.append(d.ts_col(pd.to_numeric(df[cname], errors="coerce").to_numpy(dtype=float)))
                    elif cname in ("key_customer", "billing_anomaly", "escalated"):
                        vals.append([bool(x) for x in df[cname]])
                    elif cname == "call_no":
                        vals.append([int(x) for x in df[cname]])
                    else:
                        vals.append(col(df[cname]))
                d.insert_rows(c, "sim_order_plan", cols, vals)
                steps = df.melt(id_vars=["order_no"], value_vars=ORDER_STEP_COLS, value_name="at").dropna()
                steps = steps.drop_duplicates(["order_no", "at"])
                d.insert_rows(c, "sim_order_step", ["order_no", "at"],
                              [col(steps["order_no"]), d.ts_col(steps["at"].to_numpy(dtype=float))])
            if b.ami:
                a = list(zip(*b.ami))
                d.insert_rows(c, "sim_ami_event", ["event_id", "tarea_code", "device", "meter_id", "event",
                                                   "ts", "outage_id"],
                              [list(a[0]), list(a[1]), list(a[2]), list(a[3]), list(a[4]),
                               d.ts_col(np.array(a[5])), list(a[6])])
            if b.breaker:
                a = list(zip(*b.breaker))
                d.insert_rows(c, "sim_breaker_event", ["event_id", "feeder_code", "event", "ts", "outage_id"],
                              [list(a[0]), list(a[1]), list(a[2]), d.ts_col(np.array(a[3])), list(a[4])])
            if b.notices:
                a = list(zip(*b.notices))
                d.insert_rows(c, "sim_notice", ["outage_id", "customer_id", "step", "publish_at", "due_at",
                                                "done_at", "missed", "late"],
                              [list(a[0]), list(a[1]), list(a[2]), d.ts_col(np.array(a[3])),
                               d.ts_col(np.array(a[4])),
                               d.ts_col(np.array([np.nan if v is None else v for v in a[5]], dtype=float)),
                               [bool(x) for x in a[6]], [bool(x) for x in a[7]]])
            c.execute(delete(sim_metadata.tables["sim_crew"]))
            state = self.planner.crew_state()
            d.insert_rows(c, "sim_crew", ["station_code", "crew", "free_at"],
                          [[s[0] for s in state], [s[1] for s in state], d.ts_col(np.array([s[2] for s in state]))])
            self._write_meta(c, planned_until=self.planned_until, scheduled_until=self.scheduled_until,
                             report_seq=self.planner.report_seq)

    # --- measurements -------------------------------------------------------------------------
    def _supplied(self, t: float) -> np.ndarray | None:
        iv = self.iv
        if not len(iv):
            return None
        act = (iv[:, 1] <= t) & (iv[:, 2] > t)
        if not act.any():
            return None
        out_share = np.bincount(iv[act, 0].astype(int), weights=iv[act, 3], minlength=self.load.n)
        return np.clip(1.0 - out_share, 0.0, 1.0)

    def _scada_rows(self, c, times) -> int:
        if not len(times):
            return 0
        codes = self.topo.feeders["code"].tolist()
        nf = len(codes)
        n = 0
        chunk = max(1, 200000 // nf)
        for i in range(0, len(times), chunk):
            ts = times[i:i + chunk]
            mws, amps = [], []
            for t in ts:
                mw = self.load.feeder_mw(float(t), self._supplied(float(t)))
                mws.append(np.round(mw, 4))
                amps.append(np.round(self.load.current_a(mw), 1))
            tstr = np.repeat(np.array(self.d.ts_col(np.array(ts)), dtype=object), nf).tolist()
            up = self._stamps(np.repeat(np.array(ts), nf))
            n += self.d.insert_rows(c, "scada_feeder_load", ["feeder_code", "ts", "active_mw", "current_a",
                                                              "updated_at"],
                                    [codes * len(ts), tstr, np.concatenate(mws).tolist(),
                                     np.concatenate(amps).tolist(), up])
        return n

    def _ami_rows(self, c, times) -> int:
        codes = self.topo.tareas["code"].to_numpy()
        n = 0
        for t in times:
            sup = self._supplied(float(t) - 450)
            kw, kva, v, lowv = self.load.ami(float(t), sup)
            keep = np.ones(len(kw), bool) if sup is None else sup > 0.0
            m = int(keep.sum())
            ts = [self.d.ts(int(t))] * m
            up = self._stamps(np.full(m, int(t)))
            n += self.d.insert_rows(c, "ami_tarea_load", ["tarea_code", "ts", "active_kw", "apparent_kva",
                                                           "voltage_min_v", "low_voltage_customers",
                                                           "updated_at"],
                                    [codes[keep].tolist(), ts, np.round(kw[keep], 2).tolist(),
                                     np.round(kva[keep], 2).tolist(), v[keep].tolist(),
                                     lowv[keep].tolist(), up])
        return n

    def _weather_rows(self, c, hours) -> int:
        codes = self.topo.districts["code"].tolist()
        n = 0
        cols_code, cols_ts, cols_t, ups = [], [], [], []
        for h in hours:
            temps = self.weather.hourly(int(h))
            cols_code += codes
            cols_ts += [self.d.ts(int(h))] * len(codes)
            cols_t += temps.tolist()
            ups += self._stamps(np.full(len(codes), int(h)))
        if cols_code:
            n = self.d.insert_rows(c, "weather_obs", ["district_code", "ts", "temperature_c", "updated_at"],
                                   [cols_code, cols_ts, cols_t, ups])
        return n

    _stamp_now: int | None = None

    def _stamps(self, event_secs: np.ndarray) -> list:
        """updated_at: the tick's now when live, else the moment the row would have been written."""
        if self._stamp_now is not None:
            return [self.d.ts(self._stamp_now)] * len(event_secs)
        return self.d.ts_col(np.asarray(event_secs, dtype="int64"))

    def _backfill_measurements(self, now: int) -> None:
        sc = self.scale
        q = 15 * MIN
        minute_from = now - int(sc.minute_hours * HOUR)
        q_from = (now - int(sc.scada_quarter_days * DAY)) // q * q
        hourly = np.arange((now - int(sc.scada_days * DAY)) // HOUR * HOUR, q_from, HOUR)
        quarter = np.arange(q_from, minute_from + 1, q)
        minutes = np.arange(minute_from // MIN * MIN + MIN, now // MIN * MIN + 1, MIN)
        minutes = minutes[minutes % q != 0] if len(quarter) else minutes
        last_year = np.array([], dtype=np.int64)
        if sc.scada_last_year_days:
            ly = now - 364 * DAY  # same weekday last year
            last_year = np.arange((ly - sc.scada_last_year_days * DAY) // HOUR * HOUR,
                                  ly + sc.scada_last_year_days * DAY + 1, HOUR)
        amis = np.arange((now - int(sc.ami_hours * HOUR)) // q * q + q, now // q * q + 1, q)
        w_from = min(self.start, now - int(sc.scada_days * DAY))
        hours = np.arange(w_from // HOUR * HOUR, now // HOUR * HOUR + 1, HOUR)
        if len(last_year):
            hours = np.union1d(hours, last_year)
        self._stamp_now = None
        for part in (last_year, hourly, quarter, minutes):
            for i in range(0, len(part), 96):
                with self.engine.begin() as c:
                    self.stats["rows"] += self._scada_rows(c, part[i:i + 96])
        with self.engine.begin() as c:
            self.stats["rows"] += self._ami_rows(c, amis)
            self.stats["rows"] += self._weather_rows(c, hours)

    # --- advancing ----------------------------------------------------------------------------
    def advance(self, until: datetime | int) -> int:
        """Write everything that happens in (last tick, until]. Returns rows written."""
        until_s = until if isinstance(until, (int, np.integer)) else to_sec(until)
        last = self.last_tick
        if until_s <= last:
            return 0
        self._plan_until(until_s + PLAN_AHEAD)
        sc = self.scale
        q = 15 * MIN
        gap = until_s - last
        self._stamp_now = until_s if gap <= 10 * MIN else None
        stamp = "now" if gap <= 10 * MIN else "event"
        minutes = np.arange(last // MIN * MIN + MIN, until_s // MIN * MIN + 1, MIN)
        old = minutes <= until_s - sc.minute_hours * HOUR
        minutes = minutes[~old | (minutes % q == 0)]
        amis = np.arange(last // q * q + q, until_s // q * q + 1, q)
        amis = amis[amis > until_s - sc.ami_hours * HOUR]
        hours = np.arange(last // HOUR * HOUR + HOUR, until_s // HOUR * HOUR + 1, HOUR)
        n = 0
        with self.engine.begin() as c:
            n += self._scada_rows(c, minutes)
            n += self._ami_rows(c, amis)
            n += self._weather_rows(c, hours)
            reveal(c, self.d, last, until_s, stamp=stamp)
            self._write_meta(c, last_tick=until_s)
        self._stamp_now = None
        self.last_tick = until_s
        self.stats["rows"] += n
        if until_s - self.last_prune >= HOUR:
            self.prune()
            self.last_prune = until_s
        return n

    def prune(self) -> None:
        """Retention: 1-min SCADA older than 2 days keeps only quarter-hours; AMI load older than
        3 days and ground truth older than 45 days go; in-memory outage intervals are trimmed."""
        now = self.last_tick
        d = self.d
        cut_min = d.ts(now - P.SCADA_MINUTE_RETENTION_DAYS * DAY)
        minute_expr = ("CAST(strftime('%M', ts) AS INTEGER) % 15 != 0" if d.sqlite
                       else "EXTRACT(MINUTE FROM ts)::int % 15 != 0")
        cut_s = now - P.SCADA_MINUTE_RETENTION_DAYS * DAY
        from_s = 0 if self.pruned_until is None else self.pruned_until - 2 * HOUR
        with self.engine.begin() as c:
            c.execute(text(f"DELETE FROM scada_feeder_load WHERE ts < :cut AND ts >= :from_ AND {minute_expr}"),
                      {"cut": cut_min, "from_": d.ts(from_s)})
            c.execute(text("DELETE FROM ami_tarea_load WHERE ts < :cut"),
                      {"cut": d.ts(now - P.AMI_RETENTION_DAYS * DAY)})
            cut = d.ts(now - P.SIM_RETENTION_DAYS * DAY)
            c.execute(text("DELETE FROM sim_order_step WHERE at < :cut"), {"cut": cut})
            c.execute(text("DELETE FROM sim_ami_event WHERE ts < :cut"), {"cut": cut})
            c.execute(text("DELETE FROM sim_breaker_event WHERE ts < :cut"), {"cut": cut})
        self.pruned_until = cut_s
        if len(self.iv):
            self.iv = self.iv[self.iv[:, 2] > now - DAY]

    # --- the live loop ------------------------------------------------------------------------
    def run(self, clock, stop, tick_s: float = 2.0, on_tick=None) -> None:
        """Advance to the clock's now every `tick_s` real seconds until `stop` (an Event) is set."""
        while not stop.is_set():
            t0 = time.time()
            n = self.advance(clock.now())
            if on_tick:
                on_tick(n, time.time() - t0)
            stop.wait(max(0.05, tick_s - (time.time() - t0)))

    def close(self) -> None:
        self.engine.dispose()


def _as_dt(v) -> datetime:
    if isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))
