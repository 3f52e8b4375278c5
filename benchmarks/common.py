"""Shared pieces of the web-side benchmarks: the machine's state, percentiles, PASS/FAIL lines,
starting `python app.py` as the system under test, and running wrk against it.

Everything talks to 127.0.0.1 only, and every process a benchmark starts is stopped in a
`finally`, so a failed run leaves nothing behind.
"""
from __future__ import annotations

import json
import os
import platform
import re
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar
from datetime import datetime
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
PYTHON = sys.executable
HOST = "127.0.0.1"
WALL_TICK_MS = yaml.safe_load((ROOT / "config" / "wall.yaml").read_text())["tick_ms"]   # the kiosk screens' tick
OPEN_FILES = 65536       # 1,000 viewers are 1,000 sockets on each side
FLOOR_KEY = "bench:floor"  # floor_wsgi.py answers with this key (ratios_web.py fills it)


def bench_var(script: str, scale: str) -> Path:
    """A var dir kept between runs of one script, so the simulator resumes instead of backfilling."""
    return Path(os.environ.get("PEAKWATCH_BENCH_VAR", "/tmp/peakwatch-bench")) / f"{script}-{scale}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def raise_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(OPEN_FILES, hard) if hard != resource.RLIM_INFINITY else OPEN_FILES
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def machine() -> dict:
    """What the figures were measured on, with the load at that moment (the machine is shared)."""
    return {"date": datetime.now().isoformat(timespec="seconds"), "cpus": os.cpu_count(),
            "loadavg": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
            "kernel": platform.release()}


def print_machine(label: str = "machine") -> dict:
    m = machine()
    print(f"[{label}] {m['date']}  {m['cpus']} cpus  load {m['loadavg']}  python {m['python']}", flush=True)
    return m


