"""Every rate, distribution and size the simulator uses, in one place (docs/simulator.md).

Tags follow DOMAIN.md: [DOC] a standard or commitment, [PRACTICE] utility practice,
[ASSUMED] our default. Lognormals are given as (median, p95); sigma = ln(p95/median)/1.645.
Times are minutes unless the name says otherwise.
"""
from __future__ import annotations

import math

Z95 = 1.6448536


def ln_sigma(median: float, p95: float) -> float:
    return math.log(p95 / median) / Z95


# --- topology ---------------------------------------------------------------------------
# customers per 台区 (lognormal median, clipped range) by area type [ASSUMED, from practice:
# town 150-400, country 50-200]
TAREA_CUSTOMERS = {
    "urban": (195, 150, 400),
    "suburban": (150, 80, 300),
    "rural": (95, 50, 200),
    "remote": (70, 30, 150),
}
# standard transformer ratings (kVA) and the kVA per customer they are sized for [ASSUMED: 2-4]
KVA_SIZES = (100, 200, 315, 400, 500, 630, 800)
KVA_PER_CUSTOMER = (2.0, 3.6)
UNDERSIZED_SHARE = 0.05             # chronically undersized 台区, sized at 1.25-1.75 kVA/customer [ASSUMED]
UNDERSIZED_KVA_PER_CUSTOMER = (1.25, 1.75)
FEEDER_LOSS = 0.04                  # feeder load = sum of 台区 x (1 + losses) [ASSUMED]
FEEDER_UTILISATION_AT_35C = (0.45, 0.9)  # feeder peak current / rating on a 35 degC day [ASSUMED]
POWER_FACTOR = (0.88, 0.96)         # per 台区 [ASSUMED]

# customer-class mix of a 台区's load by area type: BDEW profile -> share [ASSUMED]
CLASS_MIX = {
    "urban": {"h0": 0.70, "g0": 0.25, "g1": 0.05, "l0": 0.0},
    "suburban": {"h0": 0.65, "g0": 0.15, "g1": 0.15, "l0": 0.05},
    "rural": {"h0": 0.70, "g0": 0.10, "g1": 0.05, "l0": 0.15},
    "remote": {"h0": 0.75, "g0": 0.05, "g1": 0.0, "l0": 0.20},
}
PROFILES = ("h0", "g0", "g1", "l0")

# --- load -------------------------------------------------------------------------------
# diversified peak demand without air conditioning, kW per customer [ASSUMED]
BASE_KW_PER_CUSTOMER = {"urban": 0.85, "suburban": 0.78, "rural": 0.66, "remote": 0.58}
# air conditioning: load x (1 + AC_BETA * g(T)), g = (T - AC_T0) / (AC_T1 - AC_T0), >= 0.
# AC_BETA = 0.667 makes AC 40 % of the peak at 35 degC [PRACTICE: Zhejiang ~40 %].
AC_T0, AC_T1, AC_BETA = 24.0, 35.0, 0.667
AC_MAX_G = 1.8                      # saturation: every unit is already running
HEAT_LAG_H = 2.0                    # buildings lag the air: AC follows T 2 h earlier... mixed [ASSUMED]
TAREA_NOISE = 0.05                  # per reading, relative [ASSUMED]
FEEDER_NOISE = 0.015
# voltage: lowest customer voltage = V0 - drop * load_rate [ASSUMED; GB/T 12325 limit 198 V]
V0 = 236.0
VOLTAGE_DROP_AT_FULL_LOAD = {"urban": 16.0, "suburban": 24.0, "rural": 40.0, "remote": 48.0}
LOW_VOLTAGE_LIMIT = 198.0

# --- weather (hourly, per district) ----------------------------------------------------
# mean daily max temperature per month, degC (a Yangtze-delta city) [ASSUMED, climatology-like]
MONTH_TMAX = (8.5, 11.0, 15.5, 22.0, 27.0, 29.5, 34.0, 33.5, 29.0, 24.0, 18.0, 11.5)
DIURNAL_RANGE = 7.5                 # degC between the 05:00 min and the 14:00 max [ASSUMED]
URBAN_HEAT_ISLAND = 0.8             # degC added in urban districts [ASSUMED]
DAY_ANOMALY_SD = 2.2                # slow day-to-day anomaly, degC [ASSUMED]
NORMAL_SOFT_CAP = 34.0               # normal scenario: maxima above compress ...
NORMAL_CAP_SLOPE = 0.3              # ... to 34 + 0.3 x excess (no heat wave) [ASSUMED]
HEATWAVE_PEAK = 40.2                # heatwave scenario peak daily max, degC
HEATWAVE_DAYS = (-3, 3)             # days around the anchor day
TYPHOON_HOURS = 12                  # typhoon scenario: the storm window length
TYPHOON_START_OFFSET_H = -3         # relative to the anchor time
TYPHOON_COOLING = 5.0               # degC the storm takes off the temperature

