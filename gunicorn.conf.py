"""gunicorn settings from the environment; gunicorn reads this file from the working directory.

Each worker campaigns for the poller lock (see jobs/election.py), so any number
of workers, on any number of hosts sharing one PostgreSQL, polls exactly once.
Nothing is started in the master, so --preload is safe.
"""

import os
import subprocess
import sys
import tempfile

import gunicorn.http.wsgi

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8050')}"
# Workers bring the cores: a worker runs Python on one core at a time (the GIL). About
# one per core, plus one (3 on 2 cores) so a worker busy drawing a whole view does not
# hold up the ticks. bench/bench_viewers.py, 2 cores, 3 workers, PostgreSQL: 1,000 viewers
# ticking every 5 s with shared reads cost gunicorn ~0.3 of a core (~1 ms of CPU a tick).
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
# Threads only cover waits (the database, a slow client): an answer is CPU-bound under the
# GIL. Measured at 1,000 viewers, tick p95 after the ramp: shared reads on, 2/4/8/16
# threads 17/17/18/16 ms (threads change nothing); shared reads off (every request reads,
# gunicorn at 0.8 of a core), 4 threads 34-645 ms over three runs, 8 threads 0.56-20 s,
# 16 threads 18 s: more threads only fight over the GIL and the database, and the worker's
# own loop (accepting, keep-alive) waits behind them.
# Keep STOCKSTREAMER_DB_POOL_SIZE above it (the poller lock and its writes need two more).
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
# An idle keep-alive connection is held this many seconds. The page asks every
# STOCKSTREAMER_REFRESH_INTERVAL (5 s): at gunicorn's default of 5 s the server closed
# each viewer's connection just as its next tick came, so every tick paid a new TCP
# connection and could race a closing socket. 75 s (nginx's own default towards
# browsers) keeps a viewer on one connection; a gthread worker holds idle ones in
# its poller, not in a thread, up to worker_connections (1000) each.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
# No banner: gunicorn 23 writes "Server: gunicorn" from this module's SERVER on every answer
# (setting gunicorn.SERVER here is too late: the module copied it at import) and cannot leave
# the header out, so it goes empty. Behind nginx the client sees nginx's own header instead.
gunicorn.http.wsgi.SERVER = ""
# No control socket (gunicorn 25.1 and later: $XDG_RUNTIME_DIR or ~/.gunicorn/gunicorn.ctl, through
# which `gunicornc` changes workers or stops the server): one more way in that nothing here uses,
# and a hardened unit has no writable home for it. Older gunicorn ignores the name.
control_socket_disable = True
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "1") != "0" else None
errorlog = "-"
capture_output = True

# Workers share their metrics through files; the directory must exist before any
# worker imports prometheus_client, so it is settled here, in the master.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="stockstreamer-metrics-")


def on_starting(server):  # gunicorn hook (master)
    """Stop at once on a bad setting; start from an empty metrics directory."""
    # A worker that exits 2 on a bad setting is only respawned (forever), so the master
    # checks first; SystemExit here ends gunicorn before it listens or forks.
    check = subprocess.run([sys.executable, "-m", "app.settings_check"], check=False)
    if check.returncode != 0:
        raise SystemExit(check.returncode)
    # Old metrics files would add up forever.
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def post_worker_init(worker):  # gunicorn hook (worker)
    """Campaign for the poller lock in this worker (never in the master)."""
    from app.wsgi import start_poller

    start_poller()


def worker_exit(server, worker):  # gunicorn hook (worker)
    """Give the lock up cleanly so that another worker takes over at once."""
    from app.wsgi import stop_poller

    stop_poller()


def child_exit(server, worker):  # gunicorn hook (master)
    """Drop a dead worker's live gauges from /metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