def pct(values, q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    xs = sorted(values)
    if not xs:
        return None
    rank = max(1, min(len(xs), int(-(-q * len(xs) // 100))))
    return xs[rank - 1]


def verdict(figure: str, measured, target: str, ok: bool | None) -> bool | None:
    """One result line. ok=None: measured, but the target could not be judged (no data)."""
    mark = "PASS" if ok else ("FAIL" if ok is not None else "N/A ")
    print(f"  {mark}  {figure}: {measured}   (target {target})", flush=True)
    return ok


def http_get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.status, resp.read()


def wait_until(check, timeout_s: float, every: float = 0.25, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception:  # the server is still starting; keep asking until the deadline
            value = None
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")


def cpu_seconds(pids) -> float:
    """user+system CPU of these processes so far (a process that is gone counts 0)."""
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def kill_tree(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM the process we started (it stops its own children), then SIGKILL what is left."""
    if proc.poll() is not None:
        return
    try:
        kids = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        kids = []
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for k in kids:
        try:
            k.kill()
        except psutil.NoSuchProcess:
            pass


class Stack:
    """`python app.py` (embedded Valkey, simulator or a given SOURCE_URL, collectors, granian web
    with the production config) on a free loopback port. auth=True: sign-in required, as in
    production; every screen is a kiosk token's session (`entry()` opens a page with the token)."""

    def __init__(self, var_dir: Path, scale: str = "demo", workers: int = 2, env: dict | None = None,
                 args: list[str] | None = None, auth: bool = False):
        self.auth, self._token, self._jar = auth, None, CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self._jar))
        if auth:
            env = {**(env or {}), "PEAKWATCH_AUTH": "required"}
        self.var_dir = Path(var_dir)
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        clean = {k: v for k, v in os.environ.items()
                 if k not in ("REDIS_URL", "SOURCE_URL", "PEAKWATCH_CLOCK") and not k.startswith("PEAKWATCH_")}
        clean.update(PYTHONUNBUFFERED="1", **(env or {}))
        self.log_path = self.var_dir / "app.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [PYTHON, "app.py", "--port", str(self.port), "--workers", str(workers), "--scale", scale,
             "--var-dir", str(self.var_dir), *(args or [])],
            cwd=ROOT, env=clean, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=raise_open_files)

    def token(self) -> str:
        """A kiosk token (whole tree, default playlist) in this stack's app DB, made once."""
        if self._token is None:
            env = {**os.environ, "APP_DB_URL": f"sqlite:///{self.var_dir / 'app.db'}"}
            cmd = [PYTHON, "-m", "dashboard.users", "token-add", "bench-wall", "--scope", "*"]
            made = wait_until(lambda: subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                                                     check=True).stdout.strip(), 120, what="a kiosk token")
            self._token = made.splitlines()[-1]
        return self._token

    def entry(self, path: str) -> str:
        """The URL a screen opens: with auth, the kiosk token (exchanged for a session cookie)."""
        if not self.auth:
            return self.base + path
        return f"{self.base}{path}{'&' if '?' in path else '?'}token={self.token()}"

    def app_env(self) -> dict:
        """What an in-process copy of the web app needs to accept this stack's sessions."""
        if not self.auth:
            return {}
        return {"PEAKWATCH_AUTH": "required", "APP_DB_URL": f"sqlite:///{self.var_dir / 'app.db'}",
                "SECRET_KEY": (self.var_dir / "secret_key").read_text().strip()}

    def get(self, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
        """GET as a screen: with auth, the first call exchanges the kiosk token for a session."""
        if self.auth and not any(True for _ in self._jar):
            self._opener.open(self.entry("/wall?kiosk=1"), timeout=timeout).close()
        with self._opener.open(self.base + path, timeout=timeout) as resp:
            return resp.status, resp.read()

    def wait_live(self, timeout_s: float = 600.0, need=("load_mw", "repair_orders_today")) -> dict:
        def live():
            if self.proc.poll() is not None:
                raise SystemExit(f"app.py exited {self.proc.returncode}:\n{self.log_text()[-3000:]}")
            status, body = self.get("/api/v1/summary", timeout=5)
            summary = json.loads(body)
            return summary if status == 200 and all(summary.get(k) is not None for k in need) else None
        summary = wait_until(live, timeout_s, every=1.0, what="live numbers from app.py")
        self.warm_workers()
        return summary

    def warm_workers(self, per_worker: int = 10) -> None:
        """Render the index in every web worker. Dash registers its component libraries
        only when a process renders the index, so a worker whose first request is a script
        answers 500 ("dash is not a registered library"): a bug of the shipped multi-worker
        config that the benchmarks step around (reported in issue 7's note)."""
        for _ in range(per_worker * max(1, len(self.web_pids()) - 1)):
            self.get("/wall?kiosk=1" if self.auth else "/", timeout=30)    # a kiosk sees its playlist only

    def log_text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    @property
    def redis_url(self) -> str:
        m = re.search(r"embedded Valkey on (redis://\S+)", self.log_text())
        if not m:
            raise RuntimeError("app.py did not report its Valkey URL")
        return m.group(1)

    def _children(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)

    def child(self, marker: str) -> psutil.Process | None:
        """The child whose command line contains marker (e.g. '-m collectors')."""
        for p in self._children():
            try:
                if marker in " ".join(p.cmdline()):
                    return p
            except psutil.NoSuchProcess:
                pass
        return None

    def web_pids(self) -> list[int]:
        """The web server's process and its workers."""
        out = []
        for p in self._children():
            try:
                if "dashboard.wsgi" in " ".join(p.cmdline()):
                    out.append(p.pid)
            except psutil.NoSuchProcess:
                pass
        return out

    def pause(self, *markers: str) -> list[psutil.Process]:
        """SIGSTOP some children (e.g. the collectors), so nothing but viewers touches the source."""
        stopped = [p for p in map(self.child, markers) if p]
        for p in stopped:
            p.suspend()
        return stopped

    @staticmethod
    def resume(stopped) -> None:
        for p in stopped:
            try:
                p.resume()
            except psutil.NoSuchProcess:
                pass

    def stop(self) -> None:
        for p in self._children() if self.proc.poll() is None else []:
            try:
                p.resume()   # a stopped child cannot act on SIGTERM
            except psutil.NoSuchProcess:
                pass
        kill_tree(self.proc, timeout=30)
        self.log.close()


def web_server(app: str, port: int, workers: int, env: dict, log_path: Path, threads: int = 8) -> subprocess.Popen:
    """Another WSGI app (a peer, the floor route) under the production web server and flags."""
    sys.path.insert(0, str(ROOT))
    from app import web_argv
    return subprocess.Popen(web_argv(HOST, port, workers, threads, target=app, factory=False),
                            cwd=ROOT, env={**os.environ, **env}, stdout=open(log_path, "w"), stderr=subprocess.STDOUT,
                            preexec_fn=raise_open_files)


def process_pids(proc: subprocess.Popen) -> list[int]:
    try:
        return [proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))]
    except psutil.NoSuchProcess:
        return []
