"""Acknowledgements on screen: the strip re-renders when an acknowledgement or a warning moves
(the tick's "acks" version is the newest acknowledgement's id); the form posts in the browser to
POST /api/v1/warnings/ack (assets/peakwatch-ack.js), never through a Dash callback."""
from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback
from dash.exceptions import PreventUpdate

from dashboard import ids, runtime
from dashboard.security.views import STRIP_VERSIONS, strip_items
from dashboard.store import RedisUnavailable


@callback(
    Output(ids.ACK_STRIP, "children"), Output(ids.ACK_RENDERED, "data"),
    Input(ids.VERSIONS, "data"), State(ids.ACK_RENDERED, "data"), State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def refresh_strip(versions, rendered, lang):
    wanted = {k: (versions or {}).get(k) for k in STRIP_VERSIONS}
    if not isinstance(versions, dict) or wanted == rendered:
        raise PreventUpdate
    try:
        return strip_items(runtime.store(), "en" if lang == "en" else "zh"), wanted
    except RedisUnavailable:
        raise PreventUpdate  # the banner says so; the strip stays as it was


clientside_callback(
    ClientsideFunction("peakwatchAck", "submit"),
    Output(ids.ACK_RESULT, "children"),
    Input(ids.ACK_SUBMIT, "n_clicks"), State(ids.ACK_COMMENT, "value"), State(ids.ACK_TARGET, "data"),
    State(ids.I18N, "data"),
    prevent_initial_call=True,
)
