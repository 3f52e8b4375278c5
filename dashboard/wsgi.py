"""The WSGI object for a production server. app.py serves it with granian (`app.web_argv`):
`granian --interface wsgi --factory dashboard.wsgi:worker`; `dashboard.wsgi:server` is the plain
object for any other WSGI server."""
import ctypes
import gc
import os
import signal

from dashboard import create_app

PR_SET_PDEATHSIG = 1

app = create_app()
server = app.server


def worker():
    """granian's factory, called in each worker process. granian does not stop its workers when
    its own process is killed (kill -9, OOM killer), and an orphan would keep the port: the kernel
    ends this worker when the process that spawned it dies."""
    parent = os.getppid()
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:      # the server process died before prctl took effect
        os._exit(1)
    # The app's ~140k long-lived objects (layouts, Plotly schemas) would be traversed by every
    # full collection: 40-250 ms holding the GIL, a stall for every request in this worker.
    # Frozen, a full collection only walks what requests allocate (0.0 ms measured after).
    gc.collect()
    gc.freeze()
    return server
