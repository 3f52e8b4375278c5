"""The grid tree (地市 → 区县 → 供电所 → 10 kV 线路 → 台区) and key customers, built from a seed.

Codes are hierarchical: city `PC` (province preset `P01`..`P21`), district `PC01`, station
`PC01S03`, feeder `PC01S03F012`, 台区 `PC01S03F012T031`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import params as P
from .rng import rng
from .scales import Scale

CITY_NAMES = ("江城", "临川", "清河", "东阳", "南溪", "北固", "安平", "长宁", "永安", "兴华", "云浮",
              "青田", "石门", "白沙", "金华", "丽水", "宁远", "海丰", "新城", "龙泉", "桐乡")
URBAN_NAMES = ("城东", "城西", "城南", "城北", "滨江", "中山", "鼓楼", "高新")
SUBURBAN_NAMES = ("经开", "临港", "新湖", "江北", "西塘", "港城")
RURAL_NAMES = ("青山", "白水", "梅溪", "石岭", "松阳", "桃源", "柳岸", "云岭")
STATION_WORDS = ("东关", "西门", "南湖", "北岸", "新桥", "古城", "长塘", "花园", "金沙", "银湖",
                 "枫林", "竹园", "莲塘", "朝阳", "和平", "红星", "前进", "光明", "平安", "胜利")
BASE_LON, BASE_LAT = 120.15, 30.28
PROVINCE_SPACING = 1.0
DISTRICT_RING = {"urban": (0.04, 0.10), "suburban": (0.16, 0.24), "rural": (0.28, 0.38),
                 "remote": (0.32, 0.40)}
DISTRICT_SPREAD = {"urban": 0.035, "suburban": 0.06, "rural": 0.08, "remote": 0.09}


@dataclass
class Topology:
    nodes: pd.DataFrame            # every node, grid_node columns (minus updated_at)
    tareas: pd.DataFrame           # one row per 台区, with model attributes, index = position
    feeders: pd.DataFrame          # one row per feeder, index = position
    stations: pd.DataFrame
    districts: pd.DataFrame
    cities: pd.DataFrame
    key_customers: pd.DataFrame    # key_customer columns (minus updated_at)

    @property
    def customers(self) -> int:
        return int(self.tareas["customers"].sum())


def _district_name(area: str, i: int, r: np.random.Generator) -> str:
    if area == "urban":
        return URBAN_NAMES[i % len(URBAN_NAMES)] + "区"
    if area == "suburban":
        return SUBURBAN_NAMES[i % len(SUBURBAN_NAMES)] + "区"
    return RURAL_NAMES[i % len(RURAL_NAMES)] + "县"


def city_codes(scale: Scale) -> list[str]:
    return ["PC"] if scale.cities == 1 else [f"P{i + 1:02d}" for i in range(scale.cities)]


def city_centres(scale: Scale) -> list[tuple[float, float]]:
    if scale.cities == 1:
        return [(BASE_LON, BASE_LAT)]
    cols = int(np.ceil(np.sqrt(scale.cities)))
    out = []
    for i in range(scale.cities):
        row, col = divmod(i, cols)
        out.append((BASE_LON - 2.0 + col * PROVINCE_SPACING + (0.15 if row % 2 else 0.0),
                    BASE_LAT - 1.5 + row * PROVINCE_SPACING))
    return out


def build(scale: Scale, seed: int) -> Topology:
    r = rng(seed, "topology")
    city_rows, dist_rows, st_rows, fd_rows = [], [], [], []
    t_feeder, t_num, t_area = [], [], []
    centres = city_centres(scale)
    for ci, ccode in enumerate(city_codes(scale)):
        clon, clat = centres[ci]
        cname = CITY_NAMES[ci % len(CITY_NAMES)] + "市"
        city_rows.append(dict(code=ccode, name=cname, area_type="urban", lon=clon, lat=clat))
        counters = {"urban": 0, "suburban": 0, "rural": 0, "remote": 0}
        nd = len(scale.districts)
        angle0 = r.uniform(0, 2 * np.pi)
        for di, area in enumerate(scale.districts):
            dcode = f"{ccode}{di + 1:02d}"
            dname = _district_name(area, counters[area], r)
            counters[area] += 1
            lo, hi = DISTRICT_RING[area]
            ang = angle0 + 2 * np.pi * di / nd + r.uniform(-0.25, 0.25)
            rad = r.uniform(lo, hi)
            dlon, dlat = clon + rad * np.cos(ang), clat + rad * np.sin(ang) * 0.9
            dist_rows.append(dict(code=dcode, name=dname, parent_code=ccode, area_type=area,
                                  lon=dlon, lat=dlat))
            n_st = int(r.integers(scale.stations[0], scale.stations[1] + 1))
            spread = DISTRICT_SPREAD[area]
            for si in range(n_st):
                scode = f"{dcode}S{si + 1:02d}"
                word = STATION_WORDS[(di * 7 + si) % len(STATION_WORDS)]
                slon = dlon + r.normal(0, spread)
                slat = dlat + r.normal(0, spread * 0.9)
                st_rows.append(dict(code=scode, name=f"{dname[:-1]}{word}供电所", parent_code=dcode,
                                    area_type=area, lon=slon, lat=slat))
                n_fd = int(r.integers(scale.feeders[0], scale.feeders[1] + 1))
                for fi in range(n_fd):
                    fcode = f"{scode}F{fi + 1:03d}"
                    fd_rows.append(dict(code=fcode, name=f"10kV {word}{fi + 1}号线", parent_code=scode,
                                        area_type=area, lon=slon + r.normal(0, spread / 3),
                                        lat=slat + r.normal(0, spread / 3)))
                    lo_t, hi_t = scale.tareas[area]
                    n_t = int(r.integers(lo_t, hi_t + 1))
                    fidx = len(fd_rows) - 1
                    t_feeder.extend([fidx] * n_t)
                    t_num.extend(range(1, n_t + 1))
                    t_area.extend([area] * n_t)

    cities = pd.DataFrame(city_rows)
    districts = pd.DataFrame(dist_rows)
    stations = pd.DataFrame(st_rows)
    feeders = pd.DataFrame(fd_rows)
    fcodes = feeders["code"].to_numpy()
    n = len(t_feeder)
    t_feeder = np.asarray(t_feeder)
    t_area = np.asarray(t_area)
    tcode = np.char.add(np.char.add(fcodes[t_feeder].astype(str), "T"),
                        np.char.zfill(np.asarray(t_num).astype(str), 3))

    # customers per 台区: lognormal around the area median, clipped to the area range
    cust = np.empty(n)
    for area, (med, lo, hi) in P.TAREA_CUSTOMERS.items():
        m = t_area == area
        cust[m] = np.clip(np.round(med * np.exp(r.normal(0, 0.35, m.sum()))), lo, hi)
    cust = cust.astype(int)
    base_kw = np.array([P.BASE_KW_PER_CUSTOMER[a] for a in t_area]) * cust * np.exp(r.normal(0, 0.12, n))
    undersized = r.random(n) < P.UNDERSIZED_SHARE
    kva_per = np.where(undersized, r.uniform(*P.UNDERSIZED_KVA_PER_CUSTOMER, n),
                       r.uniform(*P.KVA_PER_CUSTOMER, n))
    want = cust * kva_per
    sizes = np.asarray(P.KVA_SIZES, dtype=float)
    idx = np.clip(np.searchsorted(sizes, want), 0, len(sizes) - 1)
    # undersized ones take the nearest rating, the rest the next one up
    lower = np.maximum(idx - 1, 0)
    nearer_lower = np.abs(sizes[lower] - want) < np.abs(sizes[idx] - want)
    idx = np.where(undersized & nearer_lower, lower, idx)
    capacity = sizes[idx]
    pf = r.uniform(*P.POWER_FACTOR, n)
    mix = np.array([[P.CLASS_MIX[a][p] for p in P.PROFILES] for a in t_area])
    mix = mix * np.exp(r.normal(0, 0.25, mix.shape))
    mix = mix / mix.sum(axis=1, keepdims=True)
    vdrop = np.array([P.VOLTAGE_DROP_AT_FULL_LOAD[a] for a in t_area]) * np.exp(r.normal(0, 0.15, n))
    flon = feeders["lon"].to_numpy()[t_feeder] + r.normal(0, 0.008, n)
    flat = feeders["lat"].to_numpy()[t_feeder] + r.normal(0, 0.008, n)

    # parent index arrays
    st_index = {c: i for i, c in enumerate(stations["code"])}
    d_index = {c: i for i, c in enumerate(districts["code"])}
    c_index = {c: i for i, c in enumerate(cities["code"])}
    feeders["station_idx"] = feeders["parent_code"].map(st_index).to_numpy()
    stations["district_idx"] = stations["parent_code"].map(d_index).to_numpy()
    districts["city_idx"] = districts["parent_code"].map(c_index).to_numpy()
    feeders["district_idx"] = stations["district_idx"].to_numpy()[feeders["station_idx"].to_numpy()]

    tareas = pd.DataFrame({
        "code": tcode, "feeder_idx": t_feeder, "area_type": t_area, "customers": cust,
        "capacity_kva": capacity, "pf": pf, "base_kw": base_kw, "undersized": undersized,
        "vdrop": vdrop, "lon": flon, "lat": flat, "num": np.asarray(t_num),
    })
    for k, p in enumerate(P.PROFILES):
        tareas[f"mix_{p}"] = mix[:, k]
    tareas["station_idx"] = feeders["station_idx"].to_numpy()[t_feeder]
    tareas["district_idx"] = feeders["district_idx"].to_numpy()[t_feeder]
    tareas["feeder_code"] = fcodes[t_feeder]
    tareas["name"] = (feeders["name"].str.replace("10kV ", "", regex=False).to_numpy()[t_feeder]
                      + tareas["num"].astype(str) + "号台区")

    # feeder ratings: peak current on a 35 degC day over a drawn utilisation
    kw_at_35 = np.bincount(t_feeder, weights=base_kw * (1 + P.AC_BETA), minlength=len(feeders))
    amps_at_35 = kw_at_35 * (1 + P.FEEDER_LOSS) / (np.sqrt(3) * 10.0 * 0.92)
    util = r.uniform(*P.FEEDER_UTILISATION_AT_35C, len(feeders))
    feeders["rated_current_a"] = np.maximum(100.0, np.round(amps_at_35 / util / 10.0) * 10.0)
    feeders["customers"] = np.bincount(t_feeder, weights=cust, minlength=len(feeders)).astype(int)
    feeders["n_tareas"] = np.bincount(t_feeder, minlength=len(feeders))
    stations["customers"] = np.bincount(feeders["station_idx"], weights=feeders["customers"],
                                        minlength=len(stations)).astype(int)
    districts["customers"] = np.bincount(stations["district_idx"], weights=stations["customers"],
                                         minlength=len(districts)).astype(int)
    cities["customers"] = np.bincount(districts["city_idx"], weights=districts["customers"],
                                      minlength=len(cities)).astype(int)
    stations["crews"] = np.maximum(P.MIN_CREWS, np.round(stations["customers"] / P.CUSTOMERS_PER_CREW)).astype(int)

    def frame(df, level, extra=None):
        out = pd.DataFrame({
            "code": df["code"], "name": df["name"], "level": level,
            "parent_code": df["parent_code"] if "parent_code" in df else None,
            "area_type": df["area_type"], "customers": df["customers"].astype(int),
            "capacity_kva": np.nan, "rated_current_a": np.nan, "lon": df["lon"], "lat": df["lat"]})
        if extra:
            for k, v in extra.items():
                out[k] = v
        return out

    tareas_parent = pd.Series(fcodes[t_feeder])
    nodes = pd.concat([
        frame(cities.assign(parent_code=None), "city"),
        frame(districts, "district"),
        frame(stations, "station"),
        frame(feeders, "feeder", {"rated_current_a": feeders["rated_current_a"].to_numpy()}),
        frame(tareas.assign(parent_code=tareas_parent.to_numpy()), "tarea",
              {"capacity_kva": capacity}),
    ], ignore_index=True)
    nodes["lon"] = nodes["lon"].round(5)
    nodes["lat"] = nodes["lat"].round(5)

    key_customers = _key_customers(tareas, feeders, cities, r)
    return Topology(nodes, tareas, feeders, stations, districts, cities, key_customers)


KEY_NAMES = {"hospital": ("第一人民医院", "中医院", "妇幼保健院", "中心医院", "第二人民医院"),
             "water": ("自来水厂", "污水处理厂", "供水加压站"),
             "gas": ("天然气门站", "燃气调压站"),
             "metro": ("地铁控制中心", "地铁主变电所", "轨道交通车辆段"),
             "government": ("市政府", "区政府", "应急管理局", "公安指挥中心"),
             "telecom": ("通信枢纽楼", "数据中心", "移动核心机房"),
             "industry": ("钢铁厂", "化工园区", "半导体厂", "制药厂")}


def _key_customers(tareas: pd.DataFrame, feeders: pd.DataFrame, cities: pd.DataFrame,
                   r: np.random.Generator) -> pd.DataFrame:
    rows = []
    cats = list(P.KEY_CATEGORIES)
    probs = np.array([P.KEY_CATEGORIES[c] for c in cats])
    probs = probs / probs.sum()
    fcode = feeders["code"].to_numpy()
    f_station = feeders["station_idx"].to_numpy()
    city_of_tarea = tareas["code"].str.slice(0, 2)
    city_of_tarea = np.where(city_of_tarea == "PC", "PC", tareas["code"].str.slice(0, 3))
    for ccode in cities["code"]:
        pos = np.flatnonzero(city_of_tarea == ccode)
        # key customers sit mostly in urban and suburban 台区
        w = np.where(tareas["area_type"].to_numpy()[pos] == "urban", 3.0,
                     np.where(tareas["area_type"].to_numpy()[pos] == "suburban", 1.5, 0.5))
        k = max(3, int(round(len(pos) * P.KEY_CUSTOMERS_PER_1000_TAREA / 1000)))
        chosen = r.choice(pos, size=min(k, len(pos)), replace=False, p=w / w.sum())
        for j, t in enumerate(sorted(chosen)):
            cat = cats[r.choice(len(cats), p=probs)]
            names = KEY_NAMES[cat]
            name = f"{cities.loc[cities['code'] == ccode, 'name'].iloc[0]}{names[j % len(names)]}"
            fi = int(tareas.at[t, "feeder_idx"])
            same_station = np.flatnonzero((f_station == f_station[fi]) & (np.arange(len(fcode)) != fi))
            importance = "special" if cat in ("hospital", "government") and r.random() < 0.4 else \
                ("first" if cat in P.LIFELINE or r.random() < 0.3 else "second")
            p_dual = P.DUAL_SUPPLY_SHARE[importance]
            dual = r.random() < p_dual and len(same_station) > 0
            rows.append(dict(
                customer_id=f"KC{ccode}{j + 1:04d}", name=f"{name}{j + 1 if j >= len(names) else ''}",
                category=cat, lifeline=cat in P.LIFELINE, importance=importance,
                tarea_code=tareas.at[t, "code"], primary_feeder=fcode[fi],
                backup_feeder=fcode[int(r.choice(same_station))] if dual else None))
    return pd.DataFrame(rows)
