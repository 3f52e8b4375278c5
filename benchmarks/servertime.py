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


def wsgi_app(redis_url: str):
    os.environ["REDIS_URL"] = redis_url
    from dashboard.wsgi import server   # built here, so it reads the REDIS_URL just set
    return server


def call(app, environ: dict) -> tuple[str, int]:
    status = []
    body = app(dict(environ), lambda s, h, exc=None: status.append(s))
    size = sum(len(chunk) for chunk in body)
    getattr(body, "close", lambda: None)()
    return status[0], size


def time_endpoint(redis_url: str, path: str, calls: int = 3000, method: str = "GET", body: str | None = None) -> dict:
    from werkzeug.test import EnvironBuilder
    app = wsgi_app(redis_url)
    environ = EnvironBuilder(path=path, method=method, data=body,
                             content_type="application/json" if body else None).get_environ()
    if body:
        environ["wsgi.input"] = None   # re-made per call below
    samples = []
    for i in range(WARMUP + calls):
        env = dict(environ)
        if body:
            import io
            env["wsgi.input"] = io.BytesIO(body.encode())
        t0 = time.perf_counter()
        status, size = call(app, env)
        if i >= WARMUP:
            samples.append((time.perf_counter() - t0) * 1000)
    return {"path": path, "status": status, "bytes": size, "calls": calls,
            "p50_ms": pct(samples, 50), "p95_ms": pct(samples, 95), "p99_ms": pct(samples, 99),
            "mean_ms": sum(samples) / len(samples)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--redis", required=True)
    ap.add_argument("--path", default="/api/v1/versions")
    ap.add_argument("--calls", type=int, default=3000)
    a = ap.parse_args()
    r = time_endpoint(a.redis, a.path, a.calls)
    print(f"{r['path']}: {r['status']}, {r['bytes']} B body, {r['calls']} calls: p50 {r['p50_ms']:.3f} ms, "
          f"p95 {r['p95_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms, mean {r['mean_ms']:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
