"""Start `python app.py` as a real process for end-to-end tests, and wait until it serves."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from collectors.embedded_redis import free_port

ROOT = Path(__file__).resolve().parents[1]
FAST_INTERVALS = {"PEAKWATCH_INTERVAL_ORDERS": "1", "PEAKWATCH_INTERVAL_OUTAGES": "1",
                  "PEAKWATCH_INTERVAL_EVENTS": "1", "PEAKWATCH_INTERVAL_SCADA": "2",
                  "PEAKWATCH_INTERVAL_AMI": "5", "PEAKWATCH_INTERVAL_WEATHER": "5",
                  "PEAKWATCH_INTERVAL_TOPOLOGY": "10", "PEAKWATCH_TICK_MS": "1000"}


def get_json(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.status, json.loads(resp.read())


class AppProcess:
    def __init__(self, var_dir: Path, extra_env: dict | None = None, args: list[str] | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items()
               if k not in ("REDIS_URL", "SOURCE_URL", "PEAKWATCH_CLOCK", "APP_DB_URL")}   # app.py's own, under var_dir
        env.update(FAST_INTERVALS, PEAKWATCH_SCALE="tiny", PYTHONUNBUFFERED="1", **(extra_env or {}))
        self.log = open(var_dir / "app.log", "w")
        self.proc = subprocess.Popen([sys.executable, "app.py", "--port", str(self.port), "--workers", "1",
                                      "--var-dir", str(var_dir), *(args or [])],
                                     cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_live(self, timeout_s: float = 240.0, need=("load_mw", "repair_orders_today"),
                  fresh: bool = False) -> dict:
        """Until the city summary has load and order numbers (live data, not just a server), and
        with `fresh`, until no dataset of the summary is stale (every collector has published)."""
        deadline = time.monotonic() + timeout_s
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}: {self.log_text()[-3000:]}")
            try:
                status, last = get_json(f"{self.base}/api/v1/summary")
                if status == 200 and all(last.get(k) is not None for k in need) \
                        and not (fresh and last.get("stale")):
                    return last
            except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
                pass
            time.sleep(0.5)
        raise TimeoutError(f"no live numbers; last summary {last}; log:\n{self.log_text()[-3000:]}")

    def log_text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
