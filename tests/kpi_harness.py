"""Run real collectors against a real SQLite source and a real Valkey, at a frozen clock."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import create_engine, text

from collectors.base import Context
from collectors.redis_schema import dataset_key
from collectors.runner import Runner
from collectors.sources.adapter import SourceAdapter
from config import settings as settings_mod
from config.clock import Clock


def frozen(at: datetime) -> Clock:
    return Clock(origin=at, speed=1e-9)


class Harness:
    """One shared Context, runners in the given order; `at(t)` moves the clock."""

    def __init__(self, client, collector_classes, now: datetime):
        settings = settings_mod.load()
        self.ctx = Context(SourceAdapter(settings.source_url, 10.0), frozen(now), settings)
        self.client = client
        self.runners = [Runner(cls(self.ctx), client) for cls in collector_classes]

    def at(self, now: datetime) -> "Harness":
        self.ctx.clock = frozen(now)
        return self

    def run(self) -> "Harness":
        for r in self.runners:
            assert r.run_once(), (r.collector.name, r.health["last_error"])
        return self

    def entry(self, dataset: str, code: str):
        raw = self.client.hget(dataset_key(dataset), code)
        return json.loads(raw) if raw else None


def insert(url: str, table: str, rows: list[dict]) -> None:
    """Plain SQL, as another system would write it."""
    if not rows:
        return
    engine = create_engine(url)
    cols = list(rows[0])
    with engine.begin() as c:
        c.execute(text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + k for k in cols)})"), rows)
    engine.dispose()


def scalar(url: str, sql: str, **params):
    engine = create_engine(url)
    with engine.connect() as c:
        value = c.execute(text(sql), params).scalar()
    engine.dispose()
    return value
