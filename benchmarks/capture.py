"""Capture the refresh-tick requests a real Chromium sends (Debian's chromium via Playwright), so
the load generators replay exactly what screens send: the versions GET and the page's refresh
POST to /_dash-update-component.

    .venv/bin/python benchmarks/capture.py --base http://127.0.0.1:8050 --path "/wall?kiosk=1"
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from urllib.parse import urlparse

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright

from benchmarks.common import HOST

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
        "--enable-precise-memory-info", "--disable-renderer-backgrounding",
        "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows"]
TICK_PATH = "/api/v1/versions"
UPDATE_PATH = "/_dash-update-component"


@contextlib.contextmanager
def browser_page(width: int = 1920, height: int = 1080):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def _local_only(page) -> None:
    """Refuse any request that is not to the loopback server under test."""
    page.route("**/*", lambda route: route.continue_() if urlparse(route.request.url).hostname in (HOST, "localhost")
               or route.request.url.startswith(("data:", "blob:")) else route.abort())


def record(page, url: str, seconds: float, until=None, max_seconds: float = 120) -> list[dict]:
    """Open url, stay for seconds (and longer, up to max_seconds, until `until(captured)` holds),
    and return every tick and refresh request with its answer."""
    seen = []
    page.on("requestfinished", lambda req: seen.append(req))
    _local_only(page)
    page.goto(url)
    page.wait_for_timeout(seconds * 1000)
    waited = seconds
    while until and waited < max_seconds and not until([c for c in map(_describe, list(seen)) if c]):
        page.wait_for_timeout(2000)
        waited += 2
    return [c for c in map(_describe, seen) if c]


def _describe(req) -> dict | None:
    u = urlparse(req.url)
    if u.path not in (TICK_PATH, UPDATE_PATH):
        return None
    resp = req.response()
    body = req.post_data
    out = json.loads(body).get("output") if body else None
    try:
        answer = resp.body()
    except Exception:  # the browser dropped the body (navigation); its size is then unknown
        answer = b""
    return {"method": req.method, "path": u.path + (f"?{u.query}" if u.query else ""),
            "headers": req.all_headers(), "body": body, "output": out, "status": resp.status,
            "response_headers": resp.headers, "response": answer.decode("utf-8", "replace"),
            "at": req.timing.get("startTime")}


def refreshes(captured: list[dict], rendered_marker: str, with_content: bool = True) -> list[dict]:
    """The refresh POSTs of one page (their output list names the page's rendered-versions store);
    with_content: only those that answered with content (a tick where a tile changed)."""
    return [c for c in captured if c["method"] == "POST" and c["output"] and rendered_marker in c["output"]
            and (not with_content or (c["status"] == 200 and c["response"]))]


def ticks(captured: list[dict]) -> list[dict]:
    return [c for c in captured if c["path"] == TICK_PATH]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True)
    ap.add_argument("--path", default="/")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--out", default="-")
    a = ap.parse_args()
    if urlparse(a.base).hostname not in (HOST, "localhost"):
        raise SystemExit("only 127.0.0.1")
    with browser_page() as page:
        captured = record(page, a.base + a.path, a.seconds)
    text = json.dumps(captured, ensure_ascii=False, indent=1)
    (sys.stdout.write(text + "\n") if a.out == "-" else Path(a.out).write_text(text))
    print(f"{len(ticks(captured))} ticks, {sum(c['method'] == 'POST' for c in captured)} POSTs", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())


def one_changed(post: dict, dataset: str = "orders") -> dict:
    """A captured refresh POST rewritten so that exactly one dataset moved since the page was
    rendered (rendered = versions, but one version behind for `dataset`): the server does the
    work of a tick where that dataset's tiles changed, every time it is replayed."""
    body = json.loads(post["body"])
    versions = body["inputs"][0]["value"]
    rendered = next(s for s in body["state"] if _is_rendered(s["id"]))
    rendered["value"] = {**versions, dataset: versions[dataset] - 1}
    return {**post, "body": json.dumps(body, ensure_ascii=False, separators=(",", ":"))}


def _is_rendered(ident) -> bool:
    return ident == "ov-rendered" or (isinstance(ident, dict) and ident.get("type") == "rendered")
