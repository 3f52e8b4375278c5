"""Plan one hour of the city's life: faults and outages, the calls they cause, other work orders,
crew dispatch, OMS report revisions, AMI/breaker events, planned outages and their notices.

Each hour draws from its own keyed random stream (seed, hour), so the plan for an hour does not
depend on when it is made. The only carried state is each 供电所's crews (when each is next
free), which is what makes a storm build a backlog. Everything is written with its future
timestamps into the sim_* tables; `reveal` later copies what has become due into the public
tables.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from . import params as P
from .load import LoadModel
from .rng import rng
from .timebase import DAY, HOUR, MIN, day_info, day_of, to_dt
from .topology import Topology
from .weather import Weather

SUBTYPE_HV = "高压故障"
CONSULT_SUBTYPES = ("电费咨询", "业务咨询", "用电政策", "停电信息咨询")
SERVICE_SUBTYPES = ("新装增容", "更名过户", "表计校验", "用电变更")
OTHER_SUBTYPES = {"report": ("窃电举报", "违章用电"), "suggestion": ("服务建议", "渠道建议"),
                  "praise": ("抢修表扬", "服务表扬")}
CONTENT = {
    "高压故障": "整片停电，小区和周边都没电",
    "低压故障": "楼道和家里都没电，邻居也停了",
    "客户内部故障": "家里跳闸合不上，空开一合就跳",
    "计量故障": "电表显示异常，报警灯亮",
    "电能质量": "电压低，空调启动不了，灯一直闪",
    "非电力故障": "门口电线杆上有广告线掉下来",
}


def _ln(r, median, p95, size=None):
    return median * np.exp(r.normal(0, P.ln_sigma(median, p95), size))


def _pick(r, table: dict, size=None):
    keys = list(table)
    p = np.array([table[k] for k in keys], dtype=float)
    idx = r.choice(len(keys), size=size, p=p / p.sum())
    return keys[idx] if size is None else [keys[i] for i in idx]


@dataclass
class Batch:
    outages: list = field(default_factory=list)
    outage_tareas: list = field(default_factory=list)
    oms_revs: list = field(default_factory=list)
    oms_tareas: list = field(default_factory=list)
    orders: list = field(default_factory=list)
    ami: list = field(default_factory=list)
    breaker: list = field(default_factory=list)
    notices: list = field(default_factory=list)

    def extend(self, other: "Batch") -> None:
        for k in self.__dataclass_fields__:
            getattr(self, k).extend(getattr(other, k))

    def __len__(self):
        return sum(len(getattr(self, k)) for k in self.__dataclass_fields__)


class Planner:
    def __init__(self, topo: Topology, weather: Weather, load: LoadModel, seed: int):
        self.topo = topo
        self.weather = weather
        self.load = load
        self.seed = seed
        t, f, s = topo.tareas, topo.feeders, topo.stations
        self.t_code = t["code"].to_numpy()
        self.t_cust = t["customers"].to_numpy()
        self.t_area = t["area_type"].to_numpy()
        self.t_feeder = t["feeder_idx"].to_numpy()
        self.t_station = t["station_idx"].to_numpy()
        self.t_district = t["district_idx"].to_numpy()
        self.f_code = f["code"].to_numpy()
        self.f_station = f["station_idx"].to_numpy()
        self.f_district = f["district_idx"].to_numpy()
        self.f_area = f["area_type"].to_numpy()
        self.f_rated = f["rated_current_a"].to_numpy()
        order = np.argsort(self.t_feeder, kind="stable")
        bounds = np.searchsorted(self.t_feeder[order], np.arange(len(f) + 1))
        self.f_tareas = [order[bounds[i]:bounds[i + 1]] for i in range(len(f))]
        self.f_cust = f["customers"].to_numpy()
        self.s_code = s["code"].to_numpy()
        self.s_crews = s["crews"].to_numpy()
        self.d_code = topo.districts["code"].to_numpy()
        self.d_cust = topo.districts["customers"].to_numpy()
        self.d_tareas = [np.flatnonzero(self.t_district == i) for i in range(len(self.d_code))]
        self._d_cum = [np.cumsum(self.t_cust[p]).astype(float) for p in self.d_tareas]
        kc = topo.key_customers
        self.key_by_tarea: dict[str, list[dict]] = {}
        for row in kc.to_dict("records"):
            self.key_by_tarea.setdefault(row["tarea_code"], []).append(row)
        self.crews: dict[int, list[int]] = {}
        # reporting flags follow golden-ratio (Weyl) sequences over the outages in plan order, so
        # the realised 应报未报/迟报/scope/ETR shares track their configured values even on small
        # samples; the counter is carried state like the crews (saved in sim_meta)
        self.report_seq = 0
        r0 = rng(seed, "report-offsets")
        self._report_off = r0.random(2)

    # --- crews ---------------------------------------------------------------------------
    def reset_crews(self, at: int) -> None:
        self.crews = {i: [at] * int(n) for i, n in enumerate(self.s_crews)}
        for h in self.crews.values():
            heapq.heapify(h)

    def crew_state(self) -> list[tuple[str, int, int]]:
        return [(self.s_code[i], k, int(v)) for i, h in self.crews.items() for k, v in enumerate(sorted(h))]

    def load_crew_state(self, rows) -> None:
        idx = {c: i for i, c in enumerate(self.s_code)}
        self.crews = {i: [] for i in range(len(self.s_code))}
        for code, _k, free in rows:
            self.crews[idx[code]].append(int(free))
        for h in self.crews.values():
            heapq.heapify(h)

    def _dispatch(self, station: int, ready: int, busy_for: float) -> tuple[int, int]:
        """Take the station's first free crew at or after `ready`; return (start, wait_s)."""
        heap = self.crews[station]
        free = heapq.heappop(heap)
        start = max(ready, free)
        heapq.heappush(heap, int(start + busy_for + P.CREW_RETURN * MIN))
        return start, start - ready

    # --- the hour -------------------------------------------------------------------------
    def plan_hour(self, H: int) -> Batch:
        r = rng(self.seed, "hour", H // HOUR)
        b = Batch()
        mid = H + 1800
        temp = self.weather.at(mid)
        storm = float(self.weather.storm([mid])[0])
        lr = self.load.load_rate(mid)
        kw = lr * self.load.pf * self.load.capacity
        f_amp = self.load.current_a(np.bincount(self.t_feeder, weights=kw, minlength=len(self.f_code))
                                    * (1 + P.FEEDER_LOSS) / 1000.0)
        f_lr = f_amp / self.f_rated
        heat_t = np.maximum(0.0, temp - P.HEAT_T0) ** 2
        hour_of_day = (H % DAY) // HOUR

        jobs = []  # (ready, kind, payload) processed in time order against the crews
        # 10 kV feeder faults
        lam_f = (P.FEEDER_FAULTS_PER_DAY / 24 * (1 + P.HEAT_K_FEEDER * heat_t[self.f_district])
                 * (1 + 2.0 * np.maximum(0, f_lr - 0.8)) * (1 + P.TYPHOON_FEEDER_FACTOR * storm))
        for fi in np.flatnonzero(r.poisson(lam_f)):
            start = H + int(r.integers(0, HOUR))
            jobs.append((start + 3 * MIN, "feeder", (fi, start)))
        # whole-台区 faults (transformer, LV main) and LV branch faults
        load_factor = 1 + P.LOAD_K_TAREA * np.maximum(0, lr - 0.8)
        heat_tarea = 1 + P.HEAT_K_TAREA * heat_t[self.t_district]
        storm_t = 1 + P.TYPHOON_TAREA_FACTOR * storm
        for kind, base in (("tarea", P.TAREA_FAULTS_PER_DAY), ("lv_line", P.LV_FAULTS_PER_DAY)):
            lam = base / 24 * heat_tarea * load_factor * storm_t
            for ti in np.flatnonzero(r.poisson(lam)):
                start = H + int(r.integers(0, HOUR))
                detect = int(_ln(r, 10.0, 25.0) * MIN)
                jobs.append((start + detect, kind, (ti, start)))
        # individual repair calls (no recorded outage behind them)
        diurnal = P.CALL_DIURNAL[hour_of_day] / (sum(P.CALL_DIURNAL) / 24)
        heat_c = 1 + P.HEAT_K_CALLS * heat_t[self.t_district]
        lam_i = (self.t_cust * P.INDIVIDUAL_REPAIR_PER_10K_DAY / 1e4 / 24 * diurnal * heat_c
                 * (1 + 3.0 * np.maximum(0, lr - 0.9)) * (1 + 4.0 * storm))
        # rural 台区 at heavy load: low-voltage customers call about voltage
        v = P.V0 - self.load.vdrop * lr
        lowv_cust = np.where(v < P.LOW_VOLTAGE_LIMIT,
                             self.t_cust * np.clip((P.LOW_VOLTAGE_LIMIT - v) / 25.0 + 0.02, 0, 0.6), 0)
        lam_v = lowv_cust * P.LOWV_CALLS_PER_LV_CUSTOMER_HOUR
        n_i = r.poisson(lam_i)
        n_v = r.poisson(lam_v)
        for ti in np.flatnonzero(n_i):
            for _ in range(n_i[ti]):
                acc = H + int(r.integers(0, HOUR))
                jobs.append((acc, "call", (ti, acc, None)))
        for ti in np.flatnonzero(n_v):
            for _ in range(n_v[ti]):
                acc = H + int(r.integers(0, HOUR))
                jobs.append((acc, "call", (ti, acc, "电能质量")))

        jobs.sort(key=lambda j: (j[0], j[1]))
        seq = {"outage": 0}
        orders: list[dict] = []
        for ready, kind, payload in jobs:
            if kind == "call":
                ti, acc, subtype = payload
                orders.extend(self._individual_call(r, ti, acc, subtype, temp, storm))
            else:
                idx, start = payload
                seq["outage"] += 1
                oid = f"TD{to_dt(H):%y%m%d%H}{seq['outage']:04d}"
                self._fault(r, b, orders, oid, kind, idx, start, ready, temp, storm)
        # non-repair orders
        orders.extend(self._other_orders(r, H, diurnal, temp))
        self._number_orders(H, orders, b)
        return b

    # --- faults ---------------------------------------------------------------------------
    def _cause(self, r, kind: str, storm: float, overloaded: bool) -> str:
        if storm > 0.2 and r.random() < 0.85:
            return "weather"
        if overloaded and kind != "feeder" and r.random() < 0.6:
            return "overload"
        return _pick(r, P.FAULT_CAUSES)

    def _fault(self, r, b: Batch, orders, oid, kind, idx, start, ready, temp, storm):
        if kind == "feeder":
            fi = idx
            tareas = self.f_tareas[fi]
            shares = np.ones(len(tareas))
            equip = self.f_code[fi]
            momentary = r.random() < P.FEEDER_MOMENTARY_SHARE * (0.5 if storm > 0.2 else 1.0)
        else:
            ti = idx
            fi = self.t_feeder[ti]
            tareas = np.array([ti])
            shares = np.array([1.0 if kind == "tarea" else r.uniform(*P.LV_SHARE_OF_TAREA)])
            equip = self.t_code[ti]
            momentary = False
        station = self.f_station[fi]
        district = self.f_district[fi]
        area = self.f_area[fi]
        cust_each = np.round(self.t_cust[tareas] * shares).astype(int)
        overloaded = kind != "feeder" and self.load.load_rate(start)[tareas[0]] >= 0.9
        cause = self._cause(r, kind, storm, overloaded)
        arrival = None
        if momentary:
            end = start + int(r.integers(*P.MOMENTARY_S))
        else:
            med, p95 = P.ARRIVAL[area]
            travel = _ln(r, med, p95) * MIN * 0.8
            repair = _ln(r, *{"feeder": P.REPAIR_10KV, "tarea": P.REPAIR_TAREA,
                              "lv_line": P.REPAIR_LV_OUTAGE}[kind]) * MIN
            if storm > 0.2:
                repair *= 1.3
            dep, _wait = self._dispatch(station, ready, travel + repair)
            arrival = int(dep + travel)
            end = int(arrival + repair)
        self._outage_record(r, b, oid, "fault", kind, equip, fi, district, cause, tareas, shares,
                            cust_each, start, end, momentary, arrival, temp[district], storm)
        if not momentary:
            self._outage_calls(r, orders, oid, kind, tareas, cust_each, start, end, arrival, area,
                               station, "fault")

    def _outage_record(self, r, b: Batch, oid, otype, kind, equip, fi, district, cause, tareas,
                       shares, cust_each, start, end, momentary, arrival, temp_c, storm,
                       publish=None, planned_end=None, cancelled=False, cancel_at=None):
        customers = int(cust_each.sum())
        duration = end - start
        must_report = (not momentary) and duration > 5 * MIN
        reported, unreported, late, wrong, stale = False, False, False, False, False
        reported_at = etr_first = rep_cust = None
        in_report = np.ones(len(tareas), dtype=bool)
        revs = []
        if otype != "fault":
            reported, reported_at = True, publish
            rep_cust = customers
            etr_first = planned_end
            eq_type = "feeder" if kind == "feeder" else "tarea"
            base = (oid, otype, eq_type, equip, "planned_work" if otype == "planned" else "temporary_work",
                    rep_cust, start, publish)
            revs.append(base + (planned_end, None, "scheduled", publish, publish))
            if cancelled:
                revs.append(base + (planned_end, None, "cancelled", publish, cancel_at))
            else:
                revs.append(base + (planned_end, None, "active", publish, start))
                restore_rev = end + int(_ln(r, *P.RESTORE_REPORT_DELAY) * MIN)
                revs.append(base + (planned_end, end, "restored", publish, restore_rev))
        elif must_report:
            self.report_seq += 1
            k = self.report_seq
            u = (self._report_off[0] + k * 0.6180339887498949) % 1.0
            u2 = (self._report_off[1] + k * 0.41421356237309515) % 1.0
            if u < P.REPORT_NEVER_SHARE:
                unreported = True
            else:
                reported = True
                if u < P.REPORT_NEVER_SHARE + P.REPORT_LATE_SHARE:
                    late = True
                    reported_at = start + int(r.uniform(*P.REPORT_LATE_MIN) * MIN)
                else:
                    reported_at = start + int(min(_ln(r, *P.REPORT_DELAY), 14.5) * MIN)
                wrong = u2 < P.WRONG_SCOPE_SHARE
                rep_cust = customers
                if wrong:
                    f = r.uniform(0.55, 0.8) if r.random() < 0.5 else r.uniform(1.2, 1.45)
                    rep_cust = max(1, int(round(customers * f)))
                    if len(tareas) > 3:
                        in_report = r.random(len(tareas)) > 0.3
                        in_report[0] = True
                est = max(30 * MIN, duration * np.exp(r.normal(0, P.ETR_ERROR_SIGMA)))
                etr = int(np.ceil((start + est) / (15 * MIN)) * 15 * MIN)
                stale = (P.WRONG_SCOPE_SHARE <= u2 < P.WRONG_SCOPE_SHARE + P.STALE_ETR_SHARE
                         and duration > 60 * MIN)
                if stale:
                    etr = int(np.ceil((start + 0.45 * duration) / (15 * MIN)) * 15 * MIN)
                    if end - etr <= 35 * MIN:
                        stale = False
                etr = max(etr, reported_at + 15 * MIN)
                etr_first = etr
                base = (oid, "fault", kind if kind != "lv_line" else "lv_line", equip, cause, rep_cust,
                        start, reported_at)
                restore_rev = end + int(_ln(r, *P.RESTORE_REPORT_DELAY) * MIN)
                if reported_at >= end:
                    revs.append(base + (etr, end, "restored", None, reported_at))
                else:
                    revs.append(base + (etr, None, "active", None, reported_at))
                    if not stale:
                        k = 0
                        while etr < end and k < 3:
                            at = etr + int(r.uniform(0, 10) * MIN)
                            if at >= end:
                                break
                            etr = int(np.ceil((end + r.uniform(5, 40) * MIN) / (15 * MIN)) * 15 * MIN)
                            revs.append(base + (etr, None, "active", None, at))
                            k += 1
                    revs.append(base + (etr, end, "restored", None, max(restore_rev, reported_at + 1)))
        b.outages.append(dict(
            outage_id=oid, outage_type=otype, equipment_type=kind if otype == "fault" else
            ("feeder" if kind == "feeder" else "tarea"), equipment_code=equip,
            feeder_code=self.f_code[fi], district_code=self.d_code[district], cause=cause,
            customers=customers, tareas=len(tareas), start_at=start, end_at=end,
            momentary=bool(momentary), must_report=bool(must_report), reported=reported,
            unreported=unreported, late=late, wrong_scope=wrong, stale_etr=stale,
            reported_at=reported_at, reported_customers=rep_cust, etr_first=etr_first,
            notice_published_at=publish, cancelled=bool(cancelled), crew_arrival_at=arrival,
            storm=float(storm), temperature_c=float(temp_c)))
        b.oms_revs.extend(revs)
        if reported:
            for ti, ok in zip(tareas, in_report):
                if ok:
                    b.oms_tareas.append((oid, self.t_code[ti], reported_at))
        if cancelled:
            return
        for k, (ti, share, c) in enumerate(zip(tareas, shares, cust_each)):
            b.outage_tareas.append((oid, self.t_code[ti], int(c), float(share), bool(in_report[k]),
                                    start, end))
        # breaker events for feeder faults
        if otype == "fault" and kind == "feeder":
            b.breaker.append((f"{oid}-T", self.f_code[fi], "trip", start, oid))
            b.breaker.append((f"{oid}-C", self.f_code[fi], "close", end, oid))
        # AMI last gasp: concentrators for whole 台区, a few meters for a branch
        n = len(tareas)
        off_delay = r.uniform(30, 45, n)
        on_delay = r.uniform(3, 60, n)
        for k in range(n):
            if duration <= off_delay[k]:
                continue
            code = self.t_code[tareas[k]]
            if shares[k] >= 1.0:
                b.ami.append((f"{oid}-{k:04d}F", code, "concentrator", None, "power_off",
                               int(start + off_delay[k]), oid))
                b.ami.append((f"{oid}-{k:04d}N", code, "concentrator", None, "power_on",
                               int(end + on_delay[k]), oid))
            else:
                meters = r.choice(int(self.t_cust[tareas[k]]), size=min(5, int(cust_each[k]) or 1),
                                  replace=False)
                for j, m in enumerate(meters):
                    mid = f"{code}M{m + 1:04d}"
                    b.ami.append((f"{oid}-{k:03d}{j}F", code, "meter", mid, "power_off",
                                   int(start + off_delay[k] + j), oid))
                    b.ami.append((f"{oid}-{k:03d}{j}N", code, "meter", mid, "power_on",
                                   int(end + on_delay[k] + j), oid))

    # --- orders ---------------------------------------------------------------------------
    def _customer(self, r, ti) -> tuple[str, str]:
        k = int(r.integers(0, self.t_cust[ti])) + 1
        return self._cust_id(ti, k)

    def _cust_id(self, ti, k) -> tuple[str, str]:
        cid = f"{self.t_code[ti]}C{k:04d}"
        h = (int(ti) * 7919 + k * 104729) % 10**9
        return cid, f"13{h:09d}"

    def _order(self, **kw) -> dict:
        o = dict(order_type="repair", subtype=None, phone=None, channel="95598", key_customer=False,
                 content=None, final_status="visited", accepted_at=None, dispatched_at=None,
                 received_at=None, departed_at=None, arrived_at=None, restored_at=None,
                 returned_at=None, visited_at=None, cancelled_at=None, outage_id=None, repeat_of=None,
                 call_no=1, billing_anomaly=False, bill_ratio=None, escalated=False, keyword=None,
                 crew_wait_min=None)
        o.update(kw)
        return o

    def _keyword(self, r, text: str) -> tuple[str, str | None]:
        if r.random() < P.SENSITIVE_KEYWORD_P:
            kw = P.KEYWORDS[int(r.integers(0, len(P.KEYWORDS)))]
            return f"{text}（{kw}）", kw
        return text, None

    def _repair_channel(self, r) -> str:
        u = r.random()
        return "95598" if u < 0.9 else ("online" if u < 0.985 else "12345")

    def _individual_call(self, r, ti, acc, subtype, temp, storm) -> list[dict]:
        area = self.t_area[ti]
        station = self.t_station[ti]
        if subtype is None:
            sub = dict(P.REPAIR_SUBTYPES)
            if temp[self.t_district[ti]] > 33:
                sub["低压故障"] *= 1.6
                sub["客户内部故障"] *= 1.4
            subtype = _pick(r, sub)
        cid, phone = self._customer(r, ti)
        content, kw = self._keyword(r, CONTENT[subtype])
        d1, d2, d3 = (r.uniform(*P.DISPATCH_DELAY), r.uniform(*P.RECEIVE_DELAY), r.uniform(*P.DEPART_DELAY))
        o = self._order(subtype=subtype, customer_id=cid, phone=phone, tarea_code=self.t_code[ti],
                        station_code=self.s_code[station], area_type=area, content=content, keyword=kw,
                        channel=self._repair_channel(r), accepted_at=acc,
                        dispatched_at=acc + int(d1 * MIN), received_at=acc + int((d1 + d2) * MIN))
        o["escalated"] = o["channel"] in ("12345", "12398", "media")
        if r.random() < P.CANCEL_SHARE:
            o["cancelled_at"] = acc + int(r.uniform(5, 30) * MIN)
            o["final_status"] = "cancelled"
            if o["received_at"] >= o["cancelled_at"]:
                o["received_at"] = None
            return [o]
        total = _ln(r, *P.ARRIVAL[area]) * MIN
        travel = max(4 * MIN, total - (d1 + d2 + d3) * MIN)
        repair = {"非电力故障": _ln(r, 15, 45), "计量故障": _ln(r, 30, 80)}.get(subtype, None)
        repair = (repair if repair is not None else _ln(r, *P.REPAIR_LV)) * MIN
        if subtype == SUBTYPE_HV:
            repair = _ln(r, 70, 200) * MIN
        ready = acc + int((d1 + d2 + d3) * MIN)
        dep, wait = self._dispatch(station, ready, travel + repair)
        o["departed_at"] = int(dep)
        o["arrived_at"] = int(dep + travel)
        o["restored_at"] = int(dep + travel + repair)
        o["returned_at"] = o["restored_at"] + int(r.uniform(*P.RETURN_DELAY) * MIN)
        o["visited_at"] = o["returned_at"] + int(r.uniform(*P.VISIT_DELAY) * MIN)
        o["crew_wait_min"] = round(wait / MIN, 1)
        out = [o]
        out.extend(self._follow_ups(r, o, ti, station, area))
        return out

    def _follow_ups(self, r, o, ti, station, area) -> list[dict]:
        """Urge (催办) and repeat calls while the crew has not come."""
        out = []
        acc, arr = o["accepted_at"], o["arrived_at"]
        if arr is not None and arr - acc > 60 * MIN and r.random() < P.URGE_P:
            at = acc + int(r.uniform(60, 90) * MIN)
            if at < arr:
                out.append(self._simple(r, "urge", "催办", ti, at, o["customer_id"], o["phone"],
                                        f"催促抢修进度，原工单报修{int((at - acc) / MIN)}分钟未到场"))
        if arr is not None and arr - acc > 45 * MIN and r.random() < 0.15:
            at = acc + int(r.uniform(40, 60) * MIN)
            if at < arr:
                rep = dict(o)
                # The crew is already on its way: the repeat order joins it, so its own departure
                # is when it reached the crew, never before the call (the lifecycle rule holds).
                received = min(at + 3 * MIN, arr)
                rep.update(accepted_at=at, dispatched_at=min(at + 2 * MIN, received), received_at=received,
                           departed_at=min(arr, max(o["departed_at"], received)),
                           call_no=o["call_no"] + 1, repeat_of=o.get("repeat_of") or "@self",
                           content="再次来电：" + (o["content"] or ""), crew_wait_min=None)
                out.append(rep)
        return out

    def _simple(self, r, otype, subtype, ti, acc, cid, phone, content, channel="95598") -> dict:
        """A non-field order: accepted -> dispatched -> received -> returned (-> visited)."""
        area = self.t_area[ti]
        st = self.s_code[self.t_station[ti]]
        o = self._order(order_type=otype, subtype=subtype, customer_id=cid, phone=phone,
                        tarea_code=self.t_code[ti], station_code=st, area_type=area, channel=channel,
                        content=content, accepted_at=acc, final_status="returned")
        o["escalated"] = channel in ("12345", "12398", "media")
        if otype == "consult":
            if r.random() < 0.8:
                o["returned_at"] = acc + int(r.uniform(3, 15) * MIN)
                return o
            o["dispatched_at"] = acc + int(r.uniform(5, 30) * MIN)
            o["received_at"] = o["dispatched_at"] + int(r.uniform(10, 120) * MIN)
            o["returned_at"] = o["received_at"] + int(r.uniform(2, 20) * HOUR)
            return o
        o["dispatched_at"] = acc + int(r.uniform(1, 30) * MIN)
        o["received_at"] = o["dispatched_at"] + int(r.uniform(2, 60) * MIN)
        if otype == "urge":
            o["returned_at"] = o["received_at"] + int(r.uniform(10, 60) * MIN)
        elif otype == "complaint":
            o["returned_at"] = o["received_at"] + int(r.uniform(0.5, 4.5) * DAY)
            o["visited_at"] = o["returned_at"] + int(r.uniform(0.3, 2.0) * DAY)
            o["final_status"] = "visited"
        elif otype == "service":
            o["departed_at"] = o["received_at"] + int(r.uniform(2, 48) * HOUR)
            o["arrived_at"] = o["departed_at"] + int(r.uniform(15, 60) * MIN)
            o["returned_at"] = o["arrived_at"] + int(r.uniform(1, 6) * HOUR)
            o["visited_at"] = o["returned_at"] + int(r.uniform(0.5, 2) * DAY)
            o["final_status"] = "visited"
        else:
            o["returned_at"] = o["received_at"] + int(r.uniform(0.2, 5) * DAY)
        return o

    def _outage_calls(self, r, orders, oid, kind, tareas, cust_each, start, end, arrival, area,
                      station, otype):
        """Customers out of supply call after a delay while the outage lasts; some call again."""
        share = P.CALL_SHARE["planned" if otype != "fault" else kind]
        # fewer people notice and call at night [ASSUMED]: scale by the hour's call weight
        w_hour = P.CALL_DIURNAL[int((start % DAY) // HOUR)] / (sum(P.CALL_DIURNAL) / 24)
        share *= float(np.clip(w_hour, 0.3, 1.2))
        n = int(r.binomial(int(cust_each.sum()), share))
        # key customers without a working second source call the command center
        keys = []
        for ti in tareas:
            for kc in self.key_by_tarea.get(self.t_code[ti], ()):
                p = P.KEY_CUSTOMER_CALL_P if (kc["backup_feeder"] is None or kind != "feeder") else 0.1
                if otype == "fault" and r.random() < p:
                    keys.append((ti, kc))
        if n == 0 and not keys:
            return
        w = cust_each / max(1, cust_each.sum())
        picks = r.choice(len(tareas), size=n, p=w) if n else np.array([], dtype=int)
        delays = _ln(r, *P.CALL_DELAY, size=n) * MIN
        long_outage = end - start > 4 * HOUR
        calls = [(tareas[k], start + int(d), None) for k, d in zip(picks, delays)]
        calls += [(ti, start + int(r.uniform(3, 10) * MIN), kc) for ti, kc in keys]
        for ti, acc, kc in calls:
            if acc >= end:
                continue
            if kc is not None:
                cid, phone = kc["customer_id"], None
            else:
                cid, phone = self._customer(r, ti)
            if otype != "fault":
                orders.append(self._simple(r, "consult", "停电信息咨询", ti, acc, cid, phone,
                                           "询问计划停电何时恢复"))
                continue
            subtype = SUBTYPE_HV if kind == "feeder" else "低压故障"
            content, kw = self._keyword(r, CONTENT[subtype])
            chain = []
            call_no, at = 1, acc
            while at < end and call_no <= 4:
                d1, d2 = r.uniform(*P.DISPATCH_DELAY), r.uniform(*P.RECEIVE_DELAY)
                o = self._order(subtype=subtype, customer_id=cid, phone=phone, tarea_code=self.t_code[ti],
                                station_code=self.s_code[station], area_type=area,
                                key_customer=kc is not None, content=content if call_no == 1 else
                                f"第{call_no}次来电，仍未恢复供电", keyword=kw, outage_id=oid,
                                channel=self._repair_channel(r), accepted_at=at, call_no=call_no,
                                dispatched_at=at + int(d1 * MIN), received_at=at + int((d1 + d2) * MIN))
                o["escalated"] = o["channel"] in ("12345", "12398", "media")
                if arrival is not None and arrival > o["received_at"]:
                    o["departed_at"] = min(arrival, max(o["received_at"] + MIN, arrival - int(_ln(r, 15, 35) * MIN)))
                    o["arrived_at"] = arrival
                else:
                    o["arrived_at"] = o["received_at"] + int(r.uniform(2, 8) * MIN)
                    o["departed_at"] = o["arrived_at"] - MIN
                o["restored_at"] = max(end, o["arrived_at"] + MIN)
                o["returned_at"] = o["restored_at"] + int(r.uniform(*P.RETURN_DELAY) * MIN)
                o["visited_at"] = o["returned_at"] + int(r.uniform(*P.VISIT_DELAY) * MIN)
                chain.append(o)
                if r.random() >= P.REPEAT_CALL_P * (1.0 if call_no == 1 else 0.6):
                    break
                at = at + int(_ln(r, *P.REPEAT_DELAY) * MIN)
                call_no += 1
            for o in chain[1:]:
                o["repeat_of"] = "@first"
            orders.extend(chain)
            if (long_outage and r.random() < P.COMPLAINT_AFTER_OUTAGE_P) or (len(chain) >= 3 and r.random() < 0.3):
                at = end + int(r.uniform(0.2, 20) * HOUR) if long_outage else chain[-1]["accepted_at"] + 10 * MIN
                ch = _pick(r, P.CHANNELS)
                text, kw2 = self._keyword(r, "停电时间过长，多次来电未解决，要求说明原因")
                c = self._simple(r, "complaint", "停送电", ti, at, cid, phone, text, channel=ch)
                c["keyword"] = kw2
                c["outage_id"] = oid
                orders.append(c)
            if arrival is not None and kc is None and len(chain) == 1 and arrival - acc > 60 * MIN \
                    and r.random() < P.URGE_P / 2:
                at = acc + int(r.uniform(60, 90) * MIN)
                if at < min(arrival, end):
                    orders.append(self._simple(r, "urge", "催办", ti, at, cid, phone,
                                               "催促抢修进度，停电已超过1小时"))

    def _other_orders(self, r, H, diurnal, temp) -> list[dict]:
        hour = (H % DAY) // HOUR
        office = 1.0 if 8 <= hour < 20 else 0.25
        summer = 1.6 if to_dt(H).month in (7, 8, 9) else 1.0
        rates = dict(P.OTHER_ORDERS_PER_10K_DAY)
        rates["billing"] = P.BILLING_PER_10K_DAY * summer
        types = list(rates)
        per10k = np.array([rates[k] for k in types])
        lam = np.outer(self.d_cust, per10k) / 1e4 / 24 * diurnal * office * (24 / (12 + 12 * 0.25))
        counts = r.poisson(lam)                       # district x type
        out = []
        for di, ti_ in zip(*np.nonzero(counts)):
            n = int(counts[di, ti_])
            pool = self.d_tareas[di]
            cum = self._d_cum[di]
            picks = pool[np.minimum(np.searchsorted(cum, r.random(n) * cum[-1], side="right"), len(pool) - 1)]
            accs = H + r.integers(0, HOUR, n)
            for ti, acc in zip(picks, accs):
                cid, phone = self._customer(r, ti)
                out.append(self._other(r, types[ti_], ti, int(acc), cid, phone))
        return out

    def _other(self, r, otype, ti, acc, cid, phone) -> dict:
        if otype == "billing":
            anomaly = r.random() < P.BILLING_ANOMALY_SHARE
            avg = float(np.round(r.uniform(80, 400), 1))
            ratio = float(np.round(r.uniform(2.0, 4.5) if anomaly else r.uniform(1.1, 1.9), 2))
            bill = round(avg * ratio, 1)
            text = f"客户反映本月电费{bill}元，为近12个月平均{avg}元的{ratio}倍，怀疑电表或抄表异常"
            text, kw = self._keyword(r, text)
            if r.random() < 0.55:
                o = self._simple(r, "complaint", "营业", ti, acc, cid, phone, text, _pick(r, P.CHANNELS))
            else:
                o = self._simple(r, "consult", "电费咨询", ti, acc, cid, phone, text)
            o.update(billing_anomaly=anomaly, bill_ratio=ratio, keyword=kw)
            return o
        if otype == "complaint":
            sub = _pick(r, P.COMPLAINT_CLASSES)
            text, kw = self._keyword(r, f"投诉{sub}问题，要求尽快处理并答复")
            o = self._simple(r, "complaint", sub, ti, acc, cid, phone, text, _pick(r, P.CHANNELS))
            o["keyword"] = kw
            return o
        if otype == "consult":
            sub = CONSULT_SUBTYPES[int(r.integers(0, len(CONSULT_SUBTYPES)))]
            return self._simple(r, "consult", sub, ti, acc, cid, phone, f"{sub}")
        if otype == "service":
            sub = SERVICE_SUBTYPES[int(r.integers(0, len(SERVICE_SUBTYPES)))]
            return self._simple(r, "service", sub, ti, acc, cid, phone, f"申请{sub}")
        subs = OTHER_SUBTYPES[otype]
        sub = subs[int(r.integers(0, len(subs)))]
        return self._simple(r, otype, sub, ti, acc, cid, phone, sub)

    def _number_orders(self, H: int, orders: list[dict], b: Batch) -> None:
        orders.sort(key=lambda o: (o["accepted_at"], o["customer_id"], o["call_no"]))
        first_by_chain: dict[tuple, str] = {}
        prefix = f"GD{to_dt(H):%y%m%d%H}"
        for k, o in enumerate(orders):
            o["order_no"] = f"{prefix}{k + 1:05d}"
            key = (o["customer_id"], o["subtype"], o.get("outage_id"))
            if o["repeat_of"] is None and o["order_type"] == "repair":
                first_by_chain.setdefault(key, o["order_no"])
            elif o["repeat_of"] in ("@first", "@self"):
                o["repeat_of"] = first_by_chain.get(key)
            b.orders.append(o)

    # --- planned and temporary outages ------------------------------------------------------
    def plan_scheduled(self, S: int) -> Batch:
        """Planned/temporary outages that start in hour S (planned 8 days ahead of S)."""
        b = Batch()
        d = day_of(S)
        hour = (S % DAY) // HOUR
        weights = {7: 0.25, 8: 0.45, 9: 0.2, 13: 0.1}
        if not day_info(d)[1] or hour not in weights:
            return b
        r = rng(self.seed, "planned", S // HOUR)
        lam = P.PLANNED_PER_100_FEEDERS_PER_WORKDAY * len(self.f_code) / 100 * weights[hour]
        n = int(r.poisson(lam))
        for k in range(n):
            oid = f"JH{to_dt(S):%y%m%d%H}{k + 1:03d}"
            fi = int(r.integers(0, len(self.f_code)))
            tareas_all = self.f_tareas[fi]
            if r.random() < P.PLANNED_TAREA_LEVEL_SHARE or len(tareas_all) < 3:
                tareas = tareas_all[[int(r.integers(0, len(tareas_all)))]]
                kind, equip = "tarea", self.t_code[tareas[0]]
            else:
                m = max(2, int(round(len(tareas_all) * r.uniform(*P.PLANNED_SECTION_SHARE))))
                s0 = int(r.integers(0, len(tareas_all) - m + 1))
                tareas = tareas_all[s0:s0 + m]
                kind, equip = "feeder", self.f_code[fi]
            start = S + int(r.choice([0, 30])) * MIN
            planned_end = start + int(round(r.uniform(*P.PLANNED_HOURS) * 2) / 2 * HOUR)
            end = planned_end + int(r.uniform(*P.PLANNED_OVERRUN_MIN) * MIN)
            temporary = r.random() < P.TEMPORARY_SHARE
            if temporary:
                publish = start - P.TEMPORARY_LEAD_H * HOUR - int(r.uniform(0, 12) * HOUR)
            else:
                publish = start - P.PLANNED_LEAD_DAYS * DAY - int(r.uniform(0, 2) * DAY)
            cancelled = r.random() < P.PLANNED_CANCELLED_SHARE
            cancel_at = start - int(r.uniform(1, 48) * HOUR) if cancelled else None
            if cancel_at is not None:
                cancel_at = max(cancel_at, publish + HOUR)
            shares = np.ones(len(tareas))
            cust_each = self.t_cust[tareas].astype(int)
            district = self.f_district[fi]
            otype = "temporary" if temporary else "planned"
            self._outage_record(r, b, oid, otype, kind, equip, fi, district,
                                "planned_work" if not temporary else "temporary_work", tareas, shares,
                                cust_each, start, end, False, None, np.nan, 0.0, publish=publish,
                                planned_end=planned_end, cancelled=cancelled, cancel_at=cancel_at)
            self._notices(r, b, oid, tareas, start, publish, temporary, cancel_at)
            if not cancelled:
                orders = []
                self._outage_calls(r, orders, oid, kind, tareas, cust_each, start, end, None,
                                   self.f_area[fi], self.f_station[fi], otype)
                for o in orders:
                    o["order_no"] = None
                self._number_planned(oid, orders, b)
        return b

    def _number_planned(self, oid, orders, b):
        orders.sort(key=lambda o: (o["accepted_at"], o["customer_id"]))
        for k, o in enumerate(orders):
            o["order_no"] = f"ZX{oid[2:]}{k + 1:04d}"
            b.orders.append(o)

    def _notices(self, r, b, oid, tareas, start, publish, temporary, cancel_at):
        for ti in tareas:
            for kc in self.key_by_tarea.get(self.t_code[ti], ()):
                for step, lead_min in P.NOTICE_STEPS:
                    if temporary and step == "2d":
                        continue
                    due = start - lead_min * MIN
                    if cancel_at is not None and due > cancel_at:
                        continue
                    u = r.random()
                    missed = u < P.NOTICE_MISSED_SHARE
                    late = (not missed) and u < P.NOTICE_MISSED_SHARE + P.NOTICE_LATE_SHARE
                    if missed:
                        done = None
                    elif late:
                        done = due + int(r.uniform(10, min(120, lead_min)) * MIN)
                    else:
                        early = {"2d": 6 * 60, "12h": 60, "30min": 10}[step]
                        done = max(publish + MIN, due - int(r.uniform(0, early) * MIN))
                    b.notices.append((oid, kc["customer_id"], step, publish, due, done, missed, late))
