"""The read side of Redis: everything the web tier shows comes through here, and only from Redis."""
from __future__ import annotations

import json
from datetime import datetime

import redis

from collectors import redis_schema as keys
from config.clock import Clock

SUMMARY_DATASETS = ("load", "orders", "outages")


class RedisUnavailable(RuntimeError):
    pass


class Store:
    def __init__(self, client: redis.Redis, clock: Clock):
        self.client = client
        self.clock = clock

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except redis.RedisError as exc:
            raise RedisUnavailable(str(exc)) from exc

    def versions(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._call(self.client.hgetall, keys.VERSIONS).items()}

    def tick(self) -> dict:
        """Versions, as_of and staleness limits per dataset, in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(keys.VERSIONS).hgetall(keys.AS_OF).hgetall(keys.HEALTH)
        versions, as_of, health = self._call(pipe.execute)
        limits = {}
        for raw in health.values():
            h = json.loads(raw)
            limits.update({d: h.get("stale_after_s") for d in h.get("datasets", [])})
        return {"v": {k: int(x) for k, x in versions.items()}, "as_of": as_of, "stale_after": limits}

    def as_of(self) -> dict[str, str]:
        return self._call(self.client.hgetall, keys.AS_OF)

    def health(self) -> dict[str, dict]:
        raw = self._call(self.client.hgetall, keys.HEALTH)
        return {k: json.loads(v) for k, v in raw.items()}

    def rejects(self, count: int) -> list[dict]:
        """The newest rejected rows, with source, table, key, field and rule."""
        return [json.loads(r) for r in self._call(self.client.lrange, keys.REJECTS, 0, count - 1)]

    def processes(self) -> dict[str, dict]:
        """What the all-in-one supervisor recorded: pid, restarts, last event (empty in production)."""
        return {k: json.loads(v) for k, v in self._call(self.client.hgetall, keys.PROCESSES).items()}

    def entry(self, dataset: str, code: str):
        return self.entries(dataset, [code])[0]

    def entries(self, dataset: str, codes: list[str]) -> list:
        """Payloads of some nodes; a node a sparse dataset skipped gets the dataset's default."""
        if not codes:
            return []
        raw = self._call(self.client.hmget, keys.dataset_key(dataset), [*codes, keys.DEFAULT_ENTRY])
        default = json.loads(raw[-1]) if raw[-1] else None
        return [json.loads(r) if r else default for r in raw[:-1]]

    def entries_with_prefix(self, dataset: str, prefix: str) -> list:
        """Every payload of a dataset whose key starts with prefix (e.g. key customers "kc:")."""
        scan = self.client.hscan_iter(keys.dataset_key(dataset), match=f"{prefix}*", count=1000)
        return [json.loads(v) for _, v in self._call(list, scan)]

    def node(self, code: str) -> dict | None:
        return self.entry("topology", code)

    def children(self, code: str) -> list[str]:
        return self.entry("topology", f"children:{code}") or []

    def city_code(self) -> str | None:
        roots = self.entry("topology", "roots") or []
        return roots[0] if roots else None

    def regions(self) -> list[dict]:
        raw = self._call(self.client.hgetall, keys.dataset_key("topology"))
        rows = [json.loads(v) for k, v in raw.items() if not k.startswith("children:") and k != "roots"]
        return [{k: r[k] for k in ("code", "name", "level", "parent_code")} for r in rows]

    def ancestors(self, code: str) -> list[dict]:
        """The node and its ancestors, city first (for breadcrumbs)."""
        chain, node = [], self.node(code)
        while node:
            chain.append(node)
            node = self.node(node["parent_code"]) if node.get("parent_code") else None
        return chain[::-1]

    def staleness(self, datasets=SUMMARY_DATASETS) -> dict[str, dict]:
        """Per dataset: as_of, age in seconds, and whether it is older than its collector allows."""
        as_of = self.as_of()
        limits = {d: h.get("stale_after_s") for h in self.health().values() for d in h.get("datasets", [])}
        now = self.clock.now()
        out = {}
        for ds in datasets:
            ts = as_of.get(ds)
            age = (now - datetime.fromisoformat(ts)).total_seconds() if ts else None
            limit = limits.get(ds)
            out[ds] = {"as_of": ts, "age_s": None if age is None else round(age, 1),
                       "stale_after_s": limit,
                       "stale": ts is None or (limit is not None and age > limit)}
        return out

    def summary(self, code: str) -> dict:
        load, orders, outages = (self.entry(ds, code) or {} for ds in SUMMARY_DATASETS)
        fresh = self.staleness()
        stamps = [f["as_of"] for f in fresh.values() if f["as_of"]]
        return {
            "region": code,
            "as_of": min(stamps) if stamps else None,
            "load_mw": load.get("load_mw"),
            "load_rate": load.get("load_rate"),
            "repair_orders_today": orders.get("repair_today"),
            "repair_orders_last_hour": orders.get("repair_last_hour"),
            "open_repair_orders": orders.get("open_repair"),
            "outages_active": outages.get("outages_active"),
            "outage_customers": outages.get("outage_customers"),
            "outage_transformer_areas": outages.get("outage_transformer_areas"),
            "stale": any(f["stale"] for f in fresh.values()),
            "datasets": fresh,
            "warning": self.warning_brief(code),
        }

    def warning_brief(self, code: str) -> dict | None:
        """Level and reasons of a node's service warning; None where warnings are not evaluated."""
        w = self.entry("warnings", code)
        return None if w is None else {"level": w["level_name"], "reasons": w["reasons"]}

    def warnings_below(self, code: str) -> list[dict]:
        """The node's warning and those of every evaluated node below it, one tree level per read."""
        out, frontier = [], [code]
        while frontier:
            found = [(c, w) for c, w in zip(frontier, self.entries("warnings", frontier)) if w]
            out += [{"code": c, **w} for c, w in found]
            kids = self.entries("topology", [f"children:{c}" for c, _ in found])
            frontier = [k for group in kids if group for k in group]
        return out

    def warning_history(self, code: str, limit: int) -> list[dict]:
        """Level changes at the node and below, newest first."""
        raw = self._call(self.client.zrevrange, keys.warning_history_key(code), 0, limit - 1)
        return [json.loads(r) for r in raw]
