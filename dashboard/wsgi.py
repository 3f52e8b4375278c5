"""The WSGI object for a production server. app.py serves it with granian (`app.web_argv`):
`granian --interface wsgi --factory dashboard.wsgi:worker`; `dashboard.wsgi:server` is the plain
object for any other WSGI server."""
from dashboard import create_app, serve

app = create_app()
server = app.server


def worker():
    """granian's factory, called in each worker process."""
    serve.die_with_server()
    serve.freeze_start_up_objects()
    return serve.whole_body(server)
