"""The obvious alternative, NOT shipped: the overview as a quick prototype would build it.

One Dash page, a dcc.Interval at the same tick, and one callback that queries the source
database on every refresh of every viewer (no collectors, no Redis, no version check): city
load, repair orders today and open, active outages, the hourly orders chart, the load curve,
and the district table. Each worker counts the statements it sent in PEER_COUNT_DIR/q.<pid>,
with the refreshes it served, so the benchmark can report source-database queries per minute
and CPU per refresh actually served (under overload wrk gives up on some that still cost CPU).

    SOURCE_DB=/path/source.db PEER_COUNT_DIR=/tmp/x granian --interface wsgi benchmarks.peers.overview_sql:server
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, dash_table, dcc, html
from sqlalchemy import create_engine, event

CST = timezone(timedelta(hours=8))
TICK_MS = int(os.environ.get("PEER_TICK_MS", "2000"))
engine = create_engine(f"sqlite:///{os.environ['SOURCE_DB']}")
COUNT_FILE = Path(os.environ.get("PEER_COUNT_DIR", "/tmp")) / f"q.{os.getpid()}"
_count = {"n": 0, "refreshes": 0}


@event.listens_for(engine, "before_cursor_execute")
def _count_statement(*_args):
    _count["n"] += 1


def sql(query: str, **params) -> pd.DataFrame:
    return pd.read_sql_query(query, engine, params=params)


def district_of() -> pd.DataFrame:
    """台区 -> district, by walking grid_node in pandas (the tree comes from the source each time)."""
    nodes = sql("SELECT code, parent_code, level FROM grid_node")
    parent = dict(zip(nodes.code, nodes.parent_code))
    tareas = nodes[nodes.level == "tarea"].code
    walk = {t: parent.get(parent.get(parent.get(t))) for t in tareas}   # tarea->feeder->station->district
    return pd.DataFrame({"tarea_code": list(walk), "district": list(walk.values())})


def figures(today: str):
    curve = sql("SELECT strftime('%H:%M', ts) AS t, SUM(active_mw) AS mw FROM scada_feeder_load"
                " WHERE ts >= :d GROUP BY ts ORDER BY ts", d=today)
    hourly = sql("SELECT CAST(strftime('%H', accepted_at) AS INT) AS h, COUNT(*) AS n FROM wo_order"
                 " WHERE order_type = 'repair' AND accepted_at >= :d GROUP BY h", d=today)
    return (go.Figure(go.Scatter(x=curve.t, y=curve.mw, mode="lines")),
            go.Figure(go.Bar(x=hourly.h, y=hourly.n)))


def districts(today: str) -> list[dict]:
    orders = sql("SELECT tarea_code, status, accepted_at FROM wo_order WHERE order_type = 'repair'"
                 " AND (accepted_at >= :d OR status NOT IN ('visited', 'cancelled'))", d=today)
    outages = sql("SELECT o.outage_id, t.tarea_code, o.customers FROM oms_outage o"
                  " JOIN oms_outage_tarea t USING (outage_id) WHERE o.status = 'active'")
    names = sql("SELECT code, name FROM grid_node WHERE level = 'district'")
    where = district_of()
    orders = orders.merge(where, on="tarea_code")
    outages = outages.merge(where, on="tarea_code")
    rows = []
    for code, name in zip(names.code, names.name):
        o = orders[orders.district == code]
        rows.append({"district": name, "repair_today": int((o.accepted_at >= today).sum()),
                     "open": int((~o.status.isin(["visited", "cancelled"])).sum()),
                     "outages": int(outages[outages.district == code].outage_id.nunique())})
    return rows


def kpis(today: str) -> list[str]:
    load = sql("SELECT SUM(active_mw) AS mw FROM scada_feeder_load"
               " WHERE ts = (SELECT MAX(ts) FROM scada_feeder_load)").mw.iloc[0]
    orders = sql("SELECT SUM(accepted_at >= :d) AS today, SUM(status NOT IN ('visited', 'cancelled')) AS open"
                 " FROM wo_order WHERE order_type = 'repair'", d=today).iloc[0]
    outages = sql("SELECT COUNT(*) AS n, COALESCE(SUM(customers), 0) AS c FROM oms_outage"
                  " WHERE status = 'active'").iloc[0]
    return [f"{load or 0:,.1f} MW", f"{int(orders.today or 0):,}", f"{int(orders.open or 0):,}",
            f"{int(outages.n):,} / {int(outages.c):,}"]


app = dash.Dash(__name__, serve_locally=True, update_title=None)
server = app.server
TILES = ("load", "repair_today", "open_repair", "outages")
app.layout = html.Div([
    dcc.Interval(id="tick", interval=TICK_MS),
    html.Div([html.Div([html.H4(name), html.Div(id=f"kpi-{name}", className="pw-big")]) for name in TILES],
             style={"display": "flex", "gap": "2em"}),
    dcc.Graph(id="curve"), dcc.Graph(id="hourly"),
    dash_table.DataTable(id="districts"),
])


@app.callback([Output(f"kpi-{name}", "children") for name in TILES]
              + [Output("curve", "figure"), Output("hourly", "figure"), Output("districts", "data")],
              Input("tick", "n_intervals"))
def refresh(_n):
    today = datetime.now(CST).strftime("%Y-%m-%d 00:00:00")
    out = [*kpis(today), *figures(today), districts(today)]
    _count["refreshes"] += 1
    COUNT_FILE.write_text(f'{_count["n"]} {_count["refreshes"]}')
    return out
