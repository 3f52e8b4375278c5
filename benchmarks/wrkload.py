"""Simulated screens with wrk: each connection is one viewer ticking at a fixed interval
(benchmarks/lua/viewer.lua), replaying a request captured from a real browser."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import BENCH, HOST, raise_open_files

LUA = BENCH / "lua" / "viewer.lua"
SKIP_HEADERS = {"content-length", "host", "connection", "accept-encoding"}


@dataclass
class Request:
    """One captured request: what the browser sent (headers without hop-by-hop ones)."""
    method: str
    path: str
    headers: dict
    body: str | None = None

    @classmethod
    def from_capture(cls, raw: dict) -> "Request":
        headers = {k: v for k, v in raw["headers"].items() if k.lower() not in SKIP_HEADERS and not k.startswith(":")}
        return cls(raw["method"], raw["path"], headers, raw.get("body"))


def wrk_binary() -> str:
    exe = shutil.which("wrk")
    if not exe:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    return exe


def start(port: int, req: Request, viewers: int, seconds: float, tick_ms: int, threads: int = 2) -> tuple:
    """Start wrk in the background; finish() collects its figures."""
    threads = max(1, min(threads, viewers))
    work = Path(tempfile.mkdtemp(prefix="pw-wrk-"))
    (work / "headers").write_text("".join(f"{k}: {v}\n" for k, v in req.headers.items()))
    env = {**os.environ, "PW_METHOD": req.method, "PW_PATH": req.path, "PW_TICK_MS": str(tick_ms),
           "PW_CONNS": str(-(-viewers // threads)), "PW_HEADERS": str(work / "headers"), "PW_BODY": ""}
    if req.body is not None:
        (work / "body").write_text(req.body)
        env["PW_BODY"] = str(work / "body")
    cmd = [wrk_binary(), "-t", str(threads), "-c", str(viewers), "-d", f"{seconds:.0f}s", "--timeout", "10s",
           "-s", str(LUA), f"http://{HOST}:{port}{req.path}"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=raise_open_files)
    return proc, work


def finish(handle) -> dict:
    proc, work = handle
    try:
        out, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    line = next((ln for ln in out.splitlines() if ln.startswith("PWJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{out[-2000:]}")
    r = json.loads(line[len("PWJSON "):])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["errors"] = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    for k in ("p50", "p90", "p95", "p99", "max"):
        r[k + "_ms"] = r[k] / 1000.0
    return r


def run(port: int, req: Request, viewers: int, seconds: float, tick_ms: int, threads: int = 2) -> dict:
    return finish(start(port, req, viewers, seconds, tick_ms, threads))


def line(label: str, r: dict) -> str:
    return (f"{label:<34} {r['requests']:>7} req {r['rps']:>7.1f} rps  p50 {r['p50_ms']:7.2f}  "
            f"p95 {r['p95_ms']:7.2f}  p99 {r['p99_ms']:7.2f}  max {r['max_ms']:7.1f} ms  errors {r['errors']}"
            + (f" (connect {r['connect']} read {r['read']} write {r['write']} status {r['status']} "
               f"timeout {r['timeout']})" if r["errors"] else ""))


def screens(port: int, tick: Request | None, refresh: Request | None, share: float, viewers: int,
            seconds: float, tick_ms: int, pids) -> dict:
    """N screens at once: N connections ticking (tick) plus N*share connections sending the refresh
    POST at the same interval; the CPU the given server processes spent meanwhile."""
    from benchmarks.common import cpu_seconds
    cpu0, t0 = cpu_seconds(pids), time.monotonic()
    posters = round(viewers * share) if refresh else 0
    h_tick = start(port, tick, viewers, seconds, tick_ms) if tick else None
    h_post = start(port, refresh, posters, seconds, tick_ms) if posters else None
    r_tick = finish(h_tick) if h_tick else None
    r_post = finish(h_post) if h_post else None
    return {"viewers": viewers, "tick": r_tick, "refresh": r_post, "cpu_s": cpu_seconds(pids) - cpu0,
            "wall_s": time.monotonic() - t0}
