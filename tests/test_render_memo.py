"""One render per change for every screen on the same view: identical refresh requests from the
same kind of viewer are answered from the memo; anything that decides the answer differently
(scope, role, language, theme, the body) renders afresh, and so does a non-refresh callback."""
from __future__ import annotations

import json
import time

import pytest
from flask import Flask, g, jsonify, request

from dashboard import render_memo
from dashboard.security.principal import Principal

REFRESH = {"output": "ov-load.children", "inputs": [{"id": "versions", "property": "data", "value": {"orders": 3}}],
           "state": [{"id": "ov-region", "property": "data", "value": "PC"}]}
FORM = {"output": "ack-out.children", "inputs": [{"id": "ack-submit", "property": "n_clicks", "value": 1}]}


@pytest.fixture
def app():
    server = Flask(__name__)
    server.renders = 0

    @server.before_request
    def guard():                     # stands in for the security guard: who is asking
        scope = request.headers.get("X-Scope")
        if scope == "refused":
            return jsonify({"error": "outside your scope"}), 403
        g.principal = Principal("user", "u", request.headers.get("X-Role", "viewer"), scope or None)

    memo = render_memo.install(server, ttl_s=0.5)

    @server.post(render_memo.CALLBACK)
    def callback():
        server.renders += 1
        if request.get_json().get("fail"):
            return jsonify({"error": "boom"}), 500
        return jsonify({"render": server.renders})

    server.memo = memo
    return server


def post(client, body, **headers):
    return client.post(render_memo.CALLBACK, data=json.dumps(body), content_type="application/json", headers=headers)


def test_identical_refreshes_render_once(app):
    client = app.test_client()
    answers = {post(client, REFRESH).get_json()["render"] for _ in range(20)}
    assert answers == {1} and app.renders == 1 and app.memo.hits == 19


def test_whatever_decides_the_answer_renders_afresh(app):
    client = app.test_client()
    post(client, REFRESH)
    post(client, REFRESH, **{"X-Scope": "PC01"})
    post(client, REFRESH, **{"X-Role": "operator"})
    client.set_cookie("pw_lang", "en")
    post(client, REFRESH)
    client.set_cookie("pw_theme", "dark")
    post(client, REFRESH)
    moved = {**REFRESH, "inputs": [{"id": "versions", "property": "data", "value": {"orders": 4}}]}
    post(client, moved)
    assert app.renders == 6


def test_forms_errors_and_refusals_are_never_kept(app):
    client = app.test_client()
    post(client, FORM)
    post(client, FORM)
    assert app.renders == 2
    failing = {**REFRESH, "fail": True}
    assert post(client, failing).status_code == 500 and post(client, failing).status_code == 500
    assert app.renders == 4
    assert post(client, REFRESH, **{"X-Scope": "refused"}).status_code == 403
    assert app.renders == 4


def test_an_answer_expires(app):
    client = app.test_client()
    post(client, REFRESH)
    time.sleep(0.6)
    assert post(client, REFRESH).get_json()["render"] == 2


def test_byte_budget_evicts_oldest():
    memo = render_memo.RenderMemo(ttl_s=60, max_entries=100, max_bytes=250)
    for i in range(5):
        memo.put(bytes([i]), b"x" * 100)
    assert memo.get(bytes([0])) is None and memo.get(bytes([4])) == b"x" * 100
    assert memo._bytes <= 250
