"""The URL scheme, one rule for every page:

  /<page>               the page for the whole city (the tree's root)
  /<page>/<code>        the same page scoped to one node (区县, 供电所, 线路 or 台区)
  /  and /region/<code> the overview (kept from the first drill-down)
  ?hours=8-20           the time window of the page's time charts (whole hours, 0–24)
  ?kiosk=1              wall mode: no navigation chrome, dark, the playlist rotates

Drilling down keeps the query, so a shared link reproduces page, node and time window.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import dash
from dash.exceptions import PreventUpdate
import dash_bootstrap_components as dbc
from dash import dcc, html

from config.limits import limits
from dashboard import ids, runtime
from dashboard.api import valid_code
from dashboard.i18n import t
from dashboard.store import RedisUnavailable, Store

OVERVIEW = "overview"
DAY_HOURS = 24


def register(module: str, page: str, name: str, order: int, layout, nav: bool = True) -> None:
    """Register /<page> (in the navigation unless nav=False) and /<page>/<code> with one layout."""
    dash.register_page(module, path=f"/{page}", name=name, nav=nav, order=order, layout=layout, slug=page)
    dash.register_page(f"{module}.node", path_template=f"/{page}/<code>", name=name, nav=False,
                       layout=layout, slug=page)


def href(page: str, code: str | None) -> str:
    if page == OVERVIEW:
        return f"/region/{code}" if code else "/"
    return f"/{page}/{code}" if code else f"/{page}"


def parse_hours(raw) -> list[int] | None:
    """`8-20` → [8, 20]; anything malformed or empty means the whole day (None)."""
    try:
        start, end = (int(x) for x in str(raw).split("-"))
    except (TypeError, ValueError):
        return None
    if 0 <= start < end <= DAY_HOURS:
        return [start, end]
    return None


def is_kiosk(query: dict) -> bool:
    return str(query.get("kiosk", "")) in ("1", "true")


@dataclass
class View:
    """What one rendering of a page is about: the node, the viewer's language and look."""
    page: str
    code: str
    node: dict
    lang: str
    theme: str
    kiosk: bool
    hours: list[int] | None
    store: Store
    versions: dict = field(default_factory=dict)

    def data(self) -> dict:
        """The view as the page's dcc.Store keeps it for its refresh callbacks."""
        return {"page": self.page, "code": self.code, "lang": self.lang, "theme": self.theme,
                "kiosk": self.kiosk, "hours": self.hours}


def message(text: str):
    return dbc.Alert(text, color="secondary", className="m-4 pw-message")


def resolve(page: str, code: str | None, query: dict):
    """A View for this request, or the message to show instead (unknown node, no Redis)."""
    lang, kiosk = runtime.lang(), is_kiosk(query)
    store = runtime.store()
    try:
        code = code or store.city_code()
        if code is None:
            return message(t("no_data", lang))
        node = store.node(code)
        if node is None:
            return message(t("unknown_region", lang, code=code[:32]))
        versions = store.versions()
    except RedisUnavailable:
        return message(t("redis_down", lang))
    return View(page, code, node, lang, runtime.theme(kiosk), kiosk, parse_hours(query.get("hours")),
                store, versions)


def breadcrumb(view: View, crumb_id: str | None = None):
    """地市 › 区县 › 供电所 › 线路 › 台区: every ancestor links to the same page at its level."""
    chain = view.store.ancestors(view.code)
    items = [{"label": n["name"], "href": href(view.page, n["code"])} for n in chain[:-1]]
    last = chain[-1]
    items.append({"label": f'{last["name"]} · {t("level_" + last["level"], view.lang)}', "active": True})
    extra = {"id": crumb_id} if crumb_id else {}
    return dbc.Breadcrumb(items=items, className="pw-breadcrumb", **extra)


def header(view: View, title_key: str):
    return html.Div([html.H1(t(title_key, view.lang), className="pw-page-title"), breadcrumb(view)],
                    className="pw-page-head")


def frame(view: View, title_key: str, body: list, class_name: str = ""):
    """A scoped page: its view and rendered-versions stores, title and breadcrumb, then the body."""
    return html.Div([dcc.Store(id=ids.VIEW, data=view.data()),
                     dcc.Store(id=ids.rendered(view.page), data=view.versions),
                     header(view, title_key), *body], className=f"pw-page {class_name}".strip())


