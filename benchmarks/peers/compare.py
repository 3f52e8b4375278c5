"""Issue 7 item 7: Peakwatch against the obvious alternative (peers/overview_sql.py), side by side
in one run, on the same source database and the same viewer load (N screens ticking every 2 s).

Both servers run at once with the same web server configuration (app.web_argv); the load alternates between them
(Peakwatch, peer, Peakwatch, peer, ...) so machine noise falls on both. Per phase: wrk latency,
CPU seconds of the web processes (psutil), and source-database statements: the peer counts its
own; Peakwatch's viewers send none (its web tier has no driver), and its collectors' reads are
counted with inotify (one connection per read).

    .venv/bin/python benchmarks/peers/compare.py [--viewers 200] [--seconds 30] [--rounds 2]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import capture, wrkload
from benchmarks.common import (WALL_TICK_MS, Stack, bench_var, cpu_seconds, free_port, web_server, http_get,
                               kill_tree, print_machine, process_pids, verdict, wait_until)
from benchmarks.sourcewatch import SourceWatch

CHEAPER_TARGET = 20.0
DEFAULT_SHARE = WALL_TICK_MS / 5000


def start_peer(db: Path, workers: int) -> tuple:
    port, counts = free_port(), Path(tempfile.mkdtemp(prefix="pw-peer-"))
    proc = web_server("benchmarks.peers.overview_sql:server", port, workers,
                    {"SOURCE_DB": str(db), "PEER_COUNT_DIR": str(counts), "PEER_TICK_MS": str(WALL_TICK_MS)},
                    counts / "web.log")
    wait_until(lambda: http_get(f"http://127.0.0.1:{port}/")[0] == 200, 60, what="the peer server")
    return proc, port, counts


def peer_counts(counts: Path) -> tuple[int, int]:
    """Statements sent and refreshes served, over all peer workers."""
    pairs = [f.read_text().split() for f in counts.glob("q.*")]
    pairs = [p for p in pairs if len(p) == 2]   # a file being rewritten right now reads empty
    return sum(int(q) for q, _ in pairs), sum(int(r) for _, r in pairs)


def drain(counts: Path, timeout_s: float = 60) -> None:
    """Wait until the peer stops serving the requests queued when wrk stopped (they would
    otherwise eat into the next Peakwatch phase)."""
    last, deadline = peer_counts(counts), time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(2)
        now = peer_counts(counts)
        if now == last:
            return
        last = now


def capture_requests(stack: Stack, peer_port: int) -> dict:
    with capture.browser_page() as page:
        seen = capture.record(page, f"{stack.base}/", 10,
                              until=lambda c: capture.refreshes(c, "ov-rendered.data", with_content=False))
    posts = capture.refreshes(seen, "ov-rendered.data", with_content=False)
    changed = capture.refreshes(seen, "ov-rendered.data")
    ticks = capture.ticks(seen)
    with capture.browser_page() as page:
        peer_seen = capture.record(page, f"http://127.0.0.1:{peer_port}/", 6)
    peer_posts = [c for c in peer_seen if c["method"] == "POST" and "kpi-load" in (c["output"] or "")]
    if not (ticks and posts and peer_posts):
        raise SystemExit(f"capture incomplete: {len(ticks)} ticks, {len(posts)} refreshes, {len(peer_posts)} peer")
    return {"tick": wrkload.Request.from_capture(ticks[-1]),
            "refresh": wrkload.Request.from_capture(capture.one_changed(posts[-1], "orders")),
            "share": min(1.0, len(changed) / len(ticks)) if changed else DEFAULT_SHARE,
            "peer": wrkload.Request.from_capture(peer_posts[-1])}


def phase_peakwatch(stack, req, viewers, seconds, watch) -> dict:
    watch.reset()
    collectors = stack.child("-m collectors")
    c0 = cpu_seconds([collectors.pid])
    r = wrkload.screens(stack.port, req["tick"], req["refresh"], req["share"], viewers, seconds, WALL_TICK_MS,
                        stack.web_pids())
    r["collector_cpu_s"] = cpu_seconds([collectors.pid]) - c0
    r["refreshes"] = r["tick"]["requests"]
    r["queries"] = 0    # the web tier has no source driver; shown by viewers.py and test_web_reads_redis_only
    r["collector_reads"] = watch.drain()["open"]
    return r


def phase_peer(proc, port, counts, req, viewers, seconds) -> dict:
    q0, n0 = peer_counts(counts)
    r = wrkload.screens(port, None, req["peer"], 1.0, viewers, seconds, WALL_TICK_MS, process_pids(proc))
    q1, n1 = peer_counts(counts)
    r["tick"], r["refreshes"], r["queries"] = r["refresh"], n1 - n0, q1 - q0
    drain(counts)
    return r


def show(name: str, r: dict) -> None:
    print(wrkload.line(f"{name} {r['viewers']} viewers", r["tick"]))
    if name == "peakwatch" and r["refresh"]:
        print(wrkload.line("          + refresh POSTs", r["refresh"]))
    per_k = r["cpu_s"] / max(r["refreshes"], 1) * 1000
    extra = (f", collectors {r['collector_cpu_s']:.1f} s, {r['collector_reads'] / r['wall_s'] * 60:.0f} "
             "collector source reads/min" if "collector_cpu_s" in r else "")
    print(f"          web CPU {r['cpu_s']:.1f} s for {r['refreshes']} refreshes served = {per_k:.2f} s per 1,000 "
          "viewer-refreshes; viewer source "
          f"queries {r['queries'] / r['wall_s'] * 60:.0f}/min{extra}", flush=True)


def summarize(runs: dict) -> dict:
    def total(name, key):
        return sum(r[key] for r in runs[name])
    pw_k = total("peakwatch", "cpu_s") / total("peakwatch", "refreshes") * 1000
    pw_all_k = (total("peakwatch", "cpu_s") + total("peakwatch", "collector_cpu_s")) / total("peakwatch", "refreshes") * 1000
    peer_k = total("peer", "cpu_s") / max(total("peer", "refreshes"), 1) * 1000
    pw_p95 = max(max(r["tick"]["p95_ms"], r["refresh"]["p95_ms"] if r["refresh"] else 0) for r in runs["peakwatch"])
    peer_p95 = max(r["tick"]["p95_ms"] for r in runs["peer"])
    return {"pw_cpu_k": pw_k, "pw_all_cpu_k": pw_all_k, "peer_cpu_k": peer_k, "pw_p95": pw_p95, "peer_p95": peer_p95,
            "peer_qpm": total("peer", "queries") / total("peer", "wall_s") * 60,
            "pw_reads_pm": total("peakwatch", "collector_reads") / total("peakwatch", "wall_s") * 60}


def judge(s: dict, viewers: int) -> dict:
    ratio, ratio_all = s["peer_cpu_k"] / s["pw_cpu_k"], s["peer_cpu_k"] / s["pw_all_cpu_k"]
    verdict("peer ratio: CPU s per 1,000 viewer-refreshes, peer / Peakwatch web",
            f"{s['peer_cpu_k']:.1f} / {s['pw_cpu_k']:.2f} = {ratio:.0f}x", f">= {CHEAPER_TARGET:.0f}x",
            ratio >= CHEAPER_TARGET)
    print(f"        (Peakwatch web + collectors: {s['pw_all_cpu_k']:.2f} s per 1,000 = {ratio_all:.0f}x at {viewers} viewers)")
    verdict(f"p95 at {viewers} viewers, Peakwatch vs peer", f"{s['pw_p95']:.1f} ms vs {s['peer_p95']:.1f} ms",
            "Peakwatch lower", s["pw_p95"] < s["peer_p95"])
    verdict("source-DB queries per minute caused by viewers, Peakwatch vs peer",
            f"0 vs {s['peer_qpm']:.0f} (Peakwatch collectors: {s['pw_reads_pm']:.0f} reads/min, any number of viewers)",
            "(recorded)", True)
    return {**s, "ratio": ratio, "ratio_all": ratio_all}


def run(viewers: int, seconds: float, rounds: int, workers: int, scale: str) -> dict:
    var = bench_var("peers", scale)
    stack = Stack(var, scale=scale, workers=workers)
    peer = None
    try:
        stack.wait_live()
        peer = start_peer(var / "source.db", workers)
        req = capture_requests(stack, peer[1])
        print(f"Peakwatch: tick GET + refresh POST on {req['share']:.2f} of ticks; peer: one POST per tick", flush=True)
        watch = SourceWatch(var / "source.db")
        runs = {"peakwatch": [], "peer": []}
        for _ in range(rounds):
            runs["peakwatch"].append(phase_peakwatch(stack, req, viewers, seconds, watch))
            show("peakwatch", runs["peakwatch"][-1])
            runs["peer"].append(phase_peer(*peer, req, viewers, seconds))
            show("peer     ", runs["peer"][-1])
            time.sleep(2)
        watch.close()
        return summarize(runs)
    finally:
        if peer:
            kill_tree(peer[0])
        stack.stop()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--viewers", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scale", default="demo")
    a = ap.parse_args(argv)
    print_machine("start")
    s = run(a.viewers, a.seconds, a.rounds, a.workers, a.scale)
    print_machine("end")
    print("Results:")
    judge(s, a.viewers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
