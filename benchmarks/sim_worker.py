"""A simulator in its own process, driven line by line on stdin: `bootstrap ISO DAYS`,
`advance ISO`, `quit`. Each command answers `ok <seconds>` on stdout.

Benchmarks use it so that the collectors' process holds only the collectors (its RSS is theirs).
"""
from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator import Simulation  # noqa: E402


def main(url: str, scale: str, scenario: str, seed: int) -> None:
    sim = Simulation(url, scale=scale, scenario=scenario, seed=seed)
    for line in sys.stdin:
        cmd, *args = line.split()
        started = time.perf_counter()
        if cmd == "bootstrap":
            sim.bootstrap(datetime.fromisoformat(args[0]), backfill_days=int(args[1]))
        elif cmd == "advance":
            sim.advance(datetime.fromisoformat(args[0]))
        elif cmd == "quit":
            break
        print(f"ok {time.perf_counter() - started:.3f}", flush=True)
    sim.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
