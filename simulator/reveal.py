"""Reveal what has become due: set-based SQL from the sim_* plans into the public tables.

For a window (last, now], every order with a lifecycle step in the window is rewritten with
the steps that have happened by `now` (a live source system only knows the past); every outage
with an OMS revision in the window gets its latest revision; events and notices are copied.
`stamp='now'` sets updated_at to now (live ticks); `stamp='event'` sets it to the time the row
would have been written (backfill and gap filling), so history looks as if it had been live.
"""
from __future__ import annotations

from sqlalchemy import text

from collectors.sources.schema import ORDER_STEPS

from .db import Dialect

_COMMON = ("order_no", "order_type", "subtype", "customer_id", "phone", "tarea_code", "channel",
           "key_customer", "content")


def _status_case() -> str:
    whens = ["WHEN p.cancelled_at IS NOT NULL AND p.cancelled_at <= :now THEN 'cancelled'"]
    for step in reversed(ORDER_STEPS):
        whens.append(f"WHEN p.{step}_at <= :now THEN '{step}'")
    return "CASE " + " ".join(whens) + " ELSE 'accepted' END"


def _sql(stamp: str) -> list[str]:
    due_orders = "SELECT order_no FROM sim_order_step WHERE at > :last AND at <= :now"
    order_stamp = (":now" if stamp == "now" else
                   "(SELECT MAX(s.at) FROM sim_order_step s WHERE s.order_no = p.order_no AND s.at <= :now)")
    step_cols = ", ".join(f"{s}_at" for s in ORDER_STEPS)
    step_vals = ", ".join(f"CASE WHEN p.{s}_at <= :now THEN p.{s}_at END" for s in ORDER_STEPS)
    orders_del = f"DELETE FROM wo_order WHERE order_no IN ({due_orders})"
    orders_ins = (
        f"INSERT INTO wo_order ({', '.join(_COMMON)}, status, {step_cols}, updated_at) "
        f"SELECT {', '.join('p.' + c for c in _COMMON)}, {_status_case()}, {step_vals}, {order_stamp} "
        f"FROM sim_order_plan p WHERE p.accepted_at <= :now AND p.order_no IN ({due_orders})")

    due_oms = "SELECT outage_id FROM sim_oms_rev WHERE rev_at > :last AND rev_at <= :now"
    oms_cols = ("outage_id, outage_type, equipment_type, equipment_code, cause, customers, start_at, "
                "reported_at, etr, restored_at, status, notice_published_at")
    oms_del = f"DELETE FROM oms_outage WHERE outage_id IN ({due_oms})"
    oms_ins = (
        f"INSERT INTO oms_outage ({oms_cols}, updated_at) "
        f"SELECT {', '.join('r.' + c.strip() for c in oms_cols.split(','))}, "
        f"{':now' if stamp == 'now' else 'r.rev_at'} FROM sim_oms_rev r "
        f"WHERE r.outage_id IN ({due_oms}) AND r.rev_at = (SELECT MAX(r2.rev_at) FROM sim_oms_rev r2 "
        f"WHERE r2.outage_id = r.outage_id AND r2.rev_at <= :now)")
    oms_tarea = (
        f"INSERT INTO oms_outage_tarea (outage_id, tarea_code, updated_at) "
        f"SELECT outage_id, tarea_code, {':now' if stamp == 'now' else 'reveal_at'} FROM sim_oms_tarea "
        f"WHERE reveal_at > :last AND reveal_at <= :now")
    ami = (
        f"INSERT INTO ami_power_event (event_id, tarea_code, device, meter_id, event, ts, updated_at) "
        f"SELECT event_id, tarea_code, device, meter_id, event, ts, {':now' if stamp == 'now' else 'ts'} "
        f"FROM sim_ami_event WHERE ts > :last AND ts <= :now")
    breaker = (
        f"INSERT INTO scada_breaker_event (event_id, feeder_code, event, ts, updated_at) "
        f"SELECT event_id, feeder_code, event, ts, {':now' if stamp == 'now' else 'ts'} "
        f"FROM sim_breaker_event WHERE ts > :last AND ts <= :now")
    due_notice = ("((n.publish_at > :last AND n.publish_at <= :now) OR "
                  "(n.done_at > :last AND n.done_at <= :now))")
    notice_del = (
        "DELETE FROM key_customer_notice WHERE EXISTS (SELECT 1 FROM sim_notice n WHERE "
        "n.outage_id = key_customer_notice.outage_id AND n.customer_id = key_customer_notice.customer_id "
        f"AND n.step = key_customer_notice.step AND {due_notice})")
    notice_stamp = ":now" if stamp == "now" else \
        "CASE WHEN n.done_at IS NOT NULL AND n.done_at <= :now THEN n.done_at ELSE n.publish_at END"
    notice_ins = (
        "INSERT INTO key_customer_notice (outage_id, customer_id, step, due_at, done_at, updated_at) "
        f"SELECT n.outage_id, n.customer_id, n.step, n.due_at, CASE WHEN n.done_at <= :now THEN n.done_at END, "
        f"{notice_stamp} FROM sim_notice n WHERE n.publish_at <= :now AND {due_notice}")
    return [orders_del, orders_ins, oms_del, oms_ins, oms_tarea, ami, breaker, notice_del, notice_ins]


_CACHE: dict[str, list] = {}


def reveal(conn, d: Dialect, last: int, now: int, stamp: str = "now") -> None:
    stmts = _CACHE.get(stamp)
    if stmts is None:
        stmts = _CACHE[stamp] = [text(s) for s in _sql(stamp)]
    params = {"last": d.ts(last), "now": d.ts(now)}
    for s in stmts:
        conn.execute(s, params)
