"""A fake HTTP API on 127.0.0.1: routes each GET, records it, and answers programmable faults."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Fault:
    """The answer for matching requests instead of the normal one, `times` times (None: always)."""

    status: int = 500
    body: str = "Internal Server Error"
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the headers
    trickle: float = 0.0  # seconds between body bytes
    times: int | None = None
    route: str | None = None  # the fake's name for a route; None matches all
    symbols: frozenset[str] | None = None  # matches requests naming any of these

    def matches(self, route: str, symbols: list[str]) -> bool:
        """Whether this fault applies to a request (and has answers left)."""
        if self.times is not None and self.times <= 0:
            return False
        if self.route is not None and self.route != route:
            return False
        return self.symbols is None or bool(self.symbols.intersection(symbols))


@dataclass(frozen=True)
class Seen:
    """One request as the server saw it (header names in lower case)."""

    path: str
    prefix: str
    route: str
    symbols: list[str]
    query: dict[str, list[str]]
    status: int
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(value: object, status: int = 200, **headers: str) -> Fault:
    """A JSON answer (json.dumps writes float("nan") as the bare NaN a sloppy upstream sends)."""
    return Fault(status, json.dumps(value), "application/json", headers=dict(headers))


class FakeServer:
    """Serves what `route` answers; subclasses imitate one provider's API."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        # Keep-alive handler threads end when their client closes; do not wait for them.
        self._httpd.block_on_close = False
        # A short poll interval so that shutdown() returns at once after each test.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._httpd.server_address[1]

    def fail(self, **kwargs: object) -> Fault:
        """Add a fault (see Fault's fields); the first matching fault answers."""
        fault = Fault(**kwargs)  # type: ignore[arg-type]
        with self._lock:
            self.faults.append(fault)
        return fault

    def seen(self, route: str | None = None) -> list[Seen]:
        """The requests so far (of one route)."""
        with self._lock:
            return [r for r in self.requests if route is None or r.route == route]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()  # wakes handlers sleeping in a delay
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def respond(self, target: str, headers: Mapping[str, str] | None = None) -> Fault:
        """Route and record one request; return the answer to send (as a Fault)."""
        split = urlsplit(target)
        query = parse_qs(split.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        route, symbols, normal = self.route(split.path, query, headers)
        with self._lock:
            reply = next((f for f in self.faults if f.matches(route, symbols)), normal)
            if reply.times is not None:
                reply.times -= 1
            prefix = split.path.strip("/").split("/")[0]
            self.requests.append(
                Seen(split.path, prefix, route, symbols, query, reply.status, headers)
            )
        return reply

    def route(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[str, list[str], Fault]:
        """(route name, symbols asked for, the normal answer) for one request."""
        raise NotImplementedError


def symbols_of(query: dict[str, list[str]], name: str) -> list[str]:
    """The comma-separated symbols of a query parameter, upper-cased."""
    return [s.strip().upper() for s in ",".join(query.get(name, [])).split(",") if s.strip()]


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            reply = server.respond(self.path, dict(self.headers.items()))
            if reply.delay and server.stopping.wait(reply.delay):
                self.close_connection = True
                return
            data = reply.body.encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                # A trickle sends one byte at a time: each read is quick, the whole answer is not.
                pieces = [data[i : i + 1] for i in range(len(data))] if reply.trickle else [data]
                for piece in pieces:
                    if reply.trickle and server.stopping.wait(reply.trickle):
                        self.close_connection = True
                        return
                    self.wfile.write(piece)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing to answer

        def log_message(self, format: str, *args: object) -> None:
            pass  # requests are recorded in server.requests instead

    return Handler
