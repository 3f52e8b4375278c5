"""Issue 7 item 1, the production shape: peak RSS of the real `python -m collectors` process.

collectors_cycle.py runs every collector in one thread, in turn, under a stepped clock. The
shipped process schedules them in APScheduler's threads, so its heap can differ (thread arenas,
overlapping cycles). This starts `python -m collectors` on a source database that holds still
(nothing writes to it: a copy of a simulated source), with its clock at the source's time, and
samples its RSS until every collector has bootstrapped and for the rest of the window.

    .venv/bin/python benchmarks/collectors_process.py --db COPY.db --start 2026-07-15T13:03:05 [--seconds 240]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import PYTHON, ROOT, print_machine
from collectors.embedded_redis import EmbeddedRedis
from collectors.plugins import REGISTRY
from collectors.redis_schema import HEALTH, connect

RSS_TARGET_MB = 1500
PLUGINS = [cls.name for cls in REGISTRY]


def sample(proc: psutil.Process, client, seconds: float) -> dict:
    began, peak, bootstrapped, health, rss = time.time(), 0.0, None, {}, 0.0
    while time.time() - began < seconds and proc.is_running():
        rss = proc.memory_info().rss / 2**20
        peak = max(peak, rss)
        health = {k: json.loads(v) for k, v in client.hgetall(HEALTH).items()}
        done = all(health.get(name, {}).get("cycles_ok", 0) >= 1 for name in PLUGINS)
        if bootstrapped is None and done:
            bootstrapped = {"after_s": round(time.time() - began), "rss_mb": round(rss), "peak_mb": round(peak)}
            print(f"every collector bootstrapped after {bootstrapped['after_s']} s: rss {rss:.0f} MB, "
                  f"peak so far {peak:.0f} MB", flush=True)
        time.sleep(0.25)
    return {"peak_mb": round(peak), "end_mb": round(rss), "bootstrapped": bootstrapped,
            "cycles_ok": {k: h.get("cycles_ok") for k, h in health.items()},
            "errors": {k: h["last_error"] for k, h in health.items() if h.get("last_error")}}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", required=True, help="SQLite source file (a copy; it is only read)")
    p.add_argument("--start", required=True, help="the source's simulated time (CST), e.g. 2026-07-15T13:03:05")
    p.add_argument("--seconds", type=float, default=240)
    args = p.parse_args()
    print_machine("start")
    redis_server = EmbeddedRedis(maxmemory="4gb").start()
    env = {**os.environ, "REDIS_URL": redis_server.url, "SOURCE_URL": f"sqlite:///{Path(args.db).resolve()}",
           "PEAKWATCH_CLOCK": f"{args.start}|1.0|{time.time()}"}
    proc = subprocess.Popen([PYTHON, "-m", "collectors"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        result = sample(psutil.Process(proc.pid), connect(redis_server.url), args.seconds)
    finally:
        proc.terminate()
        proc.wait(30)
        redis_server.stop()
    print_machine("end")
    print(json.dumps(result))
    verdict = "PASS" if result["peak_mb"] <= RSS_TARGET_MB else "FAIL"
    print(f"  {verdict}  collectors process peak RSS over {args.seconds:.0f} s: {result['peak_mb']} MB"
          f"   (target <= {RSS_TARGET_MB} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
