"""Shared fixtures: a real Valkey server started by the suite, real SQLite source databases."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectors.embedded_redis import EmbeddedRedis  # noqa: E402
from collectors.redis_schema import connect  # noqa: E402


@pytest.fixture(scope="session")
def redis_server():
    server = EmbeddedRedis(maxmemory="512mb").start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    client = connect(redis_server.url)
    client.flushdb()
    yield redis_server.url
    client.close()


@pytest.fixture
def redis_client(redis_url):
    client = connect(redis_url)
    yield client
    client.close()


@pytest.fixture
def source_url(tmp_path):
    """An empty source database with the source systems' schema and a tiny grid."""
    from tests.sourcedata import create_tiny_grid
    url = f"sqlite:///{tmp_path / 'source.db'}"
    create_tiny_grid(url)
    return url


@pytest.fixture
def settings_env(monkeypatch, redis_url, source_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("SOURCE_URL", source_url)
    monkeypatch.delenv("PEAKWATCH_CLOCK", raising=False)
    return os.environ


@pytest.fixture(scope="session")
def web_app(redis_server, tmp_path_factory):
    """One Dash app per test session (Dash's page registry is process-global), in the documented
    dev mode: anonymous requests are a whole-tree viewer (tests/test_security_*.py sign in)."""
    os.environ["REDIS_URL"] = redis_server.url
    os.environ["APP_DB_URL"] = f"sqlite:///{tmp_path_factory.mktemp('appdb') / 'app.db'}"
    os.environ["PEAKWATCH_TICK_CACHE_MS"] = "0"     # each test publishes afresh: no tick read may be reused
    os.environ["PEAKWATCH_RENDER_MEMO_S"] = "0"     # nor a rendered answer (tests/test_render_memo.py)
    os.environ["PEAKWATCH_ACCOUNT_RECHECK_MS"] = "0"  # nor an account look-up (test_security_auth.py)
    from dashboard import create_app
    return create_app()
