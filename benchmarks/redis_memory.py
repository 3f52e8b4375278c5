"""Redis memory after 24 h of simulated data, replayed fast, with the retention rules on.

Runs the collector benchmark (collectors_cycle.py) over 24 simulated hours and prints used_memory
and a breakdown per key family (keys, entries, MB, bytes per entry), Redis' peak, the collectors
process RSS (peak and at the end) and the run time.

    .venv/bin/python benchmarks/redis_memory.py --scale demo --start 2026-07-15T13:01:00
    .venv/bin/python benchmarks/redis_memory.py --scale province --start 2026-07-15T13:03:05 --db COPY.db

Replays (`--replay`):
  hourly (default)  the simulator steps 15 min at a time; every collector catches up from its
                    watermark once per simulated hour, except the warnings, which evaluate at
                    their real cadence (every 15 min, config/warnings.yaml). What a pw:ds:*
                    dataset holds is rebuilt whole from the collector's state on each publish, and
                    that state is a function of the source rows and the retention windows, not of
                    how often it is refreshed. The family that grows per run is the warning
                    history (pw:wh:<node>: one entry per change of level at an evaluation), and
                    the hysteresis counts evaluations "in a row" only when they are <= 45 min
                    apart: so the warnings keep their own cadence. pw:rejects depends on the poll
                    cadence a little (a row polled in a transient bad state every 5 min may be
                    past it an hour later) and is capped at 2,000 entries (~175 B each, 0.35 MB).
                    Checked on demo 6 h against every collector every 5 min with the warnings
                    every 15 min: same used_memory (10.0 MB), same entries in every family
                    (pw:wh 190 = 190) except pw:rejects 387 vs 421 and pw:ds:sensitive 833 vs 834.
                    Province 24 h: ~1.5 h here (load 7-20) instead of ~14 h.
  5min              every collector at every 5-min step (the first version: ~14 h at province).
  hour-all          every collector, warnings included, once per simulated hour (shows what the
                    warnings' cadence changes: with evaluations 60 min apart no level is ever
                    reached, so pw:wh stays empty).

`--hours` sets the simulated span (default 24); other options go to collectors_cycle.py.

Target (issue 7): province <= 1 GB.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

REPLAYS = {
    "hourly": ["--step-seconds", "900", "--intervals", "*=3600,warnings=900"],
    "5min": ["--step-seconds", "300", "--every-step"],
    "hour-all": ["--step-seconds", "3600", "--every-step"],
}

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], add_help=False)
    p.add_argument("--replay", choices=sorted(REPLAYS), default="hourly")
    p.add_argument("--hours", type=float, default=24)
    own, rest = p.parse_known_args()
    if "-h" in rest or "--help" in rest:
        print(__doc__)
        sys.exit(0)
    rest = rest or ["--scale", "demo"]
    sys.exit(subprocess.call([sys.executable, str(ROOT / "benchmarks" / "collectors_cycle.py"), *rest,
                              "--minutes", str(own.hours * 60), *REPLAYS[own.replay],
                              "--families", "--progress"]))
