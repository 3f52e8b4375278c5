"""大屏 The wall: a 1920×1080 command-center screen, read from across the room.

Title bar (time, weather, the node's warning level) · left: load · centre: the map of the
node's children coloured by warning level · right: repair orders, backlog, overdue, outages ·
bottom: a ticker of the newest warning changes and sensitive orders. Sizes are in vw (assets/
peakwatch.css), so the same layout reads at 1920×1080 and 3840×2160. /wall/<code> focuses one
node (the playlist walks the districts)."""
from __future__ import annotations

from dash import dcc, html

from dashboard import figures, geomap, ids, scope
from dashboard.i18n import label, number, percent, t, when
from dashboard.pages.repairs import STEPS, growth
from dashboard.pages.warnings import reason_titles
from dashboard.theme import LEVEL_LABELS

PAGE = "wall"
DATASETS = ("load", "ami", "orders", "outages", "warnings", "weather", "sensitive", "geo")
TICKER_ITEMS = 12
CHART_FONT = 16        # px at 1920 wide; callbacks/wall.py scales it to the screen's width
WALL_TICK_HOURS = 6


def snapshot(store, code: str) -> dict:
    """Everything the wall shows for one node, read from Redis in a few round trips."""
    kids = store.children(code)
    one = {ds: store.entry(ds, code) for ds in ("load", "ami", "orders", "outages", "warnings", "weather")}
    return {**one, "areas": geomap.areas(store, kids), "levels": geomap.levels(store, kids),
            "outline": store.entry("geo", code)}


def wall_tile(key: str, dataset: str, title: str, body, class_name: str = "") -> html.Div:
    return html.Div([html.Div([html.Span(title, className="pw-wt-title"),
                               html.Span("", id=ids.age(dataset, key), className="pw-age")], className="pw-wt-head"),
                     html.Div(body, id=ids.part(PAGE, key), className="pw-wt-body")],
                    className=f"pw-wt {class_name}".strip())


def stat(value: str, name: str, unit: str = "", emph: bool = False) -> html.Div:
    figure = [html.Span(value, className="pw-ws-value" + (" pw-emph" if emph else ""))]
    if unit:                    # no empty span: each one is ~100 bytes on every refresh of the tile
        figure.append(html.Span(unit, className="pw-ws-unit"))
    return html.Div([html.Div(figure), html.Div(name, className="pw-ws-name")], className="pw-ws")


def level_pill(level, lang: str, class_name: str = "") -> html.Span:
    known = level in LEVEL_LABELS
    return html.Span(t(LEVEL_LABELS[level], lang) if known else t("level_unknown", lang),
                     className=f"pw-level pw-level-{level if known else 'none'} {class_name}".strip())


def vs_yesterday(load: dict) -> float | None:
    """Load now against the same quarter-hour yesterday."""
    today, yday = load.get("curve_today") or [], load.get("curve_yesterday") or []
    last = max((i for i, v in enumerate(today) if v is not None), default=None)
    if last is None or last >= len(yday) or not yday[last]:
        return None
    return today[last] / yday[last] - 1


def load_body(load: dict | None, lang: str):
    if not load:
        return html.Div(t("no_data", lang), className="pw-nodata")
    change = vs_yesterday(load)
    return [stat(number(load.get("load_mw"), lang, 1), t("load_mw", lang), t("unit_mw", lang)),
            html.Div([stat(percent(load.get("load_rate"), lang), t("load_rate", lang)),
                      stat("—" if change is None else f"{change * 100:+.1f}%", t("vs_yesterday", lang)),
                      stat(number(load.get("peak_today_mw"), lang, 0), t("peak_today", lang), t("unit_mw", lang))],
                     className="pw-ws-row")]


def flags_body(load: dict | None, ami: dict | None, lang: str):
    load, ami = load or {}, ami or {}
    return html.Div([stat(number(ami.get("heavy_tareas"), lang), t("heavy_tareas", lang)),
                     stat(number(ami.get("overload_tareas"), lang), t("overload_tareas", lang)),
                     stat(number(load.get("heavy_feeders"), lang), t("heavy_feeders", lang)),
                     stat(number(ami.get("low_voltage_customers"), lang), t("low_voltage_customers", lang))],
                    className="pw-ws-grid")


