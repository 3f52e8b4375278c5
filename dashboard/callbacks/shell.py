"""Shell callbacks, all in the browser: the version tick, ages, banner, clock and language."""
from __future__ import annotations

from dash import ALL, ClientsideFunction, Input, Output, State, clientside_callback

from dashboard import ids

# Ask the server whether any dataset changed. Unchanged: nothing else happens. Changed: the
# VERSIONS store changes, and the page's server callback fetches what changed.
clientside_callback(
    ClientsideFunction("peakwatch", "tick"),
    Output(ids.VERSIONS, "data"), Output(ids.HEARTBEAT, "data"),
    Input(ids.TICK, "n_intervals"), State(ids.VERSIONS, "data"),
)

clientside_callback(
    ClientsideFunction("peakwatch", "ages"),
    Output({"type": "age", "dataset": ALL, "tile": ALL}, "children"),
    Output({"type": "age", "dataset": ALL, "tile": ALL}, "className"),
    Input(ids.HEARTBEAT, "data"), State(ids.I18N, "data"),
)

clientside_callback(
    ClientsideFunction("peakwatch", "banner"),
    Output(ids.BANNER, "children"), Output(ids.BANNER, "className"), Output(ids.CLOCK, "children"),
    Input(ids.HEARTBEAT, "data"), State(ids.I18N, "data"),
)

clientside_callback(
    ClientsideFunction("peakwatch", "toggleLanguage"),
    Output(ids.LANG, "data"),
    Input(ids.LANG_TOGGLE, "n_clicks"), State(ids.LANG, "data"),
    prevent_initial_call=True,
)
