"""Collector throughput: poll-to-publish time per cycle for each collector, and peak RSS.

The simulator (own process) writes the heatwave's 40 °C afternoon into a SQLite source; this
process runs every collector plug-in against it, stepping simulated time in 5 s steps and running
each collector on its own interval, exactly as the scheduler would. A cycle is timed from the
start of its poll to the end of its Redis publish (Runner.run_once).

    .venv/bin/python benchmarks/collectors_cycle.py --scale demo --minutes 20
    .venv/bin/python benchmarks/collectors_cycle.py --scale province --minutes 10

Targets (issue 7): city p95 <= 0.3 s per collector; province p95 <= 2 s for AMI load and
<= 0.3 s for work orders and events; collector process RSS <= 1.5 GB at province scale.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectors.base import Context  # noqa: E402
from collectors.embedded_redis import EmbeddedRedis  # noqa: E402
from collectors.plugins import REGISTRY  # noqa: E402
from collectors.redis_schema import connect  # noqa: E402
from collectors.runner import Runner  # noqa: E402
from collectors.sources.adapter import SourceAdapter  # noqa: E402
from config import settings as settings_mod  # noqa: E402
from config.clock import Clock  # noqa: E402

TARGETS = {"demo": {"*": 0.3}, "province": {"ami": 2.0, "orders": 0.3, "events": 0.3, "outages": 0.3}}


class ManualClock(Clock):
    """The benchmark decides what time it is."""

    def __init__(self, at: datetime):
        super().__init__(origin=at, speed=1.0)
        self.at = at

    def now(self) -> datetime:
        return self.at


class SimWorker:
    def __init__(self, url: str, scale: str, scenario: str, seed: int):
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "sim_worker.py"), url,
                                      scale, scenario, str(seed)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def call(self, line: str) -> float:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().split()
        if not answer or answer[0] != "ok":
            raise RuntimeError(f"simulator worker failed on {line!r}")
        return float(answer[1])

    def close(self) -> None:
        try:
            self.call("quit")
        except (RuntimeError, BrokenPipeError):
            pass
        self.proc.wait(30)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def redis_breakdown(client) -> dict[str, float]:
    """MEMORY USAGE summed per key family (pw:ds:orders, pw:wh:*, ...), in MB. SAMPLES 0: every
    field is counted (the default estimates a hash from 5 fields: 7x off on the sensitive list)."""
    sizes: dict[str, int] = {}
    for key in client.scan_iter(count=1000):
        parts = key.split(":")
        family = ":".join(parts[:3]) if parts[1] == "ds" else ":".join(parts[:2])
        sizes[family] = sizes.get(family, 0) + (client.memory_usage(key, samples=0) or 0)
    return {k: round(v / 2**20, 2) for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])}


def redis_families(client) -> dict[str, dict]:
    """Per key family: keys, entries (hash fields, zset/list members) and MEMORY USAGE in MB."""
    out: dict[str, dict] = {}
    for key in client.scan_iter(count=1000):
        parts = key.split(":")
        family = ":".join(parts[:3]) if parts[1] == "ds" else ":".join(parts[:2])
        kind = client.type(key)
        n = {"hash": client.hlen, "zset": client.zcard, "list": client.llen, "set": client.scard}.get(kind)
        fam = out.setdefault(family, {"keys": 0, "entries": 0, "bytes": 0})
        fam["keys"] += 1
        fam["entries"] += n(key) if n else 1
        fam["bytes"] += client.memory_usage(key, samples=0) or 0   # every field (the default samples 5)
    return {k: {"keys": v["keys"], "entries": v["entries"], "mb": round(v["bytes"] / 2**20, 3),
                "bytes_per_entry": round(v["bytes"] / max(v["entries"], 1))}
            for k, v in sorted(out.items(), key=lambda kv: -kv[1]["bytes"])}


def current_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def parse_intervals(spec: str | None) -> dict[str, float]:
    """"*=3600,warnings=900" -> {"*": 3600.0, "warnings": 900.0}."""
    out = {}
    for part in filter(None, (spec or "").split(",")):
        name, _, value = part.partition("=")
        out[name.strip()] = float(value)
    return out


def summarise(durations: dict[str, list[float]], bootstrap: dict[str, float]) -> dict:
    out = {}
    for name, values in durations.items():
        ok = [v for v in values if not np.isnan(v)]
        if not ok:
            out[name] = {"cycles": len(values), "p50_s": None, "p95_s": None, "max_s": None,
                         "bootstrap_s": round(bootstrap[name], 3)}
            continue
        arr = np.array(ok)
        out[name] = {"cycles": len(values), "failed": len(values) - len(ok),
                     "p50_s": round(float(np.percentile(arr, 50)), 4),
                     "p95_s": round(float(np.percentile(arr, 95)), 4),
                     "max_s": round(float(arr.max()), 4), "bootstrap_s": round(bootstrap[name], 3)}
    return out


def run(args) -> dict:
    db = Path(args.db or ROOT / "benchmarks" / "out" / f"source-{args.scale}-{args.scenario}.db")
    db.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{db}"
    start = datetime.fromisoformat(args.start)
    began = time.perf_counter()
    sim = SimWorker(url, args.scale, args.scenario, args.seed)
    redis_server = EmbeddedRedis(maxmemory="8gb").start()
    try:
        built = sim.call(f"bootstrap {start.isoformat()} {args.backfill_days}")
        print(f"source ready in {built:.1f} s ({db.stat().st_size / 1e6:.0f} MB)", flush=True)
        os.environ.update(REDIS_URL=redis_server.url, SOURCE_URL=url)
        settings = settings_mod.load()
        clock = ManualClock(start)
        client = connect(redis_server.url, timeout_s=30)
        ctx = Context(SourceAdapter(url, 120.0), clock, settings)
        wanted = set(args.only.split(",")) if args.only else None
        runners = [Runner(cls(ctx), client) for cls in REGISTRY if wanted is None or cls.name in wanted]
        bootstrap = {}
        for r in runners:                      # the first cycle of each reads its whole window
            t = time.perf_counter()
            if not r.run_once():
                raise RuntimeError(f"{r.collector.name}: {r.health['last_error']}")
            bootstrap[r.collector.name] = time.perf_counter() - t
            print(f"bootstrap {r.collector.name:12s} {bootstrap[r.collector.name]:6.1f} s, rss "
                  f"{current_rss_mb():.0f} MB, peak so far {peak_rss_mb():.0f} MB", flush=True)
        durations = {r.collector.name: [] for r in runners}
        cpu_times = {r.collector.name: [] for r in runners}   # CPU of this thread: robust to a busy machine
        override = parse_intervals(args.intervals)
        interval = {r.collector.name: override.get(r.collector.name, override.get("*", r.collector.interval_s))
                    for r in runners}
        next_due = {r.collector.name: start + timedelta(seconds=interval[r.collector.name]) for r in runners}
        sim_s = 0.0
        profiler = cProfile.Profile()
        end = start + timedelta(minutes=args.minutes)
        step = timedelta(seconds=args.step_seconds)
        while clock.at < end:
            clock.at += step
            step_sim = sim.call(f"advance {clock.at.isoformat()}")
            sim_s += step_sim
            ran = []
            for r in runners:
                if args.every_step or clock.at >= next_due[r.collector.name]:
                    next_due[r.collector.name] += timedelta(seconds=interval[r.collector.name])
                    ran.append(r.collector.name)
                    t, cpu = time.perf_counter(), time.thread_time()
                    profiling = args.profile == r.collector.name
                    if profiling:
                        profiler.enable()
                    ok = r.run_once()
                    if profiling:
                        profiler.disable()
                    durations[r.collector.name].append(time.perf_counter() - t if ok else np.nan)
                    cpu_times[r.collector.name].append(time.thread_time() - cpu if ok else np.nan)
            if args.progress:
                print(f"{clock.at.isoformat()} sim {step_sim:.1f} s, ran {','.join(ran) or '-'}; elapsed "
                      f"{time.perf_counter() - began:.0f} s, rss {current_rss_mb():.0f} MB, redis "
                      f"{client.info('memory')['used_memory'] / 2**20:.1f} MB", flush=True)
        if args.profile:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"collectors/", 25)
        memory = client.info("memory")
        used = memory["used_memory"]
        by_prefix = redis_breakdown(client)
        families = redis_families(client) if args.families else None
        return {"scale": args.scale, "scenario": args.scenario, "start": args.start,
                "simulated_minutes": args.minutes, "simulator_s": round(sim_s, 1),
                "collectors": summarise(durations, bootstrap), "cpu": summarise(cpu_times, bootstrap), "peak_rss_mb": round(peak_rss_mb()),
                "redis_used_mb": round(used / 2**20, 1), "redis_by_prefix_mb": by_prefix,
                **({"redis_families": families, "redis_peak_mb": round(memory["used_memory_peak"] / 2**20, 1),
                    "rss_end_mb": round(current_rss_mb()), "run_s": round(time.perf_counter() - began, 1),
                    "intervals_s": interval} if args.families else {}),
                "loadavg": os.getloadavg(),
                "rejected": {r.collector.name: r.health["rejected_total"] for r in runners}}
    finally:
        sim.close()
        redis_server.stop()


def verdict(result: dict) -> list[str]:
    targets = TARGETS.get(result["scale"], {})
    lines = []
    for name, fig in result["collectors"].items():
        if fig["p50_s"] is None:
            lines.append(f"{name:12s} no cycle in this window (bootstrap {fig['bootstrap_s']:.2f} s)")
            continue
        limit = targets.get(name, targets.get("*"))
        mark = "" if limit is None else (" PASS" if fig["p95_s"] <= limit else " FAIL") + f" (target {limit} s)"
        cpu = result["cpu"][name]
        lines.append(f"{name:12s} cycles {fig['cycles']:4d}  wall p50 {fig['p50_s']:.3f} p95 {fig['p95_s']:.3f}"
                     f" max {fig['max_s']:.3f} s | cpu p50 {cpu['p50_s']:.3f} p95 {cpu['p95_s']:.3f} s"
                     f" | bootstrap {fig['bootstrap_s']:.2f} s{mark}")
    rss_target = 1500 if result["scale"] == "province" else None
    lines.append(f"peak RSS {result['peak_rss_mb']} MB" +
                 ("" if rss_target is None else (" PASS" if result["peak_rss_mb"] <= rss_target else " FAIL")
                  + f" (target {rss_target} MB)"))
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", default="demo", choices=["tiny", "small", "demo", "province"])
    p.add_argument("--scenario", default="heatwave")
    p.add_argument("--seed", type=int, default=20260715)
    p.add_argument("--start", default="2026-07-15T13:00:00", help="simulated start (CST), the heat peak")
    p.add_argument("--minutes", type=float, default=20, help="simulated minutes to run")
    p.add_argument("--backfill-days", type=int, default=35)
    p.add_argument("--step-seconds", type=float, default=5, help="simulated seconds per step")
    p.add_argument("--every-step", action="store_true",
                   help="run every collector at every step (memory runs with long steps)")
    p.add_argument("--intervals", help="schedule these collectors every S simulated seconds instead of their"
                   " own interval: NAME=S,... ('*' for the rest), e.g. '*=3600,warnings=900'")
    p.add_argument("--progress", action="store_true", help="print a line per step")
    p.add_argument("--families", action="store_true",
                   help="also report keys/entries/MB per Redis key family, Redis peak, end RSS and run time")
    p.add_argument("--db", help="SQLite file for the source (default benchmarks/out/...)")
    p.add_argument("--json", help="also write the result here")
    p.add_argument("--only", help="comma-separated collectors to run (default: all); include what they read: topology for all, outages for events")
    p.add_argument("--profile", help="cProfile the cycles of this collector and print the top calls")
    args = p.parse_args()
    result = run(args)
    print("\n".join(verdict(result)))
    print(json.dumps(result, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
