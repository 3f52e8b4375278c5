"""Issue 7 item 2: many screens against the production web tier (app.py's granian, several workers).

Each simulated screen is one wrk connection ticking at the wall's interval (config/wall.yaml), signed
in with a kiosk token's session cookie as a production wall is (--no-auth: dev mode).
Every tick is the versions GET a real Chromium sends, holding the ETag of the last answer as the
page does; a share of ticks (measured in the same browser session) also carries the wall's
refresh POST, replayed with one dataset (orders) moved. The collectors keep publishing during the
load levels. Then, with collectors and simulator paused (SIGSTOP), the top level runs again while
inotify counts every open/read of the source database: those are queries caused by viewers.
The unchanged tick's server time is timed in-process (the WSGI app, no HTTP) over many calls.

    .venv/bin/python benchmarks/viewers.py [--viewers 10,100,500,1000] [--seconds 30] [--workers N]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import capture, profile_web, wrkload
from benchmarks.common import WALL_TICK_MS, Stack, bench_var, print_machine, verdict
from benchmarks.servertime import time_endpoint
from config.settings import web_workers
from benchmarks.sourcewatch import SourceWatch, web_touches_source

P95_TARGET_MS = 50.0
SERVER_TARGET_MS = 2.0
SCALING_TARGET = 3.0
DEFAULT_SHARE = WALL_TICK_MS / 5000   # orders and outages publish at most every 5 s


def capture_wall(stack: Stack, seconds: float) -> tuple[wrkload.Request, wrkload.Request, float]:
    """The tick GET and the one-dataset-changed refresh POST of the wall, and refreshes per tick
    (as the session saw it; with no change in the session, one per fastest poll interval)."""
    with capture.browser_page() as page:
        seen = capture.record(page, stack.entry("/wall?kiosk=1"), seconds,
                              until=lambda c: capture.refreshes(c, '"rendered"', with_content=False))
    ticks, posts = capture.ticks(seen), capture.refreshes(seen, '"rendered"', with_content=False)
    changed = capture.refreshes(seen, '"rendered"')
    if not ticks or not posts:
        raise SystemExit(f"the browser session sent {len(ticks)} ticks and {len(posts)} refreshes: "
                         f"{[(c['method'], c['path'][:40], c['status']) for c in seen]}")
    share = min(1.0, len(changed) / len(ticks)) if changed else DEFAULT_SHARE
    return (wrkload.Request.from_capture(ticks[-1]),
            wrkload.Request.from_capture(capture.one_changed(posts[-1])), share)


def load_level(stack: Stack, tick, refresh, share: float, viewers: int, seconds: float) -> dict:
    return wrkload.screens(stack.port, tick, refresh, share, viewers, seconds, WALL_TICK_MS, stack.web_pids())


def report(res: dict) -> None:
    print(wrkload.line(f"{res['viewers']:>5} viewers: ticks (GET)", res["tick"]))
    if res["refresh"]:
        print(wrkload.line(f"{res['viewers']:>5} viewers: refresh POSTs", res["refresh"]))
    n = res["tick"]["requests"]
    print(f"        web CPU {res['cpu_s']:.1f} s over {res['wall_s']:.0f} s "
          f"({res['cpu_s'] / res['wall_s'] * 100:.0f}% of one core); {res['cpu_s'] / max(n, 1) * 1000:.2f} "
          "CPU s per 1,000 viewer-refreshes", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--viewers", default="10,100,500,1000")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--workers", type=int, default=web_workers(), help="default: as app.py ships")
    ap.add_argument("--scale", default="demo")
    ap.add_argument("--var-dir", default=None, help="the source DB's folder (default: reused under /tmp)")
    ap.add_argument("--profile", action="store_true", help="py-spy one worker at the top level")
    ap.add_argument("--no-auth", action="store_true",
                    help="dev mode (anonymous screens); default: sign-in required and a kiosk token, as in production")
    a = ap.parse_args(argv)
    levels = [int(x) for x in a.viewers.split(",")]
    var = Path(a.var_dir) if a.var_dir else bench_var("viewers", a.scale)
    print_machine("start")
    print(f"web: app.py's granian, {a.workers} workers x 8 threads"
          + ("; dev mode, anonymous screens" if a.no_auth else "; sign-in required, kiosk-token screens"))
    stack = Stack(var, scale=a.scale, workers=a.workers, auth=not a.no_auth)
    try:
        stack.wait_live()
        tick, refresh, share = capture_wall(stack, 24)
        print(f"captured from Chromium: tick GET {tick.path}; refresh POST {len(refresh.body)} bytes; "
              f"{share:.2f} refreshes per tick", flush=True)
        server = time_endpoint(stack.redis_url, "/api/v1/versions", calls=3000, headers=tick.headers,
                               env=stack.app_env())
        results = []
        for n in levels:     # live: the collectors publish meanwhile, so ticks carry real deltas
            prof = profile_web.start(stack.web_pids()[-1], a.seconds * 0.8, var / "profile.raw") \
                if a.profile and n == levels[-1] else None
            results.append(load_level(stack, tick, refresh, share, n, a.seconds))
            if prof:
                prof.wait(60)
                print(profile_web.summary(var / "profile.raw"))
        for r in results:
            report(r)
        # Source queries caused by viewers: with the collectors and the simulator paused, any
        # open or read of the source database during the top load is a viewer's.
        watch = SourceWatch(var / "source.db")
        paused = stack.pause("-m collectors", "-m simulator")
        try:
            time.sleep(1.0)
            watch.reset()
            load_level(stack, tick, refresh, share, levels[-1], min(a.seconds, 20))
            events = watch.drain()
            touches = web_touches_source(stack.web_pids(), var / "source.db")
        finally:
            stack.resume(paused)
            watch.close()
        print_machine("end")
        judge(results, server, events, touches)
    finally:
        stack.stop()
    return 0


def judge(results: list[dict], server: dict, events: dict, touches: list[str]) -> None:
    print("Results:")
    by_n = {r["viewers"]: r for r in results}
    top = by_n.get(1000) or results[-1]
    worst = max(top["tick"]["p95_ms"], top["refresh"]["p95_ms"] if top["refresh"] else 0)
    verdict(f"p95 at {top['viewers']} viewers (tick {top['tick']['p95_ms']:.1f} ms, refresh "
            f"{top['refresh']['p95_ms'] if top['refresh'] else 0:.1f} ms)", f"{worst:.1f} ms",
            f"<= {P95_TARGET_MS:.0f} ms", worst <= P95_TARGET_MS)
    verdict(f"unchanged tick, server time p50/p95 (answers {server['statuses']})",
            f"{server['p50_ms']:.2f} / {server['p95_ms']:.2f} ms",
            f"<= {SERVER_TARGET_MS} ms", server["p95_ms"] <= SERVER_TARGET_MS)
    queries = events["open"] + events["read"]
    verdict("source-DB opens+reads during viewer load (inotify), web processes holding it",
            f"{queries} events, {len(touches)} handles" + (f" {touches}" if touches else ""), "0",
            queries == 0 and not touches)
    if 10 in by_n and 1000 in by_n:
        ratio = by_n[1000]["tick"]["p95_ms"] / by_n[10]["tick"]["p95_ms"]
        verdict("scaling ratio p95(1,000)/p95(10), ticks", f"{ratio:.2f}x", f"<= {SCALING_TARGET}x",
                ratio <= SCALING_TARGET)


if __name__ == "__main__":
    sys.exit(main())
