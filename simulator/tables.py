"""The simulator's private ground truth (tables prefixed `sim_`), next to the public source tables.

The simulator writes complete plans here first (an outage with its true start, end and scope and
whether it will be reported; an order with every planned lifecycle time), then reveals what has
become due into the public tables. Tests audit the public tables against these.
"""
from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Float, Index, Integer, MetaData, String, Table, Text

sim_metadata = MetaData()

sim_meta = Table(
    "sim_meta", sim_metadata,
    Column("key", String(32), primary_key=True),
    Column("value", Text, nullable=False),
)

# one row per crew: when it is next free, as of the end of the planned horizon (resume state)
sim_crew = Table(
    "sim_crew", sim_metadata,
    Column("station_code", String(32), primary_key=True),
    Column("crew", Integer, primary_key=True),
    Column("free_at", DateTime, nullable=False),
)

# the true outage: every loss of supply, reported or not
sim_outage = Table(
    "sim_outage", sim_metadata,
    Column("outage_id", String(40), primary_key=True),
    Column("outage_type", String(16), nullable=False),     # planned|temporary|fault
    Column("equipment_type", String(16), nullable=False),  # feeder|tarea|lv_line
    Column("equipment_code", String(32), nullable=False),
    Column("feeder_code", String(32), nullable=False),
    Column("district_code", String(32), nullable=False),
    Column("cause", String(32)),
    Column("customers", Integer, nullable=False),          # true customers without supply
    Column("tareas", Integer, nullable=False),             # 台区 touched (whole or part)
    Column("start_at", DateTime, nullable=False, index=True),   # true loss of supply
    Column("end_at", DateTime, nullable=False, index=True),     # true restoration
    Column("momentary", Boolean, nullable=False),          # <= 3 min (auto-reclose), not sustained
    Column("must_report", Boolean, nullable=False),        # > 5 min: the audit expects an OMS record
    Column("reported", Boolean, nullable=False),           # an OMS record exists (at some time)
    Column("unreported", Boolean, nullable=False),         # 应报未报
    Column("late", Boolean, nullable=False),               # 迟报: reported > 15 min after start
    Column("wrong_scope", Boolean, nullable=False),        # reported scope/customers off > 10 %
    Column("stale_etr", Boolean, nullable=False),          # ETR passes > 30 min with no update
    Column("reported_at", DateTime),                       # NULL: never reported
    Column("reported_customers", Integer),
    Column("etr_first", DateTime),
    Column("notice_published_at", DateTime),               # planned/temporary
    Column("cancelled", Boolean, nullable=False),          # planned outage called off (no loss)
    Column("crew_arrival_at", DateTime),
    Column("storm", Float, nullable=False),                # typhoon intensity at start, 0..1
    Column("temperature_c", Float),                        # district temperature at start
)

# true scope: one row per 台区 (share < 1 for a low-voltage branch)
sim_outage_tarea = Table(
    "sim_outage_tarea", sim_metadata,
    Column("outage_id", String(40), primary_key=True),
    Column("tarea_code", String(32), primary_key=True),
    Column("customers", Integer, nullable=False),
    Column("share", Float, nullable=False),
    Column("in_report", Boolean, nullable=False),          # listed in the OMS scope
    Column("start_at", DateTime, nullable=False),
    Column("end_at", DateTime, nullable=False, index=True),
)

# each OMS revision as it will be written (the public row is the latest revision due)
sim_oms_rev = Table(
    "sim_oms_rev", sim_metadata,
    Column("outage_id", String(40), primary_key=True),
    Column("rev_at", DateTime, primary_key=True),
    Column("outage_type", String(16), nullable=False),
    Column("equipment_type", String(16), nullable=False),
    Column("equipment_code", String(32), nullable=False),
    Column("cause", String(32)),
    Column("customers", Integer, nullable=False),
    Column("start_at", DateTime, nullable=False),
    Column("reported_at", DateTime, nullable=False),
    Column("etr", DateTime),
    Column("restored_at", DateTime),
    Column("status", String(16), nullable=False),
    Column("notice_published_at", DateTime),
)
Index("ix_sim_oms_rev_rev_at", sim_oms_rev.c.rev_at)

sim_oms_tarea = Table(
    "sim_oms_tarea", sim_metadata,
    Column("outage_id", String(40), primary_key=True),
    Column("tarea_code", String(32), primary_key=True),
    Column("reveal_at", DateTime, nullable=False, index=True),
)

# every planned work order with its whole lifecycle; NULL = that step never happens
sim_order_plan = Table(
    "sim_order_plan", sim_metadata,
    Column("order_no", String(32), primary_key=True),
    Column("order_type", String(16), nullable=False),
    Column("subtype", String(32)),
    Column("customer_id", String(32), nullable=False),
    Column("phone", String(20)),
    Column("tarea_code", String(32), nullable=False),
    Column("station_code", String(32), nullable=False),
    Column("area_type", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("key_customer", Boolean, nullable=False),
    Column("content", Text),
    Column("final_status", String(16), nullable=False),
    *[Column(f"{s}_at", DateTime) for s in ("accepted", "dispatched", "received", "departed",
                                            "arrived", "restored", "returned", "visited")],
    Column("cancelled_at", DateTime),
    Column("outage_id", String(40), index=True),           # the outage that made the customer call
    Column("repeat_of", String(32)),                       # first order of a repeat caller
    Column("call_no", Integer, nullable=False),            # 1 first call, 2.. repeat calls
    Column("billing_anomaly", Boolean, nullable=False),    # bill >= 2x the 12-month average
    Column("bill_ratio", Float),
    Column("escalated", Boolean, nullable=False),          # 12398 / 12345 / media
    Column("keyword", String(16)),                         # sensitive keyword in the content
    Column("crew_wait_min", Float),                        # minutes waited for a free crew
)
Index("ix_sim_order_plan_accepted", sim_order_plan.c.accepted_at)

# (order_no, at): every moment an order changes; drives the reveal
sim_order_step = Table(
    "sim_order_step", sim_metadata,
    Column("order_no", String(32), primary_key=True),
    Column("at", DateTime, primary_key=True),
)
Index("ix_sim_order_step_at", sim_order_step.c.at)

sim_ami_event = Table(
    "sim_ami_event", sim_metadata,
    Column("event_id", String(40), primary_key=True),
    Column("tarea_code", String(32), nullable=False),
    Column("device", String(16), nullable=False),
    Column("meter_id", String(32)),
    Column("event", String(16), nullable=False),
    Column("ts", DateTime, nullable=False, index=True),
    Column("outage_id", String(40), nullable=False),
)

sim_breaker_event = Table(
    "sim_breaker_event", sim_metadata,
    Column("event_id", String(40), primary_key=True),
    Column("feeder_code", String(32), nullable=False),
    Column("event", String(16), nullable=False),
    Column("ts", DateTime, nullable=False, index=True),
    Column("outage_id", String(40), nullable=False),
)

sim_notice = Table(
    "sim_notice", sim_metadata,
    Column("outage_id", String(40), primary_key=True),
    Column("customer_id", String(32), primary_key=True),
    Column("step", String(8), primary_key=True),
    Column("publish_at", DateTime, nullable=False, index=True),
    Column("due_at", DateTime, nullable=False),
    Column("done_at", DateTime, index=True),
    Column("missed", Boolean, nullable=False),
    Column("late", Boolean, nullable=False),
)

SIM_TABLES = [t for t in sim_metadata.sorted_tables]
