"""Server time of one endpoint: the Flask/Dash WSGI app called in-process against the live Redis,
many times, from the WSGI call until the last body byte (no HTTP parsing, no network): what a
request costs the web tier itself.

    .venv/bin/python benchmarks/servertime.py --redis redis://127.0.0.1:PORT/0 [--path /api/v1/versions]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import pct

WARMUP = 200


def wsgi_app(redis_url: str, env: dict | None = None):
    os.environ.update(REDIS_URL=redis_url, **(env or {}))
    from dashboard.wsgi import server   # built here, so it reads the REDIS_URL just set
    return server


def call(app, environ: dict) -> tuple[str, int, dict]:
    seen = []
    body = app(dict(environ), lambda s, h, exc=None: seen.append((s, dict(h))))
    size = sum(len(chunk) for chunk in body)
    getattr(body, "close", lambda: None)()
    return seen[0][0], size, seen[0][1]


def time_endpoint(redis_url: str, path: str, calls: int = 3000, method: str = "GET", body: str | None = None,
                  headers: dict | None = None, env: dict | None = None) -> dict:
    """For the tick (a GET), each call holds the ETag of the previous answer, as a screen does, so
    the figure is the unchanged tick's (a 304) except when the data moved in between. headers:
    e.g. a kiosk screen's session cookie (with env: the stack's app DB and SECRET_KEY)."""
    import io

    from werkzeug.test import EnvironBuilder
    app = wsgi_app(redis_url, env)
    keep = {k: v for k, v in (headers or {}).items() if k.lower() == "cookie"}
    environ = EnvironBuilder(path=path, method=method, data=body, headers=keep,
                             content_type="application/json" if body else None).get_environ()
    samples, statuses, etag = [], {}, None
    for i in range(WARMUP + calls):
        env = dict(environ)
        if body:
            env["wsgi.input"] = io.BytesIO(body.encode())
        if etag:
            env["HTTP_IF_NONE_MATCH"] = etag
        t0 = time.perf_counter()
        status, size, headers = call(app, env)
        if i >= WARMUP:
            samples.append((time.perf_counter() - t0) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
        etag = headers.get("ETag", etag) if method == "GET" else None
    return {"path": path, "status": status, "statuses": statuses, "bytes": size, "calls": calls,
            "p50_ms": pct(samples, 50), "p95_ms": pct(samples, 95), "p99_ms": pct(samples, 99),
            "mean_ms": sum(samples) / len(samples)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--redis", required=True)
    ap.add_argument("--path", default="/api/v1/versions")
    ap.add_argument("--calls", type=int, default=3000)
    a = ap.parse_args()
    r = time_endpoint(a.redis, a.path, a.calls)
    print(f"{r['path']}: {r['statuses']}, {r['bytes']} B body, {r['calls']} calls: p50 {r['p50_ms']:.3f} ms, "
          f"p95 {r['p95_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms, mean {r['mean_ms']:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
