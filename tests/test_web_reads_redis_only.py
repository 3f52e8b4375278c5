"""Dash reads Redis only: the web process never loads a source adapter or the simulator, never
opens the source database, and with the source database gone every page and refresh callback
still answers from Redis.

Since issue 8 the web process may load SQLAlchemy for one database: the app's own (APP_DB_URL:
users, kiosk tokens, acknowledgements), which is not a source system. The rule is pinned twice:
every engine the web process creates points at APP_DB_URL, and a running web server's open
files include the app DB but never the source database."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from app import web_argv
from collectors.embedded_redis import free_port
from config import settings as settings_mod
from dashboard import ids
from tests.dash_payloads import payload
from tests.test_api import run_collectors_once

ROOT = Path(__file__).resolve().parents[1]


def test_web_process_never_imports_a_source_adapter(redis_url, tmp_path):
    app_db = f"sqlite:///{tmp_path / 'app.db'}"
    probe = ("import gc, sys, dashboard.wsgi, sqlalchemy; "
             "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'simulator'"
             " or m.startswith('collectors.sources') or m.startswith('collectors.plugins')); "
             "urls = sorted({str(o.url) for o in gc.get_objects() if isinstance(o, sqlalchemy.engine.Engine)}); "
             "print(bad, urls)")
    env = dict(os.environ, REDIS_URL=redis_url, SOURCE_URL="sqlite:////nonexistent/dir/source.db", APP_DB_URL=app_db)
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"[] ['{app_db}']"


def _open_files(pid: int) -> set[str]:
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return {f.path for p in procs for f in p.open_files()}


def _post_json(url: str, body: dict) -> int:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(req, timeout=30).status


def test_web_server_opens_the_app_db_and_never_the_source_db(web_app, settings_env, redis_client, source_url,
                                                             tmp_path):
    run_collectors_once(settings_mod.load(), redis_client)
    source_file = source_url.removeprefix("sqlite:///")
    port = free_port()
    env = dict(os.environ, APP_DB_URL=f"sqlite:///{tmp_path / 'app.db'}")
    server = subprocess.Popen(web_argv("127.0.0.1", port, 1), cwd=ROOT, env=env)    # as app.py serves it
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/api/v1/versions", timeout=2)
                break
            except OSError:
                time.sleep(0.25)
        for path in ("/", "/region/PC01", "/warnings/PC01", "/api/v1/summary?region=PC01", "/api/v1/regions"):
            assert urllib.request.urlopen(base + path, timeout=30).status == 200
        for path in ("/region/PC01", "/warnings/PC01", "/wall"):
            assert _post_json(f"{base}/_dash-update-component", payload(web_app, "_pages_content.children", {
                "_pages_location.pathname": path, "_pages_location.search": ""})) == 200
        files = _open_files(server.pid)
        assert str(tmp_path / "app.db") in files
        assert source_file not in files
    finally:
        server.terminate()
        server.wait(30)


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
    assert body[ids.OV_RENDERED]["data"] == {"load": 99, "orders": 99, "outages": 99, "topology": None}


def test_unchanged_versions_send_nothing(web_app, settings_env, redis_client):
    run_collectors_once(settings_mod.load(), redis_client)
    client = web_app.server.test_client()
    same = {"load": 1, "orders": 1}
    resp = client.post("/_dash-update-component", json=payload(web_app, f"{ids.OV_LOAD}.children", {
        f"{ids.VERSIONS}.data": same, f"{ids.OV_REGION}.data": "PC", f"{ids.OV_RENDERED}.data": same,
        f"{ids.LANG}.data": "zh"}))
    assert resp.status_code == 204 and resp.get_data() == b""
