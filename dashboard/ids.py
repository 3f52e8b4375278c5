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
OV_CHILDREN_DATA = "ov-children-data"  # dcc.Store: the children table's columns; the browser draws it
OV_WARNINGS = "ov-warnings"            # the warning tiles of the node and its children
OV_WARN_RENDERED = "ov-warn-rendered"  # dcc.Store: warnings/topology versions the tiles show


def age(dataset: str, tile: str = "") -> dict:
    """The "updated N s ago" badge of one tile showing a dataset (pattern id: one clientside
    callback); `tile` tells apart several tiles of the same dataset on one screen."""
    return {"type": "age", "dataset": dataset, "tile": tile}


# every page scoped to a node (load, repairs, outages, warnings, key customers, sensitive, wall)
VIEW = "view"                  # dcc.Store: page, node code, lang, theme, kiosk and ?hours of this view
THEME_TOGGLE = "theme-toggle"
WALL_LINK = "wall-link"
PLAYLIST = "playlist"          # dcc.Store: the wall playlist (URLs and dwell times), kiosk only


def rendered(page: str) -> dict:
    """dcc.Store: the dataset versions a page was last rendered at."""
    return {"type": "rendered", "page": page}


def part(page: str, name: str) -> dict:
    """A block of a page that its refresh callback rewrites (KPI strip, list, chart)."""
    return {"type": "part", "page": page, "name": name}


def drill(page: str, name: str) -> dict:
    """A chart whose bars or areas carry node codes: a click goes one level down."""
    return {"type": "drill", "page": page, "name": name}


def timechart(page: str, name: str) -> dict:
    """A chart on the day's time axis: zooming it writes ?hours= into the URL."""
    return {"type": "timechart", "page": page, "name": name}


def grid(page: str, name: str) -> dict:
    """An AG Grid; a row click goes to the row's node."""
    return {"type": "grid", "page": page, "name": name}


def csv(page: str, name: str) -> dict:
    """The CSV export button of grid(page, name)."""
    return {"type": "csv", "page": page, "name": name}


def nav(page: str) -> dict:
    """A navigation link; it follows the node in view, so switching pages keeps the scope."""
    return {"type": "nav", "page": page}


# acknowledgements (issue 8; dashboard/security/views.py, callbacks/ack.py)
ACK_STRIP = "ack-strip"          # the standing acknowledgements in the viewer's scope (every screen)
ACK_RENDERED = "ack-rendered"    # dcc.Store: acks/warnings/topology versions the strip shows
ACK_TARGET = "ack-target"        # dcc.Store: {code, level, csrf} of the warning the form acknowledges
ACK_COMMENT = "ack-comment"
ACK_SUBMIT = "ack-submit"
ACK_RESULT = "ack-result"
