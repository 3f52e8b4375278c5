"""Redis memory after 24 h of simulated data, replayed fast, with the retention rules on.

Runs the collector benchmark over 24 simulated hours in 5-min steps with every collector at every
step (what Redis holds depends on retention, not on how often it is refreshed), then prints
used_memory and a breakdown per key family.

    .venv/bin/python benchmarks/redis_memory.py --scale demo
    .venv/bin/python benchmarks/redis_memory.py --scale province

Target (issue 7): province <= 1 GB.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    args = sys.argv[1:] or ["--scale", "demo"]
    sys.exit(subprocess.call([sys.executable, str(ROOT / "benchmarks" / "collectors_cycle.py"), *args,
                              "--minutes", "1440", "--step-seconds", "300", "--every-step"]))
