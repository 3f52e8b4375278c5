"""Issue 7 item 4: bytes on the wire, and the first load of the overview in Chromium.

- An unchanged tick: the versions GET Chromium sends, replayed on a raw socket; every byte of the
  answer (status line, headers, body) is counted.
- A tick where one tile changed: the refresh POST Chromium sends, rewritten so one dataset moved
  (capture.one_changed), for the wall and the overview.
- First load: a fresh Chromium context opens the overview; bytes are the encodedDataLength (headers
  included) of every response until 3 s after the first number is on screen; time to the first
  number is from navigation start (performance.now()) to the first KPI figure with a digit.

    .venv/bin/python benchmarks/bytes_on_wire.py [--loads 5] [--scale demo] [--auth]

--auth: sign-in required as in production, the screens a kiosk token's session (the wall only: the
overview is not on a kiosk's playlist); every request then carries the session cookie.
"""
from __future__ import annotations

import argparse
import socket
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import capture
from benchmarks.common import HOST, Stack, bench_var, pct, print_machine, verdict
from benchmarks.wrkload import Request

TICK_TARGET = 200
TILE_TARGET = 2048
FIRST_NUMBER_TARGET_MS = 2000
FIRST_NUMBER_JS = """() => { const t = window.__pwFirstNumber; return t === undefined ? false : t; }"""
# Recorded in the page from the very start: when the first KPI figure with a digit appears.
WATCH_FIRST_NUMBER = """
new MutationObserver((_, obs) => {
  for (const el of document.querySelectorAll('.pw-big, .pw-ws-value')) {
    if (/[0-9]/.test(el.textContent)) { window.__pwFirstNumber = performance.now(); obs.disconnect(); return; }
  }
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


def raw_exchange(port: int, req: Request) -> tuple[int, int, bytes]:
    """Send one request as the browser did; bytes sent, bytes received (all of the answer), head."""
    body = (req.body or "").encode()
    head = [f"{req.method} {req.path} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: keep-alive",
            *(f"{k}: {v}" for k, v in req.headers.items())]
    if req.body is not None:
        head.append(f"Content-Length: {len(body)}")
    wire = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    with socket.create_connection((HOST, port), timeout=10) as s:
        s.sendall(wire)
        answer = _read_answer(s)
    return len(wire), len(answer), answer.split(b"\r\n\r\n", 1)[0]


def _read_answer(s: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, rest = data.split(b"\r\n\r\n", 1)
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(rest) < length:
        rest += s.recv(65536)
    return head + b"\r\n\r\n" + rest


def first_load(base: str, path: str = "/") -> dict:
    """One cold load in a fresh browser: bytes on the wire and ms to the first number."""
    with capture.browser_page() as page:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        sizes = {"bytes": 0, "requests": 0}
        cdp.on("Network.loadingFinished", lambda e: sizes.update(bytes=sizes["bytes"] + e["encodedDataLength"],
                                                                requests=sizes["requests"] + 1))
        page.add_init_script(WATCH_FIRST_NUMBER)
        page.goto(base + path)
        ms = page.wait_for_function(FIRST_NUMBER_JS, timeout=30000).json_value()
        page.wait_for_timeout(3000)
        return {"first_number_ms": ms, **sizes}


PAGES = (("overview", "/", "ov-rendered.data"), ("wall", "/wall?kiosk=1", '"rendered"'))


def capture_pages(stack: Stack) -> dict:
    """The tick GET and a refresh POST of the overview and of the wall (a kiosk: the wall only)."""
    out = {}
    for name, path, marker in PAGES[1:] if stack.auth else PAGES:
        with capture.browser_page() as page:
            seen = capture.record(page, stack.entry(path), 12,
                                  until=lambda c, m=marker: capture.refreshes(c, m, with_content=False))
        out[name] = {"tick": capture.ticks(seen)[-1], "refresh": capture.refreshes(seen, marker, with_content=False)}
    return out


def _with_etag(req: Request, etag: str | None) -> Request:
    headers = {k: v for k, v in req.headers.items() if k.lower() != "if-none-match"}
    if etag:
        headers["If-None-Match"] = etag
    return Request(req.method, req.path, headers, req.body)


def _etag(head: bytes) -> str | None:
    return next((line.split(b":", 1)[1].strip().decode() for line in head.split(b"\r\n")
                 if line.lower().startswith(b"etag:")), None)


def tick_sizes(port: int, tick: Request, samples: int, interval_s: float) -> tuple[int, list[int]]:
    """The unchanged tick: the browser's GET with the ETag it holds when nothing moved since (304).
    The everyday tick: the same GET with the ETag from one tick interval before, as a screen
    sends it: a delta of what moved in that interval (usually only as_of confirmations)."""
    _, _, head = raw_exchange(port, _with_etag(tick, None))
    _, unchanged, head304 = raw_exchange(port, _with_etag(tick, _etag(head)))
    print(f"unchanged tick: answer {unchanged} B incl. headers\n  {head304.decode(errors='replace')}")
    everyday = []
    etag = _etag(head304) or _etag(head)
    for _ in range(samples):
        time.sleep(interval_s)
        _, got, head = raw_exchange(port, _with_etag(tick, etag))
        everyday.append(got)
        etag = _etag(head) or etag
    return unchanged, everyday


def measure_ticks(stack: Stack, pages: dict, tick_s: float) -> dict:
    tick = Request.from_capture(pages.get("overview", pages["wall"])["tick"])
    unchanged, everyday = tick_sizes(stack.port, tick, 20, tick_s)
    print(f"everyday tick ({tick_s:g} s apart, 20 samples): {sorted(everyday)} B")
    sizes = {"tick": unchanged, "everyday": everyday}
    for name, pg in pages.items():
        if not pg["refresh"]:
            print(f"{name}: no refresh POST in the session")
            continue
        for ds in ("outages", "orders", "load"):
            post = Request.from_capture(capture.one_changed(pg["refresh"][-1], ds))
            s, g, _ = raw_exchange(stack.port, post)
            sizes[f"{name}:{ds}"] = g
            print(f"{name}, only {ds} changed: request {s} B, answer {g} B incl. headers")
    return sizes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument("--scale", default="demo")
    ap.add_argument("--tick-s", type=float, default=2.0, help="the screens' tick interval")
    ap.add_argument("--auth", action="store_true", help="production sign-in, kiosk screens (the wall)")
    a = ap.parse_args(argv)
    print_machine("start")
    stack = Stack(bench_var("bytes", a.scale), scale=a.scale, workers=2, auth=a.auth)
    first = "wall" if a.auth else "overview"
    try:
        stack.wait_live()
        sizes = measure_ticks(stack, capture_pages(stack), a.tick_s)
        loads = [first_load(stack.entry("/wall?kiosk=1" if a.auth else "/"), "") for _ in range(a.loads)]
        for i, r in enumerate(loads, 1):
            print(f"first load {i}: {r['bytes']:,} B in {r['requests']} responses, first number at "
                  f"{r['first_number_ms']:.0f} ms")
        m = print_machine("end")
    finally:
        stack.stop()
    print("Results:")
    verdict("unchanged tick on the wire", f"{sizes['tick']} B", f"<= {TICK_TARGET} B", sizes["tick"] <= TICK_TARGET)
    verdict("everyday tick (confirmations only, p50 / p95)",
            f"{pct(sizes['everyday'], 50):.0f} / {pct(sizes['everyday'], 95):.0f} B", "(recorded)", True)
    for key in ("wall:outages", "overview:outages"):
        if key in sizes:
            verdict(f"one tile changed ({key})", f"{sizes[key]} B", f"<= {TILE_TARGET} B", sizes[key] <= TILE_TARGET)
    p50 = pct([r["first_number_ms"] for r in loads], 50)
    worst = max(r["first_number_ms"] for r in loads)
    verdict(f"{first} first load: time to first number, median (worst)", f"{p50:.0f} ms ({worst:.0f} ms)",
            f"<= {FIRST_NUMBER_TARGET_MS} ms", p50 <= FIRST_NUMBER_TARGET_MS)
    verdict(f"{first} first load: bytes", f"{pct([r['bytes'] for r in loads], 50):,} B", "(recorded)", True)
    print(f"load average during the run: {m['loadavg']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
