"""A tiny hand-made grid and helpers that write source rows with plain SQL, as another system would."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

from sqlalchemy import create_engine, text

from collectors.sources.schema import metadata

CST = timezone(timedelta(hours=8))

T0 = datetime(2026, 7, 15, 0, 0)


def fmt(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S")


def tiny_nodes() -> list[dict]:
    """City PC; districts PC01 (urban, 2 stations) and PC02 (rural, 1 station); 2 feeders per
    station; 3 台区 per feeder."""
    rows = [dict(code="PC", name="峰城", level="city", parent_code=None, area_type="urban")]
    plan = {"PC01": ("城东区", "urban", 2), "PC02": ("青山县", "rural", 1)}
    for d, (name, area, n_st) in plan.items():
        rows.append(dict(code=d, name=name, level="district", parent_code="PC", area_type=area))
        for s in range(1, n_st + 1):
            st = f"{d}S{s:02d}"
            rows.append(dict(code=st, name=f"{name}{s}所", level="station", parent_code=d, area_type=area))
            for f in range(1, 3):
                fd = f"{st}F{f:03d}"
                rows.append(dict(code=fd, name=f"{fd}线", level="feeder", parent_code=st,
                                 area_type=area, rated_current_a=400.0))
                for t in range(1, 4):
                    rows.append(dict(code=f"{fd}T{t:03d}", name=f"{fd}-{t}台区", level="tarea",
                                     parent_code=fd, area_type=area, capacity_kva=400.0,
                                     customers=100 * t))
    # customers of inner nodes are the sum below them
    by_code = {r["code"]: r for r in rows}
    for r in rows:
        r.setdefault("customers", 0)
        r.setdefault("capacity_kva", None)
        r.setdefault("rated_current_a", None)
        r.update(lon=120.0, lat=30.0, updated_at=fmt(T0))
    for r in reversed(rows):
        if r["parent_code"]:
            by_code[r["parent_code"]]["customers"] += r["customers"]
    return rows


def create_tiny_grid(url: str) -> None:
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("PRAGMA journal_mode=WAL")) if url.startswith("sqlite") else None
        conn.execute(text(
            "INSERT INTO grid_node (code, name, level, parent_code, area_type, customers, capacity_kva,"
            " rated_current_a, lon, lat, updated_at) VALUES (:code, :name, :level, :parent_code,"
            " :area_type, :customers, :capacity_kva, :rated_current_a, :lon, :lat, :updated_at)"),
            tiny_nodes())
    engine.dispose()


def insert_order(conn, order_no: str, tarea: str, accepted: datetime, *, order_type="repair",
                 status="accepted", updated: datetime | None = None, key_customer=False, **steps) -> None:
    cols = {"order_no": order_no, "order_type": order_type, "customer_id": f"C{order_no}",
            "tarea_code": tarea, "channel": "95598", "key_customer": int(key_customer),
            "status": status, "accepted_at": fmt(accepted), "updated_at": fmt(updated or accepted)}
    cols.update({f"{k}": fmt(v) for k, v in steps.items()})
    names = ", ".join(cols)
    conn.execute(text(f"INSERT INTO wo_order ({names}) VALUES ({', '.join(':' + c for c in cols)})"), cols)


def insert_repair_call(db, order_no: str, tarea: str) -> None:
    """What the 95598 system would do: one plain sqlite3 INSERT of a repair call accepted now,
    with its own timestamps (China Standard Time), into the SQLite source file `db`."""
    now = datetime.now(CST).strftime("%Y-%m-%d %H:%M:%S")
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO wo_order (order_no, order_type, subtype, customer_id, tarea_code, channel,"
            " key_customer, content, status, accepted_at, updated_at)"
            " VALUES (?, 'repair', '低压故障', ?, ?, '95598', 0, '家里没电', 'accepted', ?, ?)",
            (order_no, f"C-{order_no}", tarea, now, now))
    conn.close()
