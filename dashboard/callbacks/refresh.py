"""The refresh every data page shares: it runs when the kiosk tick's versions moved for a
dataset the page shows, draws only what moved, and records the versions it drew. While Redis is
unreachable it sends nothing: the banner says so and the last good values stay on screen."""
from __future__ import annotations

from dash import Input, Output, State, callback
from dash.exceptions import PreventUpdate

from dashboard import ids, scope
from dashboard.store import RedisUnavailable


def page_refresh(page: str, datasets, *outputs):
    """Register `draw(moved, view) -> [value per output]` as the page's refresh callback."""
    def register(draw):
        @callback(*outputs, Output(ids.rendered(page), "data"),
                  Input(ids.VERSIONS, "data"), State(ids.VIEW, "data"), State(ids.rendered(page), "data"),
                  prevent_initial_call=True)
        def refresh(versions, view_data, rendered):
            moved, view = scope.refresh_target(versions, rendered, view_data, datasets)
            try:
                out = draw(moved, view)
            except RedisUnavailable:
                raise PreventUpdate
            return [*out, scope.rendered(versions, datasets)]
        return draw
    return register
