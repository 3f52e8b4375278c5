"""Debian's Chromium through Playwright, with every console error and outside request recorded."""
from __future__ import annotations

import contextlib
import time
from urllib.parse import urlparse

from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]

# Drawn, and no callback pending in Dash's store (window.store; Dash 4 has no public API for it).
SETTLED = """(() => {
  const root = document.querySelector('#react-entry-point');
  if (!root || root.children.length === 0 || !window.store) { return false; }
  const callbacks = window.store.getState().callbacks || {};
  return ['requested', 'prioritized', 'blocked', 'executing', 'watched', 'executed']
    .every((k) => (callbacks[k] || []).length === 0);
})()"""


class Watched:
    """A page plus what it did wrong: console errors, page errors and requests to other hosts."""

    def __init__(self, page, base: str):
        self.page = page
        self.host = urlparse(base).netloc
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", self._request)

    def _request(self, req) -> None:
        netloc = urlparse(req.url).netloc
        if netloc and netloc != self.host and not req.url.startswith(("data:", "blob:")):
            self.outside.append(req.url)

    def wait_js(self, expression: str, timeout_ms: float = 30000) -> None:
        """Poll a JS expression from here (page.evaluate is not subject to the page's CSP, while
        wait_for_function's polling uses eval, which the app's CSP refuses)."""
        deadline = time.monotonic() + timeout_ms / 1000
        while not self.page.evaluate(expression):
            if time.monotonic() > deadline:
                raise TimeoutError(expression)
            self.page.wait_for_timeout(100)

    def settle(self, timeout_ms: float = 30000) -> None:
        """Wait until the layout is drawn and Dash has no callback asked for and not yet applied,
        twice 250 ms apart (a server answer queues a clientside callback after it, and Dash 4
        no longer marks loading components with data-dash-is-loading)."""
        deadline = time.monotonic() + timeout_ms / 1000
        quiet = 0
        while True:
            quiet = quiet + 1 if self.page.evaluate(SETTLED) else 0
            if quiet == 2:
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the page did not settle")
            self.page.wait_for_timeout(250 if quiet else 100)


@contextlib.contextmanager
def chromium(base: str, width: int = 1920, height: int = 1080, csp: bool = False):
    """csp=False lets page.wait_for_function work (its polling uses eval, which the app's CSP
    forbids); the security tests keep the CSP on and wait with Watched.wait_js."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            page = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=not csp).new_page()
            yield Watched(page, base)
        finally:
            browser.close()
