"""AG Grid tables: sorting, filtering, CSV export, and a row click that goes to the row's node.

Rows carry `_node` (the node a click opens) and `_key` (unique within the grid); the row id is
"<node>|<key>", which the drill-down clientside callback reads. Values stay raw (numbers, ISO
times) so sorting is right; the formatters in assets/dashAgGridFunctions.js show them in the
viewer's locale.
"""
from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import html

from dashboard import ids
from dashboard.i18n import grid_locale, t

# column kinds → AG Grid column settings
KINDS = {
    "text": {"filter": "agTextColumnFilter"},
    "int": {"filter": "agNumberColumnFilter", "type": "rightAligned",
            "valueFormatter": {"function": "PW.number(params.value, 0)"}},
    "dec1": {"filter": "agNumberColumnFilter", "type": "rightAligned",
           "valueFormatter": {"function": "PW.number(params.value, 1)"}},
    "float": {"filter": "agNumberColumnFilter", "type": "rightAligned",
              "valueFormatter": {"function": "PW.number(params.value, 2)"}},
    "percent": {"filter": "agNumberColumnFilter", "type": "rightAligned",
                "valueFormatter": {"function": "PW.percent(params.value)"}},
    "time": {"filter": "agTextColumnFilter", "valueFormatter": {"function": "PW.time(params.value)"}},
    "minutes": {"filter": "agNumberColumnFilter", "type": "rightAligned",
                "valueFormatter": {"function": "PW.minutes(params.value)"}},
    "level": {"filter": "agTextColumnFilter", "cellClass": {"function": "PW.levelClass(params)"}},
}


def columns(spec: list[tuple[str, str, str]], lang: str) -> list[dict]:
    """spec: (field, i18n key of the header, kind)."""
    return [{"field": field, "headerName": t(key, lang), **KINDS[kind]} for field, key, kind in spec]


def rows_for(records: list[dict], node: str | None, key: str) -> list[dict]:
    """Attach the drill target (none: the row opens nothing) and the unique key each row needs."""
    return [{**r, "_node": r.get(node) or "" if node else "", "_key": str(r.get(key))} for r in records]


def table(page: str, name: str, spec, rows: list[dict], lang: str, height: str = "420px",
          title: str | None = None) -> dbc.Card:
    grid = dag.AgGrid(
        id=ids.grid(page, name), columnDefs=columns(spec, lang), rowData=rows,
        getRowId="params.data._node + '|' + params.data._key",
        defaultColDef={"sortable": True, "resizable": True, "floatingFilter": True, "minWidth": 90},
        columnSize="responsiveSizeToFit",
        dashGridOptions={"animateRows": False, "localeText": grid_locale(lang)},
        csvExportParams={"fileName": f"peakwatch-{page}-{name}.csv"},
        className="pw-grid", style={"height": height, "width": "100%"})
    head = html.Div([html.Span(title or "", className="pw-tile-title"),
                     dbc.Button(t("export_csv", lang), id=ids.csv(page, name), size="sm",
                                color="secondary", outline=True, className="pw-csv")],
                    className="d-flex justify-content-between align-items-center")
    return dbc.Card([dbc.CardHeader(head), dbc.CardBody(grid, className="p-0")], className="pw-tile mb-2")