# --- faults and outages -----------------------------------------------------------------
# base rates at mild weather (per unit and day) [ASSUMED, calibrated to RS-1 and DOMAIN causes]
FEEDER_FAULTS_PER_DAY = 1.0 / 330.0       # ~1.1 per feeder-year
FEEDER_MOMENTARY_SHARE = 0.25             # auto-reclose succeeds within 3 min (not sustained)
TAREA_FAULTS_PER_DAY = 1.0 / 1900.0       # transformer / LV main: whole 台区 out
LV_FAULTS_PER_DAY = 1.0 / 900.0           # one LV branch: part of a 台区
LV_SHARE_OF_TAREA = (0.1, 0.4)
# heat: rate x (1 + HEAT_K * max(0, T - HEAT_T0)^2); load: x (1 + LOAD_K * max(0, lr - 0.8)) [ASSUMED]
HEAT_T0, HEAT_K_FEEDER, HEAT_K_TAREA = 30.0, 0.03, 0.07
LOAD_K_TAREA = 25.0
TYPHOON_FEEDER_FACTOR = 90.0              # feeder faults during the storm [ASSUMED]
TYPHOON_TAREA_FACTOR = 12.0
# cause mix of fault outages [PRACTICE, 50 cities: third party 26, ageing 25, weather 22 of 67]
FAULT_CAUSES = {"third_party": 26, "ageing": 25, "weather": 22}
# repair durations after arrival (lognormal median, p95), minutes [ASSUMED; 10 kV median 2-3 h]
REPAIR_10KV = (130.0, 330.0)
REPAIR_TAREA = (75.0, 200.0)
REPAIR_LV_OUTAGE = (55.0, 150.0)
REPAIR_LV = (40.0, 110.0)                 # small LV / customer-side jobs [DOMAIN: ~40 min]
MOMENTARY_S = (20, 170)                   # reclose time, seconds
# planned outages: count per 100 feeders per workday, duration, lead time [ASSUMED / DOC 7 days]
PLANNED_PER_100_FEEDERS_PER_WORKDAY = 0.3
PLANNED_SECTION_SHARE = (0.3, 0.8)        # share of a feeder's 台区 in a planned section
PLANNED_TAREA_LEVEL_SHARE = 0.35          # planned jobs on one 台区 only
PLANNED_HOURS = (3.0, 8.0)
PLANNED_OVERRUN_MIN = (-20.0, 40.0)
PLANNED_CANCELLED_SHARE = 0.03
PLANNED_LEAD_DAYS = 7                     # [DOC, 十项承诺]
TEMPORARY_SHARE = 0.15                    # of non-fault outages: temporary, 24 h notice [DOC]
TEMPORARY_LEAD_H = 24

# --- OMS reporting ----------------------------------------------------------------------
REPORT_DELAY = (6.0, 13.0)                # on-time report delay after the trip [ASSUMED: within 15 min]
REPORT_NEVER_SHARE = 0.04                 # 应报未报, configured band 2-6 % [ASSUMED]
REPORT_NEVER_BAND = (0.02, 0.06)
REPORT_LATE_SHARE = 0.08                  # 迟报: 16-120 min [ASSUMED]
REPORT_LATE_MIN = (16.0, 120.0)
WRONG_SCOPE_SHARE = 0.05                  # scope / customers off by 20-45 % [ASSUMED]
STALE_ETR_SHARE = 0.06                    # ETR passes with no update [ASSUMED]
RESTORE_REPORT_DELAY = (4.0, 12.0)        # restoration entered after the fact [ASSUMED: within 10 min]
ETR_ERROR_SIGMA = 0.35

# --- calls and work orders -------------------------------------------------------------
# individual repair calls (not caused by a recorded outage), per 10k customers per day at
# mild weather [ASSUMED; total repair ~2 per 10k per day, DOMAIN]
INDIVIDUAL_REPAIR_PER_10K_DAY = 1.1
# hour-of-day weights of individual calls (sum 24 = flat) [ASSUMED]
CALL_DIURNAL = (0.35, 0.25, 0.2, 0.2, 0.25, 0.4, 0.7, 1.0, 1.25, 1.35, 1.4, 1.4,
                1.35, 1.35, 1.4, 1.45, 1.5, 1.5, 1.6, 1.65, 1.5, 1.2, 0.85, 0.55)
