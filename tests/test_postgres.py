"""PostgreSQL in the field: the collectors read a PostgreSQL source exactly as they read SQLite,
and the app DB (users, tokens, sign-in) works on PostgreSQL. The server is a real PostgreSQL 16.

The simulator writes a small city in a heatwave into SQLite. Its rows are copied, with plain SQL
as another system would write them, into a real PostgreSQL 16 and into a second SQLite file, in
two stages: the rows last updated 30 minutes before now, then the rest. Every collector runs over
each source after each stage, so the polls' watermarks and incremental states are exercised too.
Every dataset published in Redis, and every rejected row, must be the same byte for byte (the
SQLite side is checked against SQL recomputations by the KPI tests)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import Boolean, create_engine, text

from collectors.plugins import REGISTRY
from collectors.redis_schema import REJECTS, connect
from collectors.sources.schema import metadata
from simulator import Simulation
from tests.kpi_harness import Harness
from tests.pg import Postgres
from tests.security_helpers import PASSWORD
from tests.test_security_auth import cli_round_trip, run

NOW = datetime(2026, 7, 15, 14, 0)
STAGES = (NOW - timedelta(minutes=30), NOW)


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    server = Postgres(tmp_path_factory.mktemp("pg"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('sim') / 'city.db'}"
    sim = Simulation(url, scale="small", scenario="heatwave", seed=11)
    sim.bootstrap(NOW, rebuild=True)
    sim.close()
    return create_engine(url)


def copy_stage(source, target_url: str, after: datetime | None, until: datetime) -> int:
    """The source rows last updated in (after, until], INSERTed with plain SQL."""
    target = create_engine(target_url)
    metadata.create_all(target)
    copied = 0
    for table in metadata.sorted_tables:
        where = "updated_at <= :until" + (" AND updated_at > :after" if after else "")
        df = pd.read_sql(text(f"SELECT * FROM {table.name} WHERE {where}"), source,
                         params={"until": f"{until:%Y-%m-%d %H:%M:%S}.999999",
                                 "after": f"{after:%Y-%m-%d %H:%M:%S}.999999" if after else None})
        if target.dialect.name == "postgresql":     # SQLite keeps booleans as 0/1
            for col in (c.name for c in table.c if isinstance(c.type, Boolean)):
                df[col] = df[col].map({1: True, 0: False})
        rows = df.astype(object).where(df.notna(), None).to_dict("records")
        if rows:
            names = list(rows[0])
            with target.begin() as c:
                c.execute(text(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES"
                               f" ({', '.join(':' + n for n in names)})"), rows)
            copied += len(rows)
    target.dispose()
    return copied


def published(client) -> dict:
    out = {key: client.hgetall(key) for key in client.scan_iter("pw:ds:*")}
    out[REJECTS] = [json.loads(r) for r in client.lrange(REJECTS, 0, -1)]
    return out


def test_postgres_source_publishes_what_sqlite_publishes(simulated, postgres, redis_server, tmp_path,
                                                         monkeypatch):
    targets = {"sqlite": f"sqlite:///{tmp_path / 'copy.db'}", "postgresql": postgres.fresh_database()}
    monkeypatch.delenv("PEAKWATCH_CLOCK", raising=False)
    harnesses = {}
    for db, (name, url) in enumerate(targets.items(), start=1):   # a Redis database each
        redis_url = redis_server.url.rsplit("/", 1)[0] + f"/{db}"
        client = connect(redis_url)
        client.flushdb()
        metadata.create_all(create_engine(url))
        monkeypatch.setenv("REDIS_URL", redis_url)
        monkeypatch.setenv("SOURCE_URL", url)
        harnesses[name] = Harness(client, REGISTRY, STAGES[0])     # reads the settings now
    after = None
    for until in STAGES:
        copied = {name: copy_stage(simulated, url, after, until) for name, url in targets.items()}
        assert copied["sqlite"] == copied["postgresql"] > 0
        lite, pg = (published(harnesses[name].at(until).run().client) for name in targets)
        assert sorted(lite) == sorted(pg) and len(lite) >= 13, sorted(lite)
        for key in lite:
            assert lite[key] == pg[key], (until, key)
        after = until


def test_app_db_on_postgres_manages_users_and_tokens(postgres):
    url = postgres.fresh_database()
    cli_round_trip(url)
    engine = create_engine(url)
    with engine.connect() as c:
        assert c.execute(text("SELECT name, disabled FROM users")).all() == [("ann", True)]
        assert c.execute(text("SELECT label, revoked_at IS NOT NULL FROM kiosk_tokens")).all() == [("hall-1", True)]
    engine.dispose()


def test_production_sign_in_with_the_app_db_on_postgres(postgres, redis_url):
    app_db = postgres.fresh_database()
    probe = ("import dashboard.wsgi as w; from tests.security_helpers import login; "
             "c = w.server.test_client(); before = c.get('/api/v1/versions').status_code; "
             f"from dashboard.security import accounts; accounts.add_user(w.server.config['PW_APP_DB'], 'ann', "
             f"{PASSWORD!r}, 'viewer', 'PC01', 'test'); "
             "print(w.server.config['PW_APP_DB'].dialect.name, before, login(c, 'ann').status_code, "
             "c.get('/api/v1/versions').status_code)")
    out = run(probe, REDIS_URL=redis_url, PEAKWATCH_ENV="production", SECRET_KEY="x" * 48, APP_DB_URL=app_db)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-4:] == ["postgresql", "401", "303", "200"]
