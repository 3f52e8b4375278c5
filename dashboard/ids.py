"""Every component id, defined once. Pages and callbacks import these; no string ids elsewhere."""

# shell (every page)
URL = "url"
TICK = "tick"                  # dcc.Interval driving the version check
VERSIONS = "versions"          # dcc.Store: dataset versions the server last reported
HEARTBEAT = "heartbeat"        # dcc.Store: {ok, at, as_of, stale_after, server_now}
BANNER = "banner"              # stale / unreachable banner
CLOCK = "clock"                # title-bar time
LANG = "lang"                  # dcc.Store (local): "zh" or "en"
LANG_TOGGLE = "lang-toggle"
I18N = "i18n"                  # dcc.Store: the translation table's strings the browser needs

# overview page
OV_REGION = "ov-region"        # dcc.Store: the node code this view shows
OV_RENDERED = "ov-rendered"    # dcc.Store: versions this view was last rendered at
OV_TITLE = "ov-title"
OV_BREADCRUMB = "ov-breadcrumb"
OV_LOAD = "ov-load"
OV_CURVE = "ov-curve"
OV_ORDERS = "ov-orders"
OV_ORDERS_CHART = "ov-orders-chart"
OV_OPEN = "ov-open"
OV_OUTAGES = "ov-outages"
OV_CHILDREN = "ov-children"
OV_WARNINGS = "ov-warnings"            # the warning tiles of the node and its children
OV_WARN_RENDERED = "ov-warn-rendered"  # dcc.Store: warnings/topology versions the tiles show


def age(dataset: str) -> dict:
    """The "updated N s ago" badge of one dataset's tile (pattern id: one clientside callback)."""
    return {"type": "age", "dataset": dataset}
