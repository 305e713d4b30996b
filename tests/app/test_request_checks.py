"""Malformed callback bodies and oversized bodies, over a real socket to the real app.

Each malformed body answers 400 (415 when it is not JSON at all) with one log line
and no traceback; a body over STOCKSTREAMER_MAX_REQUEST_BYTES answers 413 before it
is read, whether it announces its length or comes chunked.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket

import pytest

from app.factory import create_app
from app.request_checks import body_problem, is_relayout, unchecked
from core.settings import SettingsError, load_settings
from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from jobs.providers.registry import PROVIDERS, market_hours
from tests.app.conftest import LiveServer

LIMIT = 64 * 1024
UPDATE = "/_dash-update-component"
ZOOM = {"xaxis.range[0]": "2026-11-27 14:00:00", "xaxis.range[1]": "2026-11-27 14:30:00"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('checks') / 'db.sqlite'}"
    upgrade(url)
    settings = load_settings(
        PROVIDERS, database_url=url, symbols="AAPL,GE", max_request_bytes=LIMIT
    )
    engine = make_engine(url)
    app = create_app(settings, make_session_factory(engine), market_hours(settings))
    server = LiveServer(app.server)
    yield app, server
    server.stop()
    engine.dispose()


def key_of(app, output: str) -> str:
    return next(k for k in app.callback_map if output in k)


def body(app, drawn: str, values: dict | None = None, changed=(), /, **replaced) -> dict:
    """A body as the page sends it for the callback drawing `drawn`, these inputs set."""
    key = key_of(app, drawn)
    spec = app.callback_map[key]
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outputs = [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]
    made = {
        "output": key,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [{**i, "value": (values or {}).get(i["id"])} for i in spec["inputs"]],
        "state": [dict(i) for i in spec["state"]],
        "changedPropIds": list(changed),
    }
    made.update(replaced)
    return made


def post(server, data: bytes | str, content_type: str = "application/json"):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        payload = data.encode() if isinstance(data, str) else data
        connection.request("POST", UPDATE, payload, {"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def control(app, relayout):
    return body(app, "url.search", {"chart": relayout}, ["chart.relayoutData"])


def update(app, **values):
    return body(app, "chart.figure", values, [f"{next(iter(values))}.n_intervals"])


# name -> (body as sent, content type): every one of them a request no page sends.
MALFORMED = {
    "a JSON string": lambda app: '"x"',
    "a JSON number": lambda app: "1",
    "null": lambda app: "null",
    "a JSON list": lambda app: "[]",
    "an empty object": lambda app: "{}",
    "not JSON": lambda app: "{",
    "an unknown output": lambda app: body(app, "url.search", output="nope.children"),
    "an output that is a list": lambda app: body(app, "url.search", output=["url.search"]),
    "a browser-side output": lambda app: body(app, "written.data"),
    "outputs of another callback": lambda app: body(app, "url.search", outputs={"id": "x"}),
    "no inputs": lambda app: {k: v for k, v in control(app, ZOOM).items() if k != "inputs"},
    "inputs not a list": lambda app: body(app, "url.search", inputs="x"),
    "inputs of numbers": lambda app: body(app, "url.search", inputs=[1, 2, 3]),
    "too few inputs": lambda app: body(app, "url.search", inputs=[]),
    "no state": lambda app: {k: v for k, v in control(app, ZOOM).items() if k != "state"},
    "changedPropIds a string": lambda app: body(app, "url.search", changedPropIds="x"),
    "changedPropIds naming no input": lambda app: body(app, "url.search", changedPropIds=[1]),
    "a garbage zoom": lambda app: control(
        app, {"xaxis.range[0]": "garbage", "xaxis.range[1]": "x"}
    ),
    "a zoom range of objects": lambda app: control(app, {"xaxis.range": [{"a": 1}, [2]]}),
    "a zoom range of one end": lambda app: control(app, {"xaxis.range": ["2026-11-27"]}),
    "relayoutData a list": lambda app: control(app, [1, 2]),
    "a URL search that is a number": lambda app: update(app, url=5, tick=1),
    "a click count that is text": lambda app: body(
        app, "watch-message.children", {"add-button": "x"}, ["add-button.n_clicks"]
    ),
    "control operations that are a list": lambda app: body(
        app, "url.search", {"control-ops": [1]}, ["control-ops.data"]
    ),
    "an applied number that is text": lambda app: body(
        app,
        "url.search",
        {"control-ops": {"ops": []}},
        ["control-ops.data"],
        state=[
            {"id": "url", "property": "search", "value": ""},
            {"id": "page", "property": "data"},
            {"id": "control-applied", "property": "data", "value": "x"},
        ],
    ),
    "a theme that is an object": lambda app: update(app, theme={"a": 1}, tick=1),
    "a tick count that is negative": lambda app: update(app, tick=-1),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_callback_body_is_a_400_with_one_line_and_no_traceback(served, caplog, name):
    app, server = served
    made = MALFORMED[name](app)
    with caplog.at_level(logging.INFO):
        status, _ = post(server, made if isinstance(made, str) else json.dumps(made))
    assert status == 400
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in lines] == ["app.request_checks"], [r.getMessage() for r in lines]
    assert lines[0].getMessage().startswith(f"refused POST {UPDATE}: 400 ")
    assert [r for r in caplog.records if r.exc_info] == []


def test_a_body_that_is_not_json_is_a_415(served, caplog):
    _, server = served
    status, _ = post(server, "view=price", "application/x-www-form-urlencoded")
    assert status == 415
    assert [r.name for r in caplog.records if r.levelno >= logging.WARNING] == [
        "app.request_checks"
    ]


def test_the_bodies_the_page_sends_are_answered(served):
    app, server = served
    assert post(server, json.dumps(control(app, ZOOM)))[0] == 200
    assert post(server, json.dumps(update(app, tick=3, url="?view=price")))[0] == 200
    # A resize or a hover is no zoom: nothing to do, and no error.
    assert post(server, json.dumps(control(app, {"autosize": True})))[0] == 204


def test_every_server_callback_input_has_a_declared_check(served):
    app, _ = served
    assert unchecked(app.callback_map) == []
    assert body_problem(control(app, ZOOM), app.callback_map) is None


@pytest.mark.parametrize(
    ("relayout", "ok"),
    [
        ({"xaxis.range": ["2026-11-27 14:00:00.25", "2026-11-27 15:00"]}, True),
        ({"xaxis2.range[0]": "2026-11-27 14:00:00", "xaxis2.range[1]": 1.7e12}, True),
        ({"xaxis.autorange": True, "yaxis.range[0]": "anything"}, True),
        ({"xaxis.range[0]": "NaT"}, False),
        ({"xaxis.range[1]": float("inf")}, False),
        ({"xaxis.range": [True, False]}, False),
    ],
)
def test_relayout_x_ranges_must_be_times(relayout, ok):
    assert is_relayout(relayout) is ok


def raw_exchange(server, head: bytes, body: bytes, wait: float = 5.0) -> bytes:
    """Send a request head and the start of a body; the answer's first bytes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as sock:
        sock.sendall(head + body)
        return sock.recv(4096)


def test_a_400_mb_body_is_refused_before_it_is_read(served, caplog):
    _, server = served
    head = (
        f"POST {UPDATE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {400 * 1024 * 1024}\r\n\r\n"
    ).encode()
    # The rest never comes: an answer at all shows that nothing waited to read it.
    answer = raw_exchange(server, head, b'{"output": "')
    assert answer.startswith(b"HTTP/1.1 413 ")
    (line,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "413" in line.getMessage() and line.exc_info is None


def test_a_chunked_body_is_cut_at_the_limit(served):
    _, server = served
    head = (
        f"POST {UPDATE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"x" * 16384
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(2 * LIMIT // len(chunk)))
    answer = raw_exchange(server, head, body)  # twice the limit, and no end: still answered
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_the_limit_is_a_setting_checked_at_start():
    assert load_settings(PROVIDERS).max_request_bytes == 1_048_576
    with pytest.raises(SettingsError, match="STOCKSTREAMER_MAX_REQUEST_BYTES"):
        load_settings(PROVIDERS, max_request_bytes=10)
