"""Issue 7 item 8, web side: the ratios, each measured side by side in one run (the machine is
shared and noisy, so both sides of a ratio see the same noise).

- floor ratio: the unchanged tick (/api/v1/versions) against /bench/floor, one Redis GET of the
  same bytes, in the same web server and Flask app (benchmarks/floor_wsgi.py), same concurrency,
  alternating A/B/A/B. Target <= 2x (p95; p50 and CPU per request are printed too).
- scaling ratio: p95 of the tick at 1,000 viewers against 10 viewers. Target <= 3x.
- peer ratio: benchmarks/peers/compare.py (CPU per viewer-refresh; p95 at 200 viewers).
- glass ratio: benchmarks/time_to_glass.py (p95 against the poll interval). Target <= 1.2x.

    .venv/bin/python benchmarks/ratios_web.py [--seconds 30] [--only floor,scaling,peer,glass]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis

from benchmarks import time_to_glass, wrkload
from benchmarks.common import (FLOOR_KEY, WALL_TICK_MS, Stack, bench_var, free_port, web_server, http_get, kill_tree,
                               print_machine, process_pids, verdict, wait_until)
from config.settings import web_workers

from benchmarks.peers import compare
from benchmarks.viewers import capture_wall

FLOOR_TARGET, SCALING_TARGET = 2.0, 3.0


def start_harness(stack: Stack, workers: int):
    port = free_port()
    proc = web_server("benchmarks.floor_wsgi:server", port, workers, {"REDIS_URL": stack.redis_url, **stack.app_env()},
                    stack.var_dir / "harness.log")
    wait_until(lambda: http_get(f"http://127.0.0.1:{port}/login")[0] == 200, 60, what="the harness")
    return proc, port


def floor_ratio(stack: Stack, tick: wrkload.Request, viewers: int, seconds: float, rounds: int, workers: int) -> None:
    proc, port = start_harness(stack, workers)
    try:
        redis.Redis.from_url(stack.redis_url).set(FLOOR_KEY, stack.get("/api/v1/versions")[1])
        floor = wrkload.Request("GET", "/bench/floor", tick.headers)
        sides = {"tick": [], "floor": []}
        for _ in range(rounds):
            for name, req in (("tick", tick), ("floor", floor)):
                r = wrkload.screens(port, req, None, 0, viewers, seconds, WALL_TICK_MS, process_pids(proc))
                r["tick"]["cpu_ms_per_req"] = r["cpu_s"] / max(r["tick"]["requests"], 1) * 1000
                sides[name].append(r["tick"])
                print(wrkload.line(f"{name:<5} {viewers} viewers", r["tick"]) +
                      f"  CPU {r['tick']['cpu_ms_per_req']:.2f} ms/req", flush=True)
    finally:
        kill_tree(proc)
    worst = {k: max(x["p95_ms"] for x in v) for k, v in sides.items()}
    mid = {k: max(x["p50_ms"] for x in v) for k, v in sides.items()}
    cpu = {k: sum(x["cpu_ms_per_req"] for x in v) / len(v) for k, v in sides.items()}
    print(f"  floor: p50 tick/floor {mid['tick']:.2f}/{mid['floor']:.2f} ms = {mid['tick'] / mid['floor']:.2f}x; "
          f"CPU per request {cpu['tick']:.2f}/{cpu['floor']:.2f} ms = {cpu['tick'] / cpu['floor']:.2f}x")
    verdict(f"floor ratio: p95 unchanged tick / bare Redis GET route at {viewers} viewers",
            f"{worst['tick']:.2f}/{worst['floor']:.2f} ms = {worst['tick'] / worst['floor']:.2f}x",
            f"<= {FLOOR_TARGET}x", worst["tick"] / worst["floor"] <= FLOOR_TARGET)


def scaling_ratio(stack, tick, refresh, share, seconds: float) -> None:
    res = {}
    for n in (10, 1000, 10):
        r = wrkload.screens(stack.port, tick, refresh, share, n, seconds, WALL_TICK_MS, stack.web_pids())
        print(wrkload.line(f"{n:>5} viewers: ticks", r["tick"]))
        if r["refresh"]:
            print(wrkload.line(f"{n:>5} viewers: refresh POSTs", r["refresh"]), flush=True)
        res.setdefault(n, []).append(r["tick"]["p95_ms"])
    low, high = max(res[10]), res[1000][0]
    verdict("scaling ratio: tick p95 at 1,000 viewers / at 10 (worse of two 10-viewer runs)",
            f"{high:.1f}/{low:.1f} ms = {high / low:.2f}x", f"<= {SCALING_TARGET}x", high / low <= SCALING_TARGET)


def web_ratios(a, parts: set[str]) -> None:
    stack = Stack(bench_var("ratios", a.scale), scale=a.scale, workers=a.workers, auth=True)   # kiosk screens
    try:
        stack.wait_live()
        tick, refresh, share = capture_wall(stack, 16)
        paused = stack.pause("-m collectors", "-m simulator")   # a quiet source: only viewers work
        try:
            if "floor" in parts:
                floor_ratio(stack, tick, a.floor_viewers, a.seconds, 2, a.workers)
            if "scaling" in parts:
                scaling_ratio(stack, tick, refresh, share, a.seconds)
        finally:
            stack.resume(paused)
    finally:
        stack.stop()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--workers", type=int, default=web_workers(), help="default: as app.py ships")
    ap.add_argument("--scale", default="demo")
    ap.add_argument("--floor-viewers", type=int, default=1000)
    ap.add_argument("--inserts", type=int, default=30)
    ap.add_argument("--only", default="floor,scaling,peer,glass")
    a = ap.parse_args(argv)
    parts = set(a.only.split(","))
    print_machine("start")
    if parts & {"floor", "scaling"}:
        web_ratios(a, parts)
    if "peer" in parts:
        compare.judge(compare.run(200, a.seconds, 2, a.workers, a.scale), 200)
    if "glass" in parts:
        time_to_glass.judge(time_to_glass.run(a.inserts, 5.0, WALL_TICK_MS), 5.0, WALL_TICK_MS)
    print_machine("end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
