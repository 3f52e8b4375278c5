"""`python -m collectors`: one scheduler process that runs every collector plug-in.

Each plug-in is an APScheduler interval job with max_instances=1, coalesce=True and jitter.
The topology loads first (every other collector rolls up along its tree). Then every other
collector's first cycle, which reads its whole window, runs in plug-in order, one at a time; each
collector joins the schedule as soon as its bootstrap is done, so its data stays fresh while the
others bootstrap.
"""
from __future__ import annotations

import logging
import signal
import sys
import threading
import time

from apscheduler.schedulers.background import BackgroundScheduler

from collectors import heap
from collectors.base import Context
from collectors.domain.warning_rules import RulesError
from collectors.plugins import REGISTRY
from collectors.redis_schema import connect
from collectors.runner import Runner
from collectors.sources.adapter import SourceAdapter
from collectors.watchdog import Watchdog
from config import settings as settings_mod
from config.clock import Clock

log = logging.getLogger("collectors")


def build_runners(settings, clock, client) -> list[Runner]:
    ctx = Context(source=SourceAdapter(settings.source_url, settings.source_timeout_s),
                  clock=clock, settings=settings)
    return [Runner(cls(ctx), client) for cls in REGISTRY]


def wait_for_topology(runner: Runner, stopping) -> None:
    """The tree comes first; retry with backoff until the customer files can be read."""
    delay = 0.5
    while not stopping() and not runner.run_once():
        time.sleep(delay)
        delay = min(delay * 2, 10.0)


def bootstrap_in_turn(runners: list[Runner], stopping, then) -> None:
    """One bootstrap at a time, then `then(runner)`. Started together in the scheduler's threads
    they stacked their transient peaks in one heap, and gained nothing: they are Python and
    share one GIL."""
    for r in runners:
        if stopping():
            return
        r.run_once()
        then(r)


def schedule(scheduler, runner: Runner) -> None:
    interval = runner.collector.interval_s
    scheduler.add_job(runner.run_once, "interval", seconds=interval, id=runner.collector.name,
                      jitter=min(interval * 0.1, 2.0))


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s collectors %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per run is noise
    heap.limit_arenas()
    settings = settings_mod.load()
    if not settings.redis_url:
        log.error("REDIS_URL is not set (python app.py starts an embedded server and sets it)")
        return 2
    clock = Clock.from_env()
    try:
        runners = build_runners(settings, clock, connect(settings.redis_url))
    except RulesError as exc:   # never run on half a rules file: name the line, and stop
        log.error("refusing to start: %s", exc)
        return 2
    stopping = threading.Event()
    scheduler = BackgroundScheduler(job_defaults={"max_instances": 1, "coalesce": True,
                                                  "misfire_grace_time": 30})

    def shutdown(signum, _frame):
        stopping.set()
    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)

    client = runners[0].client
    watchdog = Watchdog(runners, client, hang_after_s=settings.hang_after_s)
    wait_for_topology(runners[0], stopping.is_set)
    if stopping.is_set():
        return 0
    watchdog.check_wipe()   # claims the epoch for this process
    watchdog.start()
    scheduler.start()
    schedule(scheduler, runners[0])
    bootstrap_in_turn(runners[1:], stopping.is_set, lambda r: schedule(scheduler, r))
    log.info("collectors running: %s", ", ".join(r.collector.name for r in runners))
    stopping.wait()
    scheduler.shutdown(wait=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
