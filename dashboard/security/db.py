"""The app's own database (APP_DB_URL): users, kiosk tokens, acknowledgements, login attempts and
the audit log. SQLAlchemy Core; SQLite under var/ by default, PostgreSQL in the field. This is
never Redis: Redis is a cache the collectors rebuild, and none of this can be rebuilt."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import (Boolean, Column, Float, Integer, MetaData, String, Table, Text, create_engine,
                        event)
from sqlalchemy.engine import Engine, make_url

ROLES = ("viewer", "operator", "admin")
WHOLE_TREE = "*"      # a scope that covers every root (the province preset has one per city)
meta = MetaData()

users = Table(
    "users", meta,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(16), nullable=False),
    Column("scope", String(32), nullable=False),          # a node code (it and below) or WHOLE_TREE
    Column("disabled", Boolean, nullable=False, default=False),
    # +1 on every password change or disable: sessions signed before it stop working
    Column("session_epoch", Integer, nullable=False, default=0),
    Column("created_at", String(32), nullable=False),
)

kiosk_tokens = Table(
    "kiosk_tokens", meta,
    Column("id", Integer, primary_key=True),
    Column("label", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),   # SHA-256 of a 256-bit secret
    Column("playlist", String(64), nullable=False),
    Column("scope", String(32), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
)

acknowledgements = Table(
    "acknowledgements", meta,
    Column("id", Integer, primary_key=True),
    Column("node_code", String(32), nullable=False, index=True),
    Column("level", Integer, nullable=False),
    Column("started_at", String(32)),          # which warning episode: the level's start time
    Column("comment", Text, nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("at", String(32), nullable=False),
)

login_attempts = Table(
    "login_attempts", meta,
    Column("id", Integer, primary_key=True),
    Column("at", Float, nullable=False, index=True),       # epoch seconds
    Column("user_name", String(64), nullable=False, index=True),
    Column("address", String(64), nullable=False, index=True),
    Column("ok", Boolean, nullable=False),
)

audit_log = Table(
    "audit_log", meta,
    Column("id", Integer, primary_key=True),
    Column("at", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("target", String(128)),
    Column("detail", Text),                    # JSON
    Column("address", String(64)),
)


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # several web workers share the file: WAL lets readers run beside the one writer
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


@lru_cache(maxsize=4)
def engine(url: str) -> Engine:
    """The engine for an APP_DB_URL, its tables created if missing (one per URL per process)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)      # password hashes: readable by the service only
    eng = create_engine(url, pool_pre_ping=True)
    if parsed.get_backend_name() == "sqlite":
        event.listen(eng, "connect", _sqlite_pragmas)
    meta.create_all(eng)
    return eng