def repairs_body(o: dict | None, lang: str):
    if not o:
        return html.Div(t("no_data", lang), className="pw-nodata")
    g = growth(o.get("repair_today"), o.get("baseline_today"))
    return html.Div([stat(number(o.get("repair_today"), lang), t("repair_today", lang), t("unit_orders", lang)),
                     stat("—" if g is None else f"{g * 100:+.0f}%", t("vs_baseline", lang)),
                     stat(number(o.get("repair_last_hour"), lang), t("repair_last_hour", lang))],
                    className="pw-ws-row")


def open_body(o: dict | None, lang: str):
    if not o:
        return html.Div(t("no_data", lang), className="pw-nodata")
    backlog = o.get("backlog", {})
    return [html.Div([stat(number(o.get("open_repair"), lang), t("open_repair", lang)),
                      stat(number(o.get("overdue_arrival"), lang), t("overdue_arrival", lang),
                           emph=bool(o.get("overdue_arrival"))),
                      stat(number(o.get("key_customer_overdue"), lang), t("key_customer_overdue", lang),
                           emph=bool(o.get("key_customer_overdue")))], className="pw-ws-row"),
            html.Div([html.Div([html.Div(number(backlog.get(s, 0), lang), className="pw-step-n"),
                                html.Div(t(f"step_{s}", lang), className="pw-step-name")], className="pw-step")
                      for s in STEPS], className="pw-steps")]


def outages_body(o: dict | None, lang: str):
    if not o:
        return html.Div(t("no_data", lang), className="pw-nodata")
    return html.Div([stat(number(o.get("outages_active"), lang), t("outages_active", lang)),
                     stat(number(o.get("outage_customers"), lang), t("outage_customers", lang),
                          t("unit_households", lang)),
                     stat(number(o.get("outage_transformer_areas"), lang), t("outage_tareas", lang))],
                    className="pw-ws-row")


def weather_text(w: dict | None, lang: str) -> str:
    if not w:
        return ""
    return t("weather_now", lang, now=number(w.get("temperature_c"), lang, 1),
             high=number(w.get("max_today_c"), lang, 1))


def level_body(w: dict | None, lang: str):
    level = (w or {}).get("level")
    reasons = (w or {}).get("reasons") or []
    return [level_pill(level, lang, "pw-wall-level"), html.Span(reason_titles(reasons, lang), className="pw-wall-why")]


def ticker_items(view: scope.View) -> list[str]:
    """The newest warning changes and sensitive orders at or below the node, newest first."""
    changes = view.store.warning_history(view.code, TICKER_ITEMS)
    sensitive = scope.listing(view, "sensitive", "orders")[:TICKER_ITEMS]
    codes = sorted({c["code"] for c in changes} | {s["tarea_code"] for s in sensitive})
    names = {n["code"]: n["name"] for n in scope.named(view.store, codes)}
    lang = view.lang
    items = [(c["at"], t("ticker_warning", lang, when=when(c["at"], lang), name=names.get(c["code"], c["code"]),
                         level=t(LEVEL_LABELS.get(c["level"], "level_unknown"), lang),
                         why=reason_titles(c.get("reasons"), lang)))
             for c in changes]
    items += [(s["accepted_at"], t("ticker_sensitive", lang, when=when(s["accepted_at"], lang),
                                   name=names.get(s["tarea_code"], s["tarea_code"]), order=s["order_no"],
                                   why="、".join(label("reason", r, lang) for r in s.get("reasons", []))))
              for s in sensitive]
    return [text for _, text in sorted(items, reverse=True)[:TICKER_ITEMS]] or [t("ticker_quiet", lang)]


def ticker(items: list[str]):
    text = "　◆　".join(items)
    # the scroll takes longer for more text, so it always moves at the same, readable speed
    return html.Div(text, className="pw-ticker-text", style={"animationDuration": f"{max(30, len(text) // 3)}s"})


