"""Each web worker is its own process: one whose first request is a script bundle (not the
page) must still serve it. Dash registers its bundles while rendering the index page, so the app
factory renders it once per process."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_fresh_worker_serves_scripts_before_any_page(web_app, redis_url):
    web_app.server.test_client().get("/")
    # every bundle this app registered, including the chunks the renderer loads lazily later
    # (source maps are listed but not shipped; browsers ask for them only with devtools open)
    scripts = [f"/_dash-component-suites/{ns}/{path}" for ns, paths in web_app.registered_paths.items()
               for path in sorted(paths) if not path.endswith(".map")]
    assert len(scripts) > 5
    probe = ("import sys, dashboard.wsgi as w; c = w.server.test_client(); "
             "print(*[c.get(u).status_code for u in sys.argv[1:]])")
    env = dict(os.environ, REDIS_URL=redis_url)
    out = subprocess.run([sys.executable, "-c", probe, *scripts], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert set(out.stdout.split()) == {"200"}, out.stdout


def test_a_fresh_worker_has_every_callback_before_its_first_request(redis_url):
    """Dash moves callbacks into the callback map on its first request and marks that done before
    it is; threads of a fresh worker racing that first request answered 500. The factory runs it."""
    probe = ("import dashboard.wsgi as w; m = w.app.callback_map; "
             "print(len(m), any('_pages_content.children' in k for k in m), "
             "any('\"page\":\"wall\"' in k for k in m))")
    env = dict(os.environ, REDIS_URL=redis_url)
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    count, router, wall = out.stdout.split()
    assert int(count) > 20 and router == "True" and wall == "True", out.stdout


def test_the_server_gets_each_answer_whole_and_the_body_is_closed(web_app):
    """dashboard.serve.whole_body: the same status, headers and bytes as the app's own iterator,
    in one piece, and the app's body closed (Flask's teardown runs on close)."""
    from dashboard.serve import whole_body
    closed = []

    class Body:
        def __init__(self, inner):
            self.inner = inner

        def __iter__(self):
            return iter(self.inner)

        def close(self):
            closed.append(True)
            getattr(self.inner, "close", lambda: None)()

    def tracked(environ, start_response):
        return Body(web_app.server(environ, start_response))

    from werkzeug.test import EnvironBuilder
    for path in ("/assets/peakwatch.js", f"/_dash-component-suites/{next(iter(web_app.registered_paths))}/"
                 f"{sorted(next(iter(web_app.registered_paths.values())))[0]}"):
        seen = []
        body = whole_body(tracked)(EnvironBuilder(path=path).get_environ(), lambda s, h, e=None: seen.append(s))
        direct = b"".join(web_app.server.test_client().get(path).response)
        assert isinstance(body, list) and len(body) == 1 and seen[0].startswith("200")
        assert body[0] == direct and len(body[0]) > 0
    assert closed == [True, True]
