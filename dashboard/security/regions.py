"""What region a request is about, and whether the principal's scope covers it.

A request names a region in three ways: a page path (/<page>/<code>, /region/<code>; no code is
the city), an API ?region= parameter, and the callback inputs and states that carry a node code.
REGION_BEARING lists the latter explicitly; tests/test_security_scope_ids.py fails when a page
adds a region store, or a callback reads a store, that is not classified here."""
from __future__ import annotations

import json
from dataclasses import dataclass

import dash

from dashboard import ids
from dashboard.api import valid_code
from dashboard.security.principal import KIOSK, Principal
from dashboard.store import Store

OVERVIEW = "overview"
UNSCOPED_PAGES = {"/ops": "ops"}     # health of the collectors: no node, no customer data per region
PAGES_LOCATION = "_pages_location"   # Dash's page-routing dcc.Location


@dataclass(frozen=True)
class Target:
    page: str | None
    code: str | None           # None: the root of the tree (a page without a code)
    scoped: bool = True        # False: the page shows no region's data


def _templates() -> dict[str, str]:
    """Page name by the first path segment of every /<page>/<code> template."""
    out = {}
    for p in dash.page_registry.values():
        template = p.get("path_template") or ""
        if template.endswith("/<code>"):
            prefix = template.strip("/").split("/")[0]
            out[prefix] = OVERVIEW if prefix == "region" else p.get("slug", prefix)
    return out


def page_target(pathname) -> Target | None:
    """The page and node a path shows; None for a path no page serves (the 404 page)."""
    if not isinstance(pathname, str):
        return None
    path = pathname.split("?")[0].rstrip("/") or "/"
    if path in UNSCOPED_PAGES:
        return Target(UNSCOPED_PAGES[path], None, scoped=False)
    if path == "/":
        return Target(OVERVIEW, None)
    parts, templates = path.strip("/").split("/"), _templates()
    page = templates.get(parts[0])
    if page is None or len(parts) > 2 or (parts[0] == "region" and len(parts) == 1):
        return None
    return Target(page, parts[1] if len(parts) == 2 else None)


def _store_code(page: str):
    return lambda value: Target(page, value) if valid_code(value) else None


def _view(value) -> Target | None:
    if not isinstance(value, dict):
        return None
    code = value.get("code")
    return Target(value.get("page"), code) if valid_code(code) else Target(value.get("page"), None, scoped=False)


def _children(value) -> Target | None:
    """The overview's children-table columns: the first child stands for its siblings."""
    nodes = value.get("nodes") if isinstance(value, dict) else None
    first = nodes[0][0] if isinstance(nodes, list) and nodes and isinstance(nodes[0], list) and nodes[0] else None
    return Target(OVERVIEW, first) if valid_code(first) else None


# (component id, property) -> the Target its value names. Every server callback's inputs and
# states are either here or in NOT_REGION (the test holds both lists to the callback map).
REGION_BEARING = {
    (PAGES_LOCATION, "pathname"): page_target,
    (ids.OV_REGION, "data"): _store_code(OVERVIEW),
    (ids.VIEW, "data"): _view,
    (ids.ACK_TARGET, "data"): _view,         # read in the browser only; listed for completeness
    (ids.OV_CHILDREN_DATA, "data"): _children,   # likewise (assets/peakwatch.js draws the table)
}
NOT_REGION = {
    (PAGES_LOCATION, "search"), (ids.VERSIONS, "data"), (ids.LANG, "data"), (ids.OV_RENDERED, "data"),
    (ids.OV_WARN_RENDERED, "data"), ("rendered", "data"), ("part", "data"), (ids.ACK_RENDERED, "data"),
}


def id_key(component_id) -> str:
    """A string id as it is; a pattern id (a dict, or its JSON in the callback map) by its type."""
    if isinstance(component_id, str) and component_id.startswith("{"):
        component_id = json.loads(component_id)
    return component_id.get("type", "") if isinstance(component_id, dict) else str(component_id)


def _values(item) -> list | None:
    """The values one request position carries (ALL/MATCH positions are lists); None if malformed."""
    items = item if isinstance(item, list) else [item]
    return [x.get("value") for x in items] if all(isinstance(x, dict) for x in items) else None


def callback_targets(body: dict, callback_map: dict) -> list[Target] | None:
    """Every region a /_dash-update-component request names; None for a malformed request.

    Dash hands a callback its arguments by position, whatever ids the request claims, so each
    value is classified by the id registered at its position, never by the id sent with it."""
    spec = callback_map.get(body.get("output"))
    if spec is None:
        return []                           # no such callback: Dash refuses it itself
    registered = [*spec["inputs"], *spec.get("state", [])]
    sent = [*(body.get("inputs") or []), *(body.get("state") or [])]
    found = []
    for reg, item in zip(registered, sent):
        reader = REGION_BEARING.get((id_key(reg["id"]), reg["property"]))
        if reader is None:
            continue
        values = _values(item)
        if values is None:
            return None
        found += [x for x in map(reader, values) if x is not None]
    return found


def covers(principal: Principal, code: str | None, store: Store) -> bool:
    """Whether the principal may see the node (None: the root). May raise RedisUnavailable."""
    if principal.scope is None or code == principal.scope:
        return True
    if code is None:
        return False                       # the whole city, and the scope is narrower
    chain = store.ancestors(code)
    if not chain:                          # unknown node: only the whole-city scope learns that
        return store.city_code() == principal.scope
    return any(n["code"] == principal.scope for n in chain)


def kiosk_pages(principal: Principal) -> set[str]:
    from dashboard import wallconfig
    return {e.page for e in wallconfig.load(principal.playlist).playlist}


def allows(principal: Principal, target: Target, store: Store) -> bool:
    if principal.kind == KIOSK and target.page not in kiosk_pages(principal):
        return False                       # a wall shows its playlist and nothing else
    return not target.scoped or covers(principal, target.code, store)


def default_region(principal: Principal | None, store: Store) -> str | None:
    """Where a request without a region lands: the principal's scope, else the city."""
    if principal is not None and principal.scope is not None:
        return principal.scope
    return store.city_code()


def visible(principal: Principal, nodes: list[dict]) -> list[dict]:
    """The nodes of a tree listing (code, parent_code) at or below the principal's scope."""
    if principal.scope is None:
        return nodes
    parent = {n["code"]: n.get("parent_code") for n in nodes}
    inside: dict[str, bool] = {principal.scope: True}

    def walk(code) -> bool:
        if code not in inside:
            up = parent.get(code)
            inside[code] = up is not None and walk(up)
        return inside[code]
    return [n for n in nodes if walk(n["code"])]


def allows_url(principal: Principal | None, url: str, store: Store) -> bool:
    """Whether a page URL (a playlist screen) is one the principal may open."""
    target = page_target(url)
    return principal is None or (target is not None and allows(principal, target, store))
