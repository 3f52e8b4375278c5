"""python -m simulator: build or resume the simulated source systems, then run live."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from datetime import datetime

from config import settings
from config.clock import ENV_VAR, Clock

from .engine import Simulation


def parse(argv=None) -> argparse.Namespace:
    s = settings.load()
    p = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    p.add_argument("--url", default=s.source_url, help="SQLAlchemy URL of the source database")
    p.add_argument("--scale", default=s.scale, choices=["tiny", "small", "demo", "province"])
    p.add_argument("--scenario", default=s.scenario, choices=["normal", "heatwave", "typhoon"])
    p.add_argument("--seed", type=int, default=s.seed)
    p.add_argument("--speed", type=float, default=None,
                   help="replay speed (simulated seconds per real second); ignored if PEAKWATCH_CLOCK is set")
    p.add_argument("--start", default=None, help="replay start, ISO datetime in CST (default: now)")
    p.add_argument("--backfill-days", type=float, default=None,
                   help="days of orders/outages/events history (default: per scale)")
    p.add_argument("--rebuild", action="store_true", help="rebuild even if the database matches")
    p.add_argument("--tick", type=float, default=2.0, help="real seconds between writes")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def make_clock(args) -> Clock:
    if os.environ.get(ENV_VAR):
        return Clock.from_env()
    if args.start is None and (args.speed is None or args.speed == 1.0):
        return Clock()
    origin = datetime.fromisoformat(args.start) if args.start else Clock().now()
    return Clock(origin=origin, speed=args.speed or 1.0)


def main(argv=None) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s simulator %(levelname)s %(message)s", stream=sys.stderr)
    stop = threading.Event()
    booting = [True]

    def _stop(signum, _frame):
        stop.set()
        if booting[0]:
            # mid-backfill: leave now; the half-built database is marked not ready and rebuilt
            raise SystemExit(0)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

    clock = make_clock(args)
    t0 = time.time()
    sim = Simulation(args.url, scale=args.scale, scenario=args.scenario, seed=args.seed)
    how = sim.bootstrap(clock.now(), backfill_days=args.backfill_days, rebuild=args.rebuild)
    print(f"simulator: {how} {args.scale}/{args.scenario} seed {args.seed}, "
          f"{len(sim.topo.tareas)} 台区, {sim.topo.customers} customers, {time.time() - t0:.1f} s",
          file=sys.stderr, flush=True)
    print("simulator ready", flush=True)
    booting[0] = False
    try:
        sim.run(clock, stop, tick_s=args.tick)
    finally:
        sim.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
