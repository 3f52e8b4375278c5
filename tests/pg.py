"""A real PostgreSQL 16 for the tests: pgserver ships the server binaries on PyPI and starts one
in a temporary directory (no root, no apt). Each test gets a fresh database."""
from __future__ import annotations

import itertools

import pgserver
from sqlalchemy import create_engine, text


class Postgres:
    def __init__(self, data_dir):
        self.server = pgserver.get_server(str(data_dir), cleanup_mode="stop")
        self.base = self.server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
        self._names = itertools.count()

    def fresh_database(self) -> str:
        name = f"source_{next(self._names)}"
        admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        return self.base.replace("/postgres?", f"/{name}?", 1)

    def stop(self) -> None:
        self.server.cleanup()
