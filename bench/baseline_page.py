"""Serve the page of another tree (today's: commit 859ba40) to the benchmark, one request at a time.

Run by `page_today.py` as `python bench/baseline_page.py TREE DATABASE_URL DAYS`,
with TREE (an extracted `app core db`) put first on sys.path, so `app` is that
tree's. It answers JSON lines on stdin, one JSON line each on stdout:

- `{"op": "load"}`: the page's first request (its `on_tick` with no view yet,
  following live), which reads the whole window;
- `{"op": "tick", "at": MS}`: one interval at that clock, from the view of the
  previous answer (as the browser keeps it);
- `{"op": "quit"}`.

Each answer is `{"ms", "bytes", "outputs", "last", "app"}`: the time of Dash's
wrapped callback (read, shape, JSON), the body's length and each output's
share, each stock's newest point after it, and where `app` was imported from.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from datetime import datetime, timezone


def serve(tree: str, url: str, days: float) -> None:
    """Answer the requests on stdin until `quit` or end of input."""
    sys.path.insert(0, tree)
    from dash import Dash
    from dash_body import ServedCallback, answer_of, output_bytes

    import app  # only now: the tree comes first on sys.path
    from app.callbacks import register_callbacks
    from app.page_state import LIVE
    from db.engine import make_engine, make_session_factory

    engine = make_engine(url)
    clock = {"now": datetime.now(timezone.utc)}
    dash_app = Dash(__name__)
    callbacks = register_callbacks(
        dash_app, make_session_factory(engine), lambda: clock["now"], days
    )
    on_tick = ServedCallback(dash_app, callbacks.on_tick)
    gc.collect()  # as app/wsgi.py and the benchmark do: long-lived objects out of the GC's way
    gc.freeze()
    view, mode = None, LIVE.to_store()
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "quit":
            break
        if request["op"] == "load":
            view = None  # no view yet: the first request reads the whole window
        clock["now"] = datetime.fromtimestamp(request["at"] / 1000, timezone.utc)
        started = time.perf_counter()
        body = on_tick.body("tick.n_intervals", request.get("n"), view, mode)
        elapsed = (time.perf_counter() - started) * 1000
        view = answer_of(body).get("view", {}).get("data", view)
        reply = {
            "ms": elapsed,
            "bytes": len(body.encode()),
            "outputs": output_bytes(body),
            "last": (view or {}).get("last", {}),
            "app": app.__file__,
        }
        print(json.dumps(reply), flush=True)
    engine.dispose()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], float(sys.argv[3]))
