"""Dash reads Redis only: the web process never loads a database driver, and with the source
database gone every page and refresh callback still answers from Redis."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import settings as settings_mod
from dashboard import ids
from tests.dash_payloads import payload
from tests.test_api import run_collectors_once

ROOT = Path(__file__).resolve().parents[1]


def test_web_process_never_imports_a_source_adapter(redis_url):
    probe = ("import sys, dashboard.wsgi; "
             "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlite3', 'simulator')"
             " or m.startswith('collectors.sources') or m.startswith('collectors.plugins')); print(bad)")
    env = dict(os.environ, REDIS_URL=redis_url, SOURCE_URL="sqlite:////nonexistent/dir/source.db")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("path", ["/", "/region/PC01", "/region/PC01S01F001"])
def test_pages_and_refresh_answer_with_the_source_gone(web_app, settings_env, redis_client, source_url, path):
    run_collectors_once(settings_mod.load(), redis_client)
    Path(source_url.removeprefix("sqlite:///")).unlink()     # the source system is gone
    client = web_app.server.test_client()

    page = client.post("/_dash-update-component", json=payload(
        web_app, "_pages_content.children", {"_pages_location.pathname": path, "_pages_location.search": ""}))
    assert page.status_code == 200
    assert "ov-load" in page.get_data(as_text=True)

    code = "PC" if path == "/" else path.rsplit("/", 1)[1]
    refresh = client.post("/_dash-update-component", json=payload(web_app, f"{ids.OV_LOAD}.children", {
        f"{ids.VERSIONS}.data": {"load": 99, "orders": 99, "outages": 99},
        f"{ids.OV_REGION}.data": code, f"{ids.OV_RENDERED}.data": {}, f"{ids.LANG}.data": "zh"}))
    assert refresh.status_code == 200
    body = refresh.get_json()["response"]
    assert body[ids.OV_RENDERED]["data"] == {"load": 99, "orders": 99, "outages": 99}


def test_unchanged_versions_send_nothing(web_app, settings_env, redis_client):
    run_collectors_once(settings_mod.load(), redis_client)
    client = web_app.server.test_client()
    same = {"load": 1, "orders": 1}
    resp = client.post("/_dash-update-component", json=payload(web_app, f"{ids.OV_LOAD}.children", {
        f"{ids.VERSIONS}.data": same, f"{ids.OV_REGION}.data": "PC", f"{ids.OV_RENDERED}.data": same,
        f"{ids.LANG}.data": "zh"}))
    assert resp.status_code == 204 and resp.get_data() == b""
