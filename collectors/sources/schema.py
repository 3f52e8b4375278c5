"""Tables of the five source systems, as the collectors read them (docs/source-systems.md).

Every timestamp is a naive China Standard Time datetime. Every table has `updated_at`: the time
the source system last wrote the row. Collectors poll by that watermark, with an overlap window,
and de-duplicate by each table's key.
"""
from __future__ import annotations

from sqlalchemy import (Boolean, Column, DateTime, Float, Index, Integer, MetaData, String,
                        Table, Text)

metadata = MetaData()

# Grid levels, top to bottom. Every number on every screen belongs to a node of this tree.
LEVELS = ("city", "district", "station", "feeder", "tarea")
AREA_TYPES = ("urban", "suburban", "rural", "remote")


def _updated_at() -> Column:
    return Column("updated_at", DateTime, nullable=False, index=True)


# --- 营销 customer files: topology, capacities, key customers -------------------------------
grid_node = Table(
    "grid_node", metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("level", String(16), nullable=False),          # one of LEVELS
    Column("parent_code", String(32), index=True),        # NULL only for the city
    Column("area_type", String(16), nullable=False),      # one of AREA_TYPES
    Column("customers", Integer, nullable=False),         # customers served below this node
    Column("capacity_kva", Float),                        # 台区: transformer rating (kVA)
    Column("rated_current_a", Float),                     # feeder: thermal limit (A) at 10 kV
    Column("lon", Float), Column("lat", Float),           # centroid, WGS84 degrees
    _updated_at(),
)

key_customer = Table(
    "key_customer", metadata,
    Column("customer_id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("category", String(16), nullable=False),       # hospital|water|gas|metro|government|telecom|industry
    Column("lifeline", Boolean, nullable=False),          # 生命线工程
    Column("importance", String(8), nullable=False),      # special|first|second (特级/一级/二级)
    Column("tarea_code", String(32), nullable=False),
    Column("primary_feeder", String(32), nullable=False),
    Column("backup_feeder", String(32)),                  # NULL: single supply source
    _updated_at(),
)

# District outlines for the maps (GIS export of the customer files): one GeoJSON geometry per
# node, WGS84. Optional: without it the maps place nodes at their centroids.
grid_area = Table(
    "grid_area", metadata,
    Column("code", String(32), primary_key=True),
    Column("geometry", Text, nullable=False),              # GeoJSON Polygon/MultiPolygon
    _updated_at(),
)

# --- SCADA / 配电自动化 ------------------------------------------------------------------------
scada_feeder_load = Table(
    "scada_feeder_load", metadata,
    Column("feeder_code", String(32), primary_key=True),
    Column("ts", DateTime, primary_key=True),             # minute of the measurement
    Column("active_mw", Float, nullable=False),           # active power, MW
    Column("current_a", Float, nullable=False),           # phase current, A
    _updated_at(),
)
Index("ix_scada_feeder_load_ts", scada_feeder_load.c.ts)

scada_breaker_event = Table(
    "scada_breaker_event", metadata,
    Column("event_id", String(40), primary_key=True),
    Column("feeder_code", String(32), nullable=False, index=True),
    Column("event", String(16), nullable=False),          # trip|close
    Column("ts", DateTime, nullable=False),
    _updated_at(),
)

# --- 用电信息采集 (AMI) ---------------------------------------------------------------------
ami_tarea_load = Table(
    "ami_tarea_load", metadata,
    Column("tarea_code", String(32), primary_key=True),
    Column("ts", DateTime, primary_key=True),             # end of the 15-min interval
    Column("active_kw", Float, nullable=False),
    Column("apparent_kva", Float, nullable=False),        # load rate = apparent_kva / capacity_kva
    Column("voltage_min_v", Float, nullable=False),       # lowest customer phase voltage, V
    Column("low_voltage_customers", Integer, nullable=False),  # customers below 198 V
    _updated_at(),
)
Index("ix_ami_tarea_load_ts", ami_tarea_load.c.ts)

ami_power_event = Table(
    "ami_power_event", metadata,
    Column("event_id", String(40), primary_key=True),
    Column("tarea_code", String(32), nullable=False, index=True),
    Column("device", String(16), nullable=False),         # concentrator|meter
    Column("meter_id", String(32)),                       # NULL for the concentrator
    Column("event", String(16), nullable=False),          # power_off|power_on
    Column("ts", DateTime, nullable=False),
    _updated_at(),
)

# --- 95598 / 供电服务指挥: work orders -----------------------------------------------------
# The lifecycle, in order. `status` is the last step reached.
ORDER_STEPS = ("accepted", "dispatched", "received", "departed", "arrived", "restored",
               "returned", "visited")
ORDER_TYPES = ("repair", "complaint", "report", "suggestion", "consult", "praise", "service",
               "urge")

wo_order = Table(
    "wo_order", metadata,
    Column("order_no", String(32), primary_key=True),
    Column("order_type", String(16), nullable=False),     # one of ORDER_TYPES
    Column("subtype", String(32)),
    Column("customer_id", String(32), nullable=False),
    Column("phone", String(20)),
    Column("tarea_code", String(32), nullable=False, index=True),
    Column("channel", String(16), nullable=False),        # 95598|online|12398|12345|media
    Column("key_customer", Boolean, nullable=False),
    Column("content", Text),
    Column("status", String(16), nullable=False),         # one of ORDER_STEPS, or cancelled
    *[Column(f"{step}_at", DateTime) for step in ORDER_STEPS],
    _updated_at(),
)
Index("ix_wo_order_accepted_at", wo_order.c.accepted_at)

# --- OMS 停电信息 ---------------------------------------------------------------------------
oms_outage = Table(
    "oms_outage", metadata,
    Column("outage_id", String(40), primary_key=True),
    Column("outage_type", String(16), nullable=False),    # planned|temporary|fault
    Column("equipment_type", String(16), nullable=False), # feeder|tarea|lv_line
    Column("equipment_code", String(32), nullable=False),
    Column("cause", String(32)),
    Column("customers", Integer, nullable=False),         # customers in the reported scope
    Column("start_at", DateTime, nullable=False),
    Column("reported_at", DateTime, nullable=False),      # when OMS received the report
    Column("etr", DateTime),                              # estimated time of restoration
    Column("restored_at", DateTime),                      # NULL while the outage lasts
    Column("status", String(16), nullable=False),         # active|restored|cancelled (planned ones also: scheduled)
    Column("notice_published_at", DateTime),              # planned outages: public notice
    _updated_at(),
)

oms_outage_tarea = Table(
    "oms_outage_tarea", metadata,
    Column("outage_id", String(40), primary_key=True),
    Column("tarea_code", String(32), primary_key=True),
    _updated_at(),
)

key_customer_notice = Table(
    "key_customer_notice", metadata,
    Column("outage_id", String(40), primary_key=True),
    Column("customer_id", String(32), primary_key=True),
    Column("step", String(8), primary_key=True),          # 2d|12h|30min
    Column("due_at", DateTime, nullable=False),
    Column("done_at", DateTime),                          # NULL: not (yet) done
    _updated_at(),
)

# --- weather -------------------------------------------------------------------------------
weather_obs = Table(
    "weather_obs", metadata,
    Column("district_code", String(32), primary_key=True),
    Column("ts", DateTime, primary_key=True),             # hour
    Column("temperature_c", Float, nullable=False),
    _updated_at(),
)
