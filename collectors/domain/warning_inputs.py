"""The warning engine's inputs per node, from the collectors' per-node KPI frames.

Each column is defined in docs/warnings.md ("Inputs"). A frame that is missing (its collector
has not completed a cycle) leaves its columns out: the engine reads that as "no data", which
never raises a level. Zero denominators give NaN for the same reason.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd

from collectors.domain.tree import Tree


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return num / den.where(den > 0)


def hot_streaks(daily_max: pd.DataFrame, today: pd.Timestamp, hot_min_c: float) -> pd.Series:
    """Per district: consecutive days up to today whose maximum reached hot_min_c (0 if not today)."""
    hot = daily_max[daily_max["temperature_c"] >= hot_min_c]
    back = (today - hot["day"]).dt.days
    hot = hot.assign(back=back).sort_values(["district_code", "back"])
    unbroken = (hot["back"] == hot.groupby("district_code").cumcount()).astype("int64")
    # the streak ends at the first missing day: keep the leading run of `back == rank`
    return unbroken.groupby(hot["district_code"]).cummin().groupby(hot["district_code"]).sum()


def weather_inputs(daily_max: pd.DataFrame, tree: Tree, now: datetime, hot_min_c: float,
                   codes: pd.Index | None = None) -> pd.DataFrame:
    """temp_max_c and hot_days per district; a city takes its hottest district, a station its own.
    `codes`: the nodes wanted (default every node), so a province does not spread the district
    values over its 330,000 台区 only to drop them."""
    today = pd.Timestamp(now).normalize()
    obs = daily_max[daily_max["day"] <= today]
    district = pd.DataFrame({
        "temp_max_c": obs[obs["day"] == today].groupby("district_code")["temperature_c"].max(),
        "hot_days": hot_streaks(obs, today, hot_min_c)})
    district = district.reindex(tree.codes("district"))
    district["hot_days"] = district["hot_days"].fillna(0).where(district["temp_max_c"].notna())
    anc = tree.ancestors if codes is None else tree.ancestors.reindex(codes)
    below = district.reindex(anc["district"]).set_axis(anc.index)
    city = district.assign(city=tree.ancestors["city"].reindex(district.index)).groupby("city").max()
    not_city = (tree.nodes["level"].reindex(anc.index) != "city").to_numpy()
    return pd.concat([city, below[not_city]])


def build_inputs(frames: dict[str, pd.DataFrame], tree: Tree, now: datetime, levels,
                 hot_min_c: float) -> pd.DataFrame:
    """One row per node at `levels`, one column per input the frames allow."""
    codes = tree.nodes.index[tree.nodes["level"].isin(levels)]
    parts = []
    if "weather.daily_max" in frames:
        parts.append(weather_inputs(frames["weather.daily_max"], tree, now, hot_min_c, codes))
    if "scada.nodes" in frames:
        parts.append(frames["scada.nodes"][["load_vs_peak"]])
    if "ami.nodes" in frames:
        a = frames["ami.nodes"]
        parts.append(pd.DataFrame({"heavy_share": _ratio(a["heavy_tareas"], a["tareas_reporting"]),
                                   "overload_share": _ratio(a["overload_tareas"], a["tareas_reporting"])}))
    if "orders.nodes" in frames:
        o = frames["orders.nodes"]
        parts.append(pd.DataFrame({
            "repair_growth": _ratio(o["repair_last_hour"], o["baseline_last_hour"]) - 1.0,
            "repair_baseline": o["baseline_last_hour"],
            "overdue_arrival_share": _ratio(o["overdue_arrival"], o["open_repair"]),
            "key_customer_overdue": o["key_customer_overdue"]}))
    if "orders.sensitive" in frames:
        parts.append(frames["orders.sensitive"][["sensitive_per_10k", "media_escalations"]])
    if "keycustomers.nodes" in frames:
        parts.append(frames["keycustomers.nodes"][["keycust_one_source_lost", "keycust_single_source_minutes",
                                                   "keycust_outages"]])
    inputs = pd.DataFrame(index=codes)
    for part in parts:
        inputs = inputs.join(part.astype("float64").reindex(codes))
    return inputs
