"""Navigation, all in the browser: drill-down clicks on charts and grid rows, the ?hours= window
from zooming a time chart, CSV export, navigation links that keep the node, and the theme switch.
The functions are in assets/peakwatch.js (namespace peakwatch)."""
from __future__ import annotations

from dash import ALL, MATCH, ClientsideFunction, Input, Output, State, clientside_callback

from dashboard import ids

ANY_DRILL = {"type": "drill", "page": ALL, "name": ALL}
ANY_GRID = {"type": "grid", "page": ALL, "name": ALL}
ANY_TIMECHART = {"type": "timechart", "page": ALL, "name": ALL}

# A bar or map area carries its node code (customdata): a click opens the same page one level down.
clientside_callback(
    ClientsideFunction("peakwatch", "drillChart"),
    Output(ids.URL, "href", allow_duplicate=True),
    Input(ANY_DRILL, "clickData"),
    prevent_initial_call=True,
)

# A grid row's id is "<node>|<key>": a click opens the same page at the row's node.
clientside_callback(
    ClientsideFunction("peakwatch", "drillGrid"),
    Output(ids.URL, "href", allow_duplicate=True),
    Input(ANY_GRID, "cellClicked"),
    prevent_initial_call=True,
)

# Zooming a time chart rewrites ?hours= in place (no navigation), so the link reproduces the view.
clientside_callback(
    ClientsideFunction("peakwatch", "hoursFromZoom"),
    Input(ANY_TIMECHART, "relayoutData"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction("peakwatch", "exportCsv"),
    Output({"type": "grid", "page": MATCH, "name": MATCH}, "exportDataAsCsv"),
    Input({"type": "csv", "page": MATCH, "name": MATCH}, "n_clicks"),
    prevent_initial_call=True,
)

# Switching pages keeps the node in view: the navigation links follow the URL.
clientside_callback(
    ClientsideFunction("peakwatch", "navLinks"),
    Output({"type": "nav", "page": ALL}, "href"),
    Input(ids.URL, "pathname"), State(ids.URL, "search"),
)

clientside_callback(
    ClientsideFunction("peakwatch", "toggleTheme"),
    Input(ids.THEME_TOGGLE, "n_clicks"),
    prevent_initial_call=True,
)
