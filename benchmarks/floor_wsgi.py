"""The floor-ratio harness, NOT shipped: the production WSGI app (dashboard.wsgi:server) with one
extra bare route in the same Flask server, /bench/floor, that answers with a single Redis GET of
the bytes the versions tick last sent (ratios_web.py stores them under FLOOR_KEY). The tick and
the floor then differ only in the tick's own work: the same web server (granian, as app.py runs it),
Flask, scope guard, socket and Redis.

    REDIS_URL=redis://127.0.0.1:PORT/0 granian --interface wsgi benchmarks.floor_wsgi:server
"""
from __future__ import annotations

import os

import redis
from flask import Response

from benchmarks.common import FLOOR_KEY
from dashboard.wsgi import server


_client = redis.Redis.from_url(os.environ["REDIS_URL"])


def floor() -> Response:
    return Response(_client.get(FLOOR_KEY) or b"{}", mimetype="application/json")


# The app factory's warm-up request (dashboard.create_app) marks Flask's set-up as done; this
# harness adds its one route after it, before the server takes any request.
server._got_first_request = False
server.add_url_rule("/bench/floor", "bench_floor", floor)