def child_codes(view: View) -> list[str]:
    return view.store.children(view.code)


def named(store: Store, codes: list[str]) -> list[dict]:
    """code, name and level of some nodes (for tables and bars one level down)."""
    nodes = store.entries("topology", codes)
    return [{"code": c, "name": n["name"] if n else c, "level": n["level"] if n else None}
            for c, n in zip(codes, nodes)]


def changed(versions, rendered, datasets) -> set[str]:
    """The datasets whose version moved since the page last rendered (topology too: names)."""
    if not isinstance(versions, dict):
        return set()
    rendered = rendered if isinstance(rendered, dict) else {}
    return {ds for ds in (*datasets, "topology") if versions.get(ds) != rendered.get(ds)}


def below(view: View, rows: list, blocks: list) -> list:
    """The one-level-down blocks; hidden (but present, for the refresh callback) at a 台区."""
    return [html.Div(blocks, hidden=not rows, className="pw-below")]


def valid_view(view) -> bool:
    """A view store as this app wrote it (a forged or half-loaded request gets nothing)."""
    return isinstance(view, dict) and valid_code(view.get("code")) and view.get("lang") in ("zh", "en")


def refresh_target(versions, rendered, view_data, datasets) -> tuple[set[str], "View"]:
    """What a page's refresh callback must redraw, and for which view; PreventUpdate (nothing
    sent) when no dataset it shows moved or the view store is not one this app wrote."""
    moved = changed(versions, rendered, datasets)
    if not moved or not valid_view(view_data):
        raise PreventUpdate
    return moved, restore(view_data)


def rendered(versions: dict, datasets) -> dict:
    """What a page's rendered-versions store keeps: the versions of the datasets it shows (the
    whole versions dict is a dozen datasets, on every refresh of every screen). A whole value,
    not a Patch: a refresh answer that lands after the page changed must not fail to apply."""
    return {ds: versions.get(ds) for ds in (*datasets, "topology")}


def lineage(store: Store, codes: list[str]) -> dict[str, set[str]]:
    """Each code with all its ancestors, in one Redis round trip per tree level."""
    chains = {c: {c} for c in codes}
    frontier = {c: c for c in codes}          # code -> the ancestor reached so far
    while frontier:
        nodes = store.entries("topology", list(set(frontier.values())))
        parent = {n["code"]: n.get("parent_code") for n in nodes if n}
        frontier = {c: parent[a] for c, a in frontier.items() if parent.get(a)}
        for c, a in frontier.items():
            chains[c].add(a)
    return chains


def under(view: View, rows: list[dict], field: str) -> list[dict]:
    """The rows whose node (rows[i][field]) lies at or below the view's node."""
    chains = lineage(view.store, sorted({r[field] for r in rows if r.get(field)}))
    return [r for r in rows if view.code in chains.get(r.get(field), ())]


# where the collectors publish each per-node list: the limits.yaml setting naming its levels
LIST_LEVELS = {"countdowns": ("repair", "countdown_levels"), "sensitive": ("sensitive", "list_levels"),
               "audit": ("audit", "list_levels"), "frequent_outages": ("outages", "list_levels")}


def listing(view: View, dataset: str, key: str | None = None, field: str = "tarea_code") -> list[dict]:
    """A per-node list (countdowns, sensitive orders, audit findings …) for the view's node.
    Lists are published for the levels limits.yaml names (city to 供电所); below them, the
    nearest such ancestor's list is filtered to the node. `key`: the list's field in the entry."""
    section, setting = LIST_LEVELS[dataset]
    levels = limits()[section][setting]
    for node in reversed(view.store.ancestors(view.code)):
        if node["level"] not in levels:
            continue
        entry = view.store.entry(dataset, node["code"]) or {}
        rows = entry.get(key, []) if key else (entry or [])
        return rows if node["code"] == view.code else under(view, rows, field)
    return []


def restore(data: dict) -> View:
    """The View a refresh callback works in, rebuilt from the page's view store."""
    return View(page=data["page"], code=data["code"], node={}, lang=data["lang"], theme=data.get("theme", "light"),
                kiosk=bool(data.get("kiosk")), hours=parse_hours("-".join(map(str, data.get("hours") or []))),
                store=runtime.store())
