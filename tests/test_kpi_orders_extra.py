"""Restoration overdue, countdowns, repeat calls and sensitive orders equal SQL over wo_order."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from collectors.plugins.orders import OrdersCollector
from collectors.plugins.outages import OutagesCollector
from collectors.plugins.topology import TopologyCollector
from config.limits import limits
from tests.kpi_harness import Harness, insert, scalar
from tests.sourcedata import fmt

NOW = datetime(2026, 7, 15, 14, 20)
NODES = ["PC", "PC01", "PC02", "PC01S01", "PC01S02", "PC02S01", "PC01S02F001"]
U, U2, R = "PC01S01F001T001", "PC01S02F001T001", "PC02S01F001T001"   # urban, urban, rural
STEPS = ("dispatched", "received", "departed", "arrived", "restored")
BILL = "客户反映本月电费{b}元，为近12个月平均100元的{r}倍，怀疑电表或抄表异常"


def order(no, tarea, acc, *, kind="repair", sub="低压故障", cust=None, phone=None, channel="95598",
          key=False, text=None, status=None, **steps):
    status = status or next((s for s in reversed(STEPS) if s in steps), "accepted")
    row = {"order_no": no, "order_type": kind, "subtype": sub, "customer_id": cust or f"C{no}",
           "phone": phone, "tarea_code": tarea, "channel": channel, "key_customer": int(key),
           "content": text, "status": status, "accepted_at": fmt(acc), "updated_at": fmt(acc)}
    row.update({f"{s}_at": fmt(steps[s]) if s in steps else None for s in STEPS})
    row.update(returned_at=None, visited_at=None)
    return row


def at(h, m=0, day=15, month=7):
    return datetime(2026, month, day, h, m)


ORDERS = [
    # time limits: on site and past restoration; on site in time; rural arrival at 78 %; urban arrival late
    order("R1", U, at(13), dispatched=at(13, 5), received=at(13, 6), departed=at(13, 8), arrived=at(13, 30)),
    order("R2", U, at(9), dispatched=at(9, 5), received=at(9, 6), departed=at(9, 8), arrived=at(10)),
    order("R3", R, at(13, 10)),
    order("R4", U, at(13, 20)),
    # repeat by account within 24 h, and by phone while the first is open
    order("S1", U, at(10), cust="X", restored=at(11), arrived=at(10, 30)),
    order("S2", U, at(12), cust="X"),
    order("S3", R, at(20, day=14), cust="Y", phone="13900000001"),
    order("S4", R, at(9), cust="Z", phone="13900000001"),
    # other orders: same account and subtype within 7 days; the account's 3rd call in 30 days
    order("C1", R, at(9, day=10), kind="complaint", sub="服务", cust="W"),
    order("C2", R, at(9, day=14, month=7), kind="complaint", sub="服务", cust="W"),
    order("V1", U2, at(9, day=20, month=6), kind="consult", sub="电价", cust="V"),
    order("V2", U2, at(9, day=1), kind="consult", sub="停电", cust="V"),
    order("V3", U2, at(13), kind="consult", sub="电费", cust="V"),
    # billing anomaly (3×) and not (1.5×); channels; keyword; key customer
    order("B1", U2, at(11), kind="complaint", sub="营业", text=BILL.format(b=300, r="3.0")),
    order("B2", U2, at(11, 5), kind="complaint", sub="营业", text=BILL.format(b=150, r="1.5")),
    order("H1", R, at(11, 10), kind="complaint", sub="服务", channel="12345"),
    order("H2", R, at(11, 20), kind="complaint", sub="服务", channel="media"),
    order("K1", U2, at(11, 30), text="家里有老人，请尽快处理"),
    order("K2", U2, at(11, 40), key=True),
    # a caller on a frequent-outage 台区 (two outages in 30 days, below)
    order("F1", "PC02S01F002T001", at(12)),
    # five calls from one 台区 in 60 min, no outage known: the 5th is a group; the same with an outage: none
    *[order(f"G{i}", "PC01S02F002T001", at(13, 10 * i)) for i in range(5)],
    *[order(f"N{i}", "PC01S02F002T002", at(13, 10 * i)) for i in range(5)],
]
OUTAGES = [
    {"outage_id": "FO1", "equipment_code": "PC02S01F002T001", "start_at": at(3, day=1), "restored_at": at(5, day=1)},
    {"outage_id": "FO2", "equipment_code": "PC02S01F002T001", "start_at": at(3, day=9), "restored_at": at(5, day=9)},
    {"outage_id": "KN1", "equipment_code": "PC01S02F002T002", "start_at": at(12, 55), "restored_at": None},
]


def seed(url):
    insert(url, "wo_order", ORDERS)
    rows = [{"outage_type": "fault", "equipment_type": "tarea", "cause": "test", "customers": 100,
             "reported_at": fmt(o["start_at"]), "etr": None, "notice_published_at": None,
             "status": "restored" if o["restored_at"] else "active", "updated_at": fmt(o["start_at"]),
             **{k: fmt(v) if isinstance(v, datetime) else v for k, v in o.items()}} for o in OUTAGES]
    insert(url, "oms_outage", rows)
    insert(url, "oms_outage_tarea", [{"outage_id": o["outage_id"], "tarea_code": o["equipment_code"],
                                      "updated_at": fmt(o["start_at"])} for o in OUTAGES])


LIMIT = """CASE g.area_type WHEN 'urban' THEN {urban} WHEN 'remote' THEN {remote} ELSE {rural} END"""


def sql_overdue_restore(url, node):
    lim = LIMIT.format(**limits()["repair"]["restore_minutes"])
    return scalar(url, f"""
        SELECT count(*) FROM wo_order o JOIN grid_node g ON g.code = o.tarea_code
         WHERE o.order_type = 'repair' AND o.restored_at IS NULL AND o.status NOT IN ('cancelled')
           AND o.arrived_at IS NOT NULL AND o.tarea_code LIKE :p
           AND unixepoch(o.arrived_at) + 60 * ({lim}) < unixepoch(:now)""", p=node + "%", now=fmt(NOW))


def sql_minutes_left(url, order_no):
    arr = LIMIT.format(**limits()["repair"]["arrival_minutes"])
    res = LIMIT.format(**limits()["repair"]["restore_minutes"])
    return scalar(url, f"""
        SELECT (CASE WHEN o.arrived_at IS NULL THEN unixepoch(o.accepted_at) + 60 * ({arr})
                     ELSE unixepoch(o.arrived_at) + 60 * ({res}) END - unixepoch(:now)) / 60.0
          FROM wo_order o JOIN grid_node g ON g.code = o.tarea_code WHERE o.order_no = :n""",
                  n=order_no, now=fmt(NOW))


def flag_sql():
    """One row per order with a 0/1 column per reason, by rules written again in SQL."""
    cfg = limits()["sensitive"]
    earlier = "(a.accepted_at < b.accepted_at OR (a.accepted_at = b.accepted_at AND a.order_no < b.order_no))"
    gap = "unixepoch(b.accepted_at) - unixepoch(a.accepted_at)"
    keywords = " OR ".join(f"b.content LIKE '%{k}%'" for k in cfg["keywords"])
    readings = " OR ".join(f"b.content LIKE '%{k}%'" for k in cfg["abnormal_reading_keywords"])
    quoted = lambda xs: ", ".join(f"'{x}'" for x in xs)   # noqa: E731
    covered = """SELECT 1 FROM oms_outage o LEFT JOIN oms_outage_tarea t ON t.outage_id = o.outage_id
                  WHERE o.status <> 'cancelled' AND (t.tarea_code = b.tarea_code OR o.equipment_code = b.tarea_code)
                    AND o.start_at <= b.accepted_at AND (o.restored_at IS NULL OR o.restored_at >= b.accepted_at)"""
    return f"""
      SELECT b.order_no, b.tarea_code, b.channel, b.accepted_at,
        EXISTS (SELECT 1 FROM wo_order a WHERE {earlier} AND a.order_type = b.order_type AND a.subtype = b.subtype
                 AND ((b.order_type = 'repair' AND (a.customer_id = b.customer_id OR a.phone = b.phone)
                       AND ((a.restored_at IS NULL AND a.status <> 'cancelled') OR a.restored_at > b.accepted_at
                            OR {gap} <= {cfg['repeat_repair_hours']} * 3600))
                   OR (b.order_type <> 'repair' AND a.customer_id = b.customer_id
                       AND {gap} <= {cfg['repeat_other_days']} * 86400))) AS rep,
        (SELECT count(*) FROM wo_order a WHERE a.customer_id = b.customer_id AND {earlier}
          AND {gap} < {cfg['escalate_days']} * 86400) + 1 >= {cfg['escalate_calls']} AS r_escalated,
        (b.subtype IN ({quoted(cfg['billing_subtypes'])}) AND (({readings}) OR
          CAST(substr(b.content, instr(b.content, '元的') + 2, instr(b.content, '倍') - instr(b.content, '元的') - 2)
               AS REAL) >= {cfg['billing_ratio_at_least']})) AS r_billing,
        b.channel IN ({quoted(cfg['channels'])}) AS r_channel,
        coalesce({keywords}, 0) AS r_keyword,
        b.key_customer = 1 AS r_key,
        b.tarea_code IN (SELECT t.tarea_code FROM oms_outage o JOIN oms_outage_tarea t ON t.outage_id = o.outage_id
                          WHERE unixepoch(o.start_at) > unixepoch(:now) - 30 * 86400 AND o.restored_at IS NOT NULL
                          GROUP BY t.tarea_code HAVING count(*) >= 2) AS r_frequent,
        (b.order_type = 'repair' AND (SELECT count(*) FROM wo_order a WHERE a.order_type = 'repair'
            AND a.tarea_code = b.tarea_code AND {earlier} AND {gap} < {cfg['group_minutes']} * 60) + 1
            >= {cfg['group_calls']} AND NOT EXISTS ({covered})) AS r_group
      FROM wo_order b"""


def sql_sensitive(url, node):
    flags = flag_sql()
    window = "unixepoch(accepted_at) > unixepoch(:now) - 86400 AND accepted_at <= :now AND tarea_code LIKE :p"
    any_reason = "(r_escalated OR r_billing OR r_channel OR r_keyword OR r_key OR r_frequent OR r_group)"
    q = lambda expr: scalar(url, f"SELECT coalesce(sum({expr}), 0) FROM ({flags}) WHERE {window}",  # noqa: E731
                            p=node + "%", now=fmt(NOW))
    return {"sensitive": q(any_reason), "repeat_calls": q("rep"),
            "media_escalations": q(f"{any_reason} AND channel = 'media'"),
            "reason_repeat_escalated": q("r_escalated"), "reason_billing_anomaly": q("r_billing"),
            "reason_escalation_channel": q("r_channel"), "reason_keyword": q("r_keyword"),
            "reason_key_customer": q("r_key"), "reason_frequent_outage": q("r_frequent"),
            "reason_group_no_outage": q("r_group")}


@pytest.fixture
def orders(settings_env, source_url, redis_client):
    seed(source_url)
    return Harness(redis_client, [TopologyCollector, OutagesCollector, OrdersCollector], NOW).run(), source_url


def test_restoration_overdue_equals_sql(orders):
    h, url = orders
    for node in NODES:
        assert h.entry("orders", node)["overdue_restore"] == sql_overdue_restore(url, node), node
    assert h.entry("orders", "PC")["overdue_restore"] == 1      # R2


def test_countdowns_are_the_open_orders_nearest_their_limit(orders):
    h, url = orders
    city = h.entry("countdowns", "PC")
    assert [c["minutes_left"] for c in city] == sorted(c["minutes_left"] for c in city)
    for c in city:
        assert c["minutes_left"] == pytest.approx(sql_minutes_left(url, c["order_no"]), abs=0.05), c["order_no"]
    by_no = {c["order_no"]: c for c in city}
    assert (by_no["R2"]["stage"], by_no["R2"]["colour"]) == ("restore", "red")
    assert (by_no["R3"]["stage"], by_no["R3"]["colour"]) == ("arrival", "yellow")
    assert by_no["R4"]["colour"] == "red" and by_no["R1"]["colour"] == "normal"
    open_orders = scalar(url, "SELECT count(*) FROM wo_order WHERE order_type = 'repair' AND restored_at IS NULL")
    assert len(city) == min(open_orders, limits()["repair"]["countdown_top"])


def test_sensitive_orders_equal_sql(orders):
    h, url = orders
    for node in NODES:
        got, truth = h.entry("sensitive", node), sql_sensitive(url, node)
        assert {k: got[k] for k in truth} == truth, node
        customers = scalar(url, "SELECT customers FROM grid_node WHERE code = :c", c=node)
        assert got["sensitive_per_10k"] == pytest.approx(truth["sensitive"] / (customers / 1e4), abs=1e-9)


def test_each_sensitive_order_carries_its_reasons(orders):
    h, _ = orders
    listed = {o["order_no"]: o for o in h.entry("sensitive", "PC")["orders"]}
    expected = {"V3": ["repeat_escalated"], "B1": ["billing_anomaly"], "H1": ["escalation_channel"],
                "H2": ["escalation_channel"], "K1": ["keyword"], "K2": ["key_customer"],
                "F1": ["frequent_outage"], "G4": ["group_no_outage"]}
    assert {k: listed[k]["reasons"] for k in expected} == expected
    assert not {"B2", "N4", "S2", "C2"} & set(listed)         # repeat calls alone are not sensitive
    assert h.entry("sensitive", "PC")["media_escalations"] == 1
    assert h.entry("sensitive", "PC")["repeat_calls"] == 2     # S2, S4; C2 is older than 24 h, V3 another subtype
