"""The wall: its refresh (only the tiles whose dataset moved), chart type scaled to the screen,
and in the browser the clock, the playlist rotation, the kiosk tick and the scheduled reload."""
from __future__ import annotations

from dash import (ClientsideFunction, Input, Output, Patch, State, callback, clientside_callback,
                  no_update)
from dash.exceptions import PreventUpdate

from dashboard import figures, geomap, ids
from dashboard.callbacks.patches import traces_patch
from dashboard.callbacks.refresh import page_refresh
from dashboard.pages import wall as w

PAGE = w.PAGE
DESIGN_WIDTH = 1920          # the wall's layout is drawn for 1920 px; larger screens scale up
GRAPHS = ("curve_graph", "hourly_graph")
TEXT_PARTS = ("load", "flags", "repairs", "open", "outages", "weather", "level", "ticker")
# which datasets each text part shows
SOURCES = {"load": {"load"}, "flags": {"load", "ami"}, "repairs": {"orders"}, "open": {"orders"},
           "outages": {"outages"}, "weather": {"weather"}, "level": {"warnings"},
           "ticker": {"warnings", "sensitive", "topology"}}


def text_parts(view, data: dict) -> dict:
    lang = view.lang
    return {"load": lambda: w.load_body(data["load"], lang),
            "flags": lambda: w.flags_body(data["load"], data["ami"], lang),
            "repairs": lambda: w.repairs_body(data["orders"], lang),
            "open": lambda: w.open_body(data["orders"], lang),
            "outages": lambda: w.outages_body(data["outages"], lang),
            "weather": lambda: w.weather_text(data["weather"], lang),
            "level": lambda: w.level_body(data["warnings"], lang),
            "ticker": lambda: w.ticker(w.ticker_items(view))}


def map_patch(data: dict, lang: str) -> Patch:
    patch = Patch()
    geomap.recolour(patch, data["areas"], data["levels"], lang)
    return patch


@page_refresh(PAGE, w.DATASETS,
              *[Output(ids.part(PAGE, name), "children") for name in TEXT_PARTS],
              *[Output(ids.part(PAGE, name), "figure") for name in GRAPHS],
              Output(ids.drill(PAGE, "map"), "figure"))
def draw(moved, view):
    data = w.snapshot(view.store, view.code)
    builders = text_parts(view, data)
    texts = [builders[name]() if SOURCES[name] & moved else no_update for name in TEXT_PARTS]
    curve = traces_patch(figures.load_patch_values(data["load"])) if "load" in moved else no_update
    hourly = traces_patch(figures.hourly_patch_values(data["orders"])) if "orders" in moved else no_update
    if moved & {"geo", "topology"}:
        the_map = w.map_figure(data, view.lang)      # new outlines or nodes: draw it again
    else:
        the_map = map_patch(data, view.lang) if "warnings" in moved else no_update
    return [*texts, curve, hourly, the_map]


@callback(
    *[Output(ids.part(PAGE, name), "figure", allow_duplicate=True) for name in GRAPHS],
    Output(ids.drill(PAGE, "map"), "figure", allow_duplicate=True),
    Input(ids.part(PAGE, "viewport"), "data"),
    prevent_initial_call=True,
)
def scale_type(width):
    """Chart type grows with the screen like the vw-sized text around it (3840 px: twice 1920)."""
    if not isinstance(width, (int, float)) or width <= 0:
        raise PreventUpdate
    size = round(w.CHART_FONT * max(width, DESIGN_WIDTH) / DESIGN_WIDTH)
    patches = []
    for extra in (0, 0, 4):              # the map's labels are a little larger than tick labels
        patch = Patch()
        patch["layout"]["font"]["size"] = size + extra
        patches.append(patch)
    return patches


# The browser's width, once the wall is on screen (for scale_type).
clientside_callback(
    ClientsideFunction("peakwatch", "viewportWidth"),
    Output(ids.part(PAGE, "viewport"), "data"),
    Input(ids.VIEW, "data"),
)

clientside_callback(
    ClientsideFunction("peakwatch", "wallClock"),
    Output(ids.part(PAGE, "clock"), "children"),
    Input(ids.HEARTBEAT, "data"), State(ids.LANG, "data"),
)

# Kiosk only: rotate through the playlist, reload on schedule (and after the server was away),
# and poll at the kiosk tick. Desks ignore all three. Rotation follows each tick's answer (the
# heartbeat), so it can wait for a tick that moved nothing.
clientside_callback(
    ClientsideFunction("peakwatch", "rotate"),
    Output(ids.URL, "href", allow_duplicate=True),
    Input(ids.HEARTBEAT, "data"), State(ids.PLAYLIST, "data"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction("peakwatch", "kioskTick"),
    Output(ids.TICK, "interval"),
    Input(ids.PLAYLIST, "data"),
)
