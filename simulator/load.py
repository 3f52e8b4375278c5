"""台区 and feeder load, and 台区 voltage.

台区 load (kW) = base_kw x sum_p mix_p x shape_p(season, day type, time) x climate(T)
  - shape_p: the BDEW standard load profiles that demandlib ships (h0 households, g0 commerce,
    g1 workday business as a stand-in for small industry, l0 farms), 15-min values, linear in
    between, each scaled so that its summer-workday maximum is 1;
  - day type from chinese-calendar (holidays count as Sundays, 调休 workdays as workdays);
  - climate(T) = 1 + AC_BETA * g(T) + HEATING_BETA * h(T): the air-conditioning term
    g = clip((T - 24) / (35 - 24), 0, 1.8), ~40 % of the peak at 35 degC; a small heating term
    below 10 degC.
Feeder load = sum of its 台区 that have supply x (1 + losses) x (1 + small noise).
Voltage: the lowest customer voltage falls linearly with load rate (steeper in the country).
"""
from __future__ import annotations

import os
from functools import lru_cache

import numpy as np
import pandas as pd

from . import params as P
from .rng import rng
from .timebase import DAY, DAYTYPE_INDEX, day_info, day_of, season_index
from .topology import Topology
from .weather import Weather

HEATING_T, HEATING_BETA = 10.0, 0.25


@lru_cache(maxsize=1)
def bdew_shapes() -> np.ndarray:
    """Array [profile, season(summer, transition, winter), daytype(workday, sat, sun), 96]."""
    from demandlib.bdew._profiles25 import _bdew_datapath
    df = pd.read_csv(os.path.join(_bdew_datapath, "selp_series.csv"))
    out = np.zeros((len(P.PROFILES), 3, 3, 96))
    for si, season in enumerate(("summer", "transition", "winter")):
        for di, wd in enumerate((1, 6, 7)):
            sub = df[(df["period"] == season) & (df["weekday"] == wd)]
            for pi, prof in enumerate(P.PROFILES):
                out[pi, si, di] = sub[prof].to_numpy(dtype=float)[:96]
    peak = out[:, 0, 0, :].max(axis=1)
    return out / peak[:, None, None, None]


class LoadModel:
    def __init__(self, topo: Topology, weather: Weather, seed: int):
        self.topo = topo
        self.weather = weather
        self.seed = seed
        t = topo.tareas
        self.n = len(t)
        self.mix = t[[f"mix_{p}" for p in P.PROFILES]].to_numpy()
        self.base_kw = t["base_kw"].to_numpy()
        self.capacity = t["capacity_kva"].to_numpy()
        self.pf = t["pf"].to_numpy()
        self.vdrop = t["vdrop"].to_numpy()
        self.customers = t["customers"].to_numpy()
        self.district = t["district_idx"].to_numpy()
        self.feeder = t["feeder_idx"].to_numpy()
        self.n_feeders = len(topo.feeders)
        self.rated_a = topo.feeders["rated_current_a"].to_numpy()
        self.shapes = bdew_shapes()

    def shape_at(self, sec: float) -> np.ndarray:
        """The four profile values at a moment, linear between the 15-min points."""
        day = int(sec // DAY)
        d = day_of(day * DAY)
        season = season_index(d)
        dtype = DAYTYPE_INDEX[day_info(d)[0]]
        x = (sec - day * DAY) / 900.0
        i0 = int(x) % 96
        w = x - int(x)
        a = self.shapes[:, season, dtype, i0]
        if w == 0:
            return a
        if i0 == 95:  # across midnight: next day's first point
            d1 = day_of((day + 1) * DAY)
            b = self.shapes[:, season_index(d1), DAYTYPE_INDEX[day_info(d1)[0]], 0]
        else:
            b = self.shapes[:, season, dtype, i0 + 1]
        return a * (1 - w) + b * w

    def climate_factor(self, sec: float) -> np.ndarray:
        """Per district: 1 + AC term + heating term."""
        temp = self.weather.at(sec)
        g = np.clip((temp - P.AC_T0) / (P.AC_T1 - P.AC_T0), 0, P.AC_MAX_G)
        h = np.clip((HEATING_T - temp) / 10.0, 0, 1.5)
        return 1 + P.AC_BETA * g + HEATING_BETA * h

    def tarea_kw(self, sec: float) -> np.ndarray:
        """Load of every 台区 at a moment with full supply (kW), without reading noise."""
        return self.base_kw * (self.mix @ self.shape_at(sec)) * self.climate_factor(sec)[self.district]

    def load_rate(self, sec: float) -> np.ndarray:
        return self.tarea_kw(sec) / self.pf / self.capacity

    def feeder_mw(self, sec: float, supplied: np.ndarray | None = None) -> np.ndarray:
        """Feeder active power (MW) at a moment; `supplied` is the fraction of each 台区 in supply."""
        kw = self.tarea_kw(sec)
        if supplied is not None:
            kw = kw * supplied
        mw = np.bincount(self.feeder, weights=kw, minlength=self.n_feeders) * (1 + P.FEEDER_LOSS) / 1000.0
        noise = rng(self.seed, "scada-noise", int(sec // 60)).normal(0, P.FEEDER_NOISE, self.n_feeders)
        return np.maximum(mw * (1 + noise), 0.0)

    @staticmethod
    def current_a(mw: np.ndarray) -> np.ndarray:
        return mw * 1000.0 / (np.sqrt(3) * 10.0 * 0.92)

    def ami(self, ts: float, supplied: np.ndarray | None = None):
        """One 15-min AMI reading per 台区 for the interval ending at ts.

        Returns (active_kw, apparent_kva, voltage_min_v, low_voltage_customers) arrays.
        """
        mid = ts - 450
        kw = self.tarea_kw(mid)
        if supplied is not None:
            kw = kw * supplied
        r = rng(self.seed, "ami-noise", int(ts // 900))
        kw = np.maximum(kw * (1 + r.normal(0, P.TAREA_NOISE, self.n)), 0.0)
        kva = kw / self.pf
        lr = kva / self.capacity
        v = P.V0 - self.vdrop * lr * (1 + r.normal(0, 0.05, self.n)) + r.normal(0, 1.0, self.n)
        share = np.clip((P.LOW_VOLTAGE_LIMIT - v) / 25.0 + 0.02, 0, 0.6)
        share = np.where(v < P.LOW_VOLTAGE_LIMIT, share, 0.0)
        lowv = np.round(self.customers * share).astype(int)
        return kw, kva, np.round(v, 1), lowv
