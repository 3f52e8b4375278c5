"""Issue 7 item 6: the wall soak. Chromium runs the wall in kiosk mode (/wall?kiosk=1, the shipped
playlist, its rotation) at a 1 s tick for --minutes while the simulator and collectors keep the
data moving. Every --sample-s it forces a garbage collection (CDP HeapProfiler.collectGarbage) and
records the retained JS heap (performance.memory, --enable-precise-memory-info) and the DOM
counters (CDP Memory.getDOMCounters: nodes, documents, listeners), and prints the series.

Targets: JS heap growth <= 30 MB over the soak; a flat DOM node count (the last third's peak no
more than 10% over the first third's: the rotation visits the same pages in both).

    .venv/bin/python benchmarks/wall_soak.py [--minutes 60] [--sample-s 30]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import capture
from benchmarks.common import ROOT, Stack, bench_var, print_machine, verdict

HEAP_TARGET_MB = 30.0
DOM_FLAT = 1.10
TICK_MS = 1000


def wall_config(path: Path) -> Path:
    """The shipped playlist with a 1 s kiosk tick."""
    cfg = yaml.safe_load((ROOT / "config" / "wall.yaml").read_text(encoding="utf-8"))
    cfg["tick_ms"] = TICK_MS
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def sample(page, cdp) -> dict:
    cdp.send("HeapProfiler.collectGarbage")
    mem = page.evaluate("() => ({heap: performance.memory.usedJSHeapSize, origin: performance.timeOrigin,"
                        " path: location.pathname})")
    dom = cdp.send("Memory.getDOMCounters")
    return {"heap_mb": mem["heap"] / 2**20, "origin": mem["origin"], "path": mem["path"],
            "nodes": dom["nodes"], "documents": dom["documents"], "listeners": dom["jsEventListeners"]}


def soak(base: str, minutes: float, every_s: float) -> list[dict]:
    series = []
    with capture.browser_page() as page:
        page.goto(f"{base}/wall?kiosk=1")
        cdp = page.context.new_cdp_session(page)
        cdp.send("HeapProfiler.enable")
        page.wait_for_timeout(20_000)          # the first paint and the first ticks
        t0 = time.monotonic()
        while True:
            s = {"t_min": (time.monotonic() - t0) / 60, **sample(page, cdp)}
            series.append(s)
            print(f"{s['t_min']:6.1f} min  heap {s['heap_mb']:7.2f} MB  DOM nodes {s['nodes']:>6}  "
                  f"documents {s['documents']:>3}  listeners {s['listeners']:>5}  {s['path']}", flush=True)
            if s["t_min"] >= minutes:
                return series
            page.wait_for_timeout(every_s * 1000)


def judge(series: list[dict]) -> None:
    """The rotation shows pages of very different sizes, so like is compared with like: the heap
    at the rotation's home (/wall) first and last time there, and each page's DOM nodes the
    last time it was on screen against the first."""
    reloads = len({s["origin"] for s in series}) - 1
    home = [s for s in series if s["path"] == "/wall"] or series
    growth = home[-1]["heap_mb"] - home[0]["heap_mb"]
    by_path: dict[str, list[int]] = {}
    for s in series:
        by_path.setdefault(s["path"], []).append(s["nodes"])
    again = {p: v[-1] / v[0] for p, v in by_path.items() if len(v) > 1}
    worst = max(again.items(), key=lambda kv: kv[1], default=(None, 1.0))
    print(f"Results ({series[-1]['t_min']:.0f} min, {len(series)} samples, page reloads during the soak: {reloads}):")
    verdict("JS heap growth after GC, at /wall first vs last", f"{growth:+.2f} MB ({home[0]['heap_mb']:.1f} -> "
            f"{home[-1]['heap_mb']:.1f}; peak anywhere {max(s['heap_mb'] for s in series):.1f})",
            f"<= {HEAP_TARGET_MB:.0f} MB", growth <= HEAP_TARGET_MB)
    verdict("DOM nodes flat: each page's last visit vs its first (worst page)",
            f"{worst[1]:.2f}x ({worst[0]}; {len(again)} pages seen twice)", f"<= {DOM_FLAT:.2f}x",
            worst[1] <= DOM_FLAT if again else None)
    print(f"  documents {series[0]['documents']} -> {series[-1]['documents']}, listeners "
          f"{series[0]['listeners']} -> {series[-1]['listeners']}")
    if reloads:
        print("  note: a reload resets the heap; a soak with reloads says less about leaks")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--sample-s", type=float, default=30)
    ap.add_argument("--scale", default="demo")
    a = ap.parse_args(argv)
    print_machine("start")
    cfg = wall_config(Path(tempfile.mkdtemp(prefix="pw-soak-")) / "wall.yaml")
    stack = Stack(bench_var("soak", a.scale), scale=a.scale, workers=2,
                  env={"PEAKWATCH_WALL_CONFIG": str(cfg)})
    try:
        stack.wait_live()
        series = soak(stack.base, a.minutes, a.sample_s)
    finally:
        stack.stop()
    print_machine("end")
    judge(series)
    return 0


if __name__ == "__main__":
    sys.exit(main())
