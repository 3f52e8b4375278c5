"""py-spy on one web worker while the viewers load runs: where the web tier's time goes.
Writes collapsed stacks (flamegraph input) and prints the functions that hold most samples."""
from __future__ import annotations

import collections
import shutil
import subprocess
from pathlib import Path


def start(pid: int, seconds: float, out: Path) -> subprocess.Popen | None:
    exe = shutil.which("py-spy") or str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "py-spy")
    if not Path(exe).exists():
        print("py-spy missing: .venv/bin/pip install -r benchmarks/requirements.txt")
        return None
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200",
                             "--format", "raw", "--output", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summary(raw: Path, top: int = 25) -> str:
    """Inclusive share of samples per function (file:function), from py-spy's collapsed stacks."""
    inclusive, total = collections.Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = {f.split(" (")[0] + " " + (f.split("(")[-1].split(":")[0].rstrip(")").split("/")[-1] if "(" in f else "")
                  for f in stack.split(";")}
        for f in frames:
            inclusive[f] += n
    rows = [f"{n / total * 100:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    return f"{total} samples of one worker\n" + "\n".join(rows)