def map_figure(data: dict, lang: str) -> object:
    return geomap.figure(data["areas"], data["levels"], lang, "dark", height=None, font_size=CHART_FONT + 4,
                         outline=data["outline"])


def graph(name: str, fig) -> dcc.Graph:
    return dcc.Graph(id=ids.part(PAGE, name), figure=fig, className="pw-wall-graph",
                     config={"displayModeBar": False, "responsive": True})


def wall_chart(fig):
    """The tile names the chart: no title, a compact legend, ticks every WALL_TICK_HOURS."""
    fig.update_layout(title=None, margin=dict(l=48, r=8, t=28, b=28), font=dict(size=CHART_FONT),
                      legend=dict(y=1.0, yanchor="bottom", x=0, xanchor="left"))
    ticks = list(range(0, 25, WALL_TICK_HOURS))
    return fig.update_xaxes(tickvals=ticks, ticktext=[f"{h:02d}:00" for h in ticks], tickangle=0)


def view_body(view: scope.View, data: dict) -> list:
    lang = view.lang
    curve = wall_chart(figures.load_curves(data["load"], lang, "dark", height=None))
    hourly = wall_chart(figures.hourly_orders(data["orders"], lang, "dark", height=None))
    left = [wall_tile("load", "load", t("load", lang), load_body(data["load"], lang)),
            wall_tile("curve", "load", t("load_curve_vs_yesterday", lang), graph("curve_graph", curve), "pw-wt-chart"),
            wall_tile("flags", "ami", t("tarea_load_flags", lang), flags_body(data["load"], data["ami"], lang))]
    right = [wall_tile("repairs", "orders", t("repairs", lang), repairs_body(data["orders"], lang)),
             wall_tile("hourly", "orders", t("hourly_orders", lang), graph("hourly_graph", hourly), "pw-wt-chart"),
             wall_tile("open", "orders", t("open_repair", lang), open_body(data["orders"], lang)),
             wall_tile("outages", "outages", t("outages", lang), outages_body(data["outages"], lang))]
    centre = html.Div([html.Div([html.Span(t("map_title", lang), className="pw-wt-title"), geomap.legend(lang),
                                 html.Span("", id=ids.age("warnings", "map"), className="pw-age")],
                                className="pw-wt-head"),
                       dcc.Graph(id=ids.drill(PAGE, "map"), figure=map_figure(data, lang), className="pw-wall-map",
                                 config={"displayModeBar": False, "responsive": True})],
                      className="pw-wt pw-wall-centre")
    return [html.Div(left, className="pw-wall-col"), centre, html.Div(right, className="pw-wall-col")]


def title_bar(view: scope.View, data: dict) -> html.Div:
    lang = view.lang
    return html.Div([
        html.Div(t("wall_title", lang, name=view.node["name"]), className="pw-wall-title"),
        html.Div(id=ids.part(PAGE, "clock"), className="pw-wall-clock"),
        html.Div(weather_text(data["weather"], lang), id=ids.part(PAGE, "weather"), className="pw-wall-weather"),
        html.Div(level_body(data["warnings"], lang), id=ids.part(PAGE, "level"), className="pw-wall-levelbox"),
    ], className="pw-wall-bar")


def layout(code: str | None = None, **query):
    view = scope.resolve(PAGE, code, {**query, "kiosk": "1"})
    if not isinstance(view, scope.View):
        return view
    data = snapshot(view.store, view.code)
    return html.Div([
        dcc.Store(id=ids.VIEW, data=view.data()), dcc.Store(id=ids.rendered(PAGE), data=view.versions),
        dcc.Store(id=ids.part(PAGE, "viewport")),
        title_bar(view, data),
        html.Div(view_body(view, data), className="pw-wall-main"),
        html.Div(ticker(ticker_items(view)), id=ids.part(PAGE, "ticker"), className="pw-ticker"),
    ], className="pw-wall")


scope.register(__name__, PAGE, "wall", 95, layout, nav=False)   # the navbar links it as a full page load