HEAT_K_CALLS = 0.07                        # x (1 + k * max(0, T - 30)^2): ~8x at 40 degC
LOWV_CALLS_PER_LV_CUSTOMER_HOUR = 0.002   # low-voltage complaints from customers below 198 V
REPAIR_SUBTYPES = {"低压故障": 0.30, "客户内部故障": 0.33, "计量故障": 0.10, "电能质量": 0.08,
                   "非电力故障": 0.12, "高压故障": 0.07}
# outage-driven calls: share of affected customers who call, and the delay after loss of supply
CALL_SHARE = {"feeder": 0.009, "tarea": 0.035, "lv_line": 0.07, "planned": 0.002}
CALL_DELAY = (9.0, 45.0)
REPEAT_CALL_P = 0.22                      # caller calls again while still out [ASSUMED]
REPEAT_DELAY = (35.0, 90.0)
URGE_P = 0.25                             # 催办 when the crew has not arrived after 60 min
COMPLAINT_AFTER_OUTAGE_P = 0.02           # per caller, outages over 4 h [ASSUMED]
# crews: one repair crew per this many customers, at least 2 per 供电所 [ASSUMED]
CUSTOMERS_PER_CREW = 12000
MIN_CREWS = 2
CREW_RETURN = 15.0                        # minutes between jobs
# lifecycle: arrival from acceptance (median, p95) [DOMAIN, ASSUMED: urban 22/45, rural 45/90]
ARRIVAL = {"urban": (22.0, 45.0), "suburban": (30.0, 62.0), "rural": (45.0, 90.0),
           "remote": (70.0, 130.0)}
KEY_CUSTOMER_ARRIVAL = (18.0, 28.0)       # [PRACTICE: on site within 30 min]
DISPATCH_DELAY = (2.0, 5.0)               # accepted -> dispatched, uniform minutes
RECEIVE_DELAY = (1.0, 4.0)
DEPART_DELAY = (1.0, 5.0)
RETURN_DELAY = (12.0, 45.0)               # restored -> 回单
VISIT_DELAY = (180.0, 900.0)              # 回单 -> 回访
CANCEL_SHARE = 0.02
# non-repair orders per 10k customers per day [ASSUMED]
OTHER_ORDERS_PER_10K_DAY = {"consult": 1.2, "service": 0.45, "complaint": 0.10, "report": 0.015,
                            "suggestion": 0.04, "praise": 0.04}
BILLING_PER_10K_DAY = 0.12                # billing enquiries; summer x1.6 [ASSUMED]
BILLING_ANOMALY_SHARE = 0.55              # of those: bill >= 2x the 12-month average
COMPLAINT_CLASSES = {"服务": 0.25, "营业": 0.25, "停送电": 0.25, "供电质量": 0.15, "电网建设": 0.10}
CHANNELS = {"95598": 0.86, "online": 0.10, "12345": 0.03, "12398": 0.008, "media": 0.002}
SENSITIVE_KEYWORD_P = 0.03                # content mentions one of DOMAIN's keywords
KEYWORDS = ("媒体", "曝光", "起诉", "投诉到", "老人", "病人", "医疗设备", "漏电", "断线", "起火")

# --- key customers and notices ------------------------------------------------------------
KEY_CUSTOMERS_PER_1000_TAREA = 4.0
KEY_CATEGORIES = {"hospital": 0.2, "water": 0.1, "gas": 0.07, "metro": 0.08, "government": 0.2,
                  "telecom": 0.15, "industry": 0.2}
LIFELINE = ("hospital", "water", "gas", "metro", "telecom")
DUAL_SUPPLY_SHARE = {"special": 0.95, "first": 0.8, "second": 0.5}  # [ASSUMED]
NOTICE_STEPS = (("2d", 48 * 60), ("12h", 12 * 60), ("30min", 30))
NOTICE_MISSED_SHARE = 0.06                # a step never done [ASSUMED]
NOTICE_LATE_SHARE = 0.08                  # done after it was due
KEY_CUSTOMER_CALL_P = 0.7

# --- retention ----------------------------------------------------------------------------
SCADA_MINUTE_RETENTION_DAYS = 2           # then keep quarter-hour rows only
AMI_RETENTION_DAYS = 3
SIM_RETENTION_DAYS = 45
