"""gunicorn settings, read from the environment; gunicorn loads this file from the working directory."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8050')}"
# One worker until the poller election across processes lands; the page itself is stateless.
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
accesslog = "-"
errorlog = "-"


def post_worker_init(worker):  # noqa: ANN001, ANN201 - gunicorn hook
    """Start the poller in the worker, never in the master."""
    from app.wsgi import start_poller

    start_poller()


def worker_exit(server, worker):  # noqa: ANN001, ANN201 - gunicorn hook
    """Stop the worker's poller cleanly."""
    from app.wsgi import stop_poller

    stop_poller()
