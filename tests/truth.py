"""Independent recomputations from the source tables, in SQL, to compare Redis against."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import create_engine, text

from collectors.redis_schema import dataset_key


def orders_truth(url: str, now: datetime, prefix: str, rejected: tuple = ()) -> dict:
    engine = create_engine(url)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    params = {"p": prefix + "%", "today": today.strftime("%Y-%m-%d %H:%M:%S"),
              "now": now.strftime("%Y-%m-%d %H:%M:%S")}
    base = "FROM wo_order WHERE order_type = 'repair' AND tarea_code LIKE :p"
    if rejected:   # the recomputation is over the rows the collector accepted
        base += " AND order_no NOT IN (" + ", ".join(f"'{k}'" for k in rejected) + ")"
    with engine.connect() as c:
        q = lambda where: c.execute(text(f"SELECT count(*) {base} AND {where}"), params).scalar()
        truth = {"repair_today": q("accepted_at >= :today AND accepted_at <= :now"),
                 "open_repair": q("restored_at IS NULL AND status NOT IN ('cancelled', 'restored', "
                                  "'returned', 'visited')")}
    engine.dispose()
    return truth


def redis_orders(client, code: str) -> dict:
    raw = client.hget(dataset_key("orders"), code) or client.hget(dataset_key("orders"), "_default")
    got = json.loads(raw)
    return {"repair_today": got["repair_today"], "open_repair": got["open_repair"]}


def assert_orders_match(client, url: str, now: datetime, codes=("PC", "PC01", "PC02", "PC01S01"),
                        rejected: tuple = ()) -> None:
    for code in codes:
        assert redis_orders(client, code) == orders_truth(url, now, code, rejected), code
