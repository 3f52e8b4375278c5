"""The two looks (dark for the wall, light for desks), their Plotly templates, and the warning
palette. Red, orange and yellow belong to warning levels only, and always come with a label."""
from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

DARK, LIGHT = "dark", "light"
CSS = {DARK: "/assets/vendor/bootswatch-darkly.min.css", LIGHT: "/assets/vendor/bootswatch-flatly.min.css"}

# Warning levels 0–3 (DOMAIN.md): colour for the fill, i18n key for the label that always goes with it.
LEVEL_COLOURS = {0: "#2f9e44", 1: "#fcc419", 2: "#f76707", 3: "#e03131"}
LEVEL_LABELS = {0: "warn_level_none", 1: "warn_level_yellow", 2: "warn_level_orange", 3: "warn_level_red"}
NO_LEVEL_COLOUR = "#868e96"      # no evaluation yet (the warnings dataset is missing)

# Data series: blues, greys and violets, so they never read as a warning.
SERIES = {"today": "#339af0", "yesterday": "#adb5bd", "last_year": "#9775fa", "baseline": "#adb5bd",
          "peak": "#74c0fc", "bars": "#4dabf7", "muted": "#868e96"}

_TEXT = {DARK: "#dee2e6", LIGHT: "#212529"}
_GRID = {DARK: "rgba(255,255,255,0.10)", LIGHT: "rgba(0,0,0,0.10)"}
FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'


def _template(theme: str) -> go.layout.Template:
    base = pio.templates["plotly_dark" if theme == DARK else "plotly_white"]
    axis = dict(gridcolor=_GRID[theme], zerolinecolor=_GRID[theme], linecolor=_GRID[theme])
    return go.layout.Template(base, layout=dict(
        font=dict(family=FONT, color=_TEXT[theme], size=14),
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        colorway=[SERIES["today"], SERIES["last_year"], SERIES["yesterday"], SERIES["peak"]],
        xaxis=axis, yaxis=axis, hoverlabel=dict(font=dict(family=FONT))))


for _theme in (DARK, LIGHT):
    pio.templates[f"peakwatch_{_theme}"] = _template(_theme)


def template(theme: str) -> str:
    return f"peakwatch_{theme if theme in CSS else LIGHT}"


def level_colour(level) -> str:
    return LEVEL_COLOURS.get(level, NO_LEVEL_COLOUR)
