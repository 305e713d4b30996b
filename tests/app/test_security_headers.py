"""Security headers on every answer, HSTS only over TLS, no version banner; gunicorn as deployed.

The policy's fit to the page (nothing blocked, the chart drawn, ticks, clicks) is
proven in headless Chromium by test_browser_security.py.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import json
import re
import socket
import subprocess
import time

import pytest

from app.factory import create_app
from core.settings import load_settings
from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from jobs.providers.registry import PROVIDERS, market_hours
from tests.app.service_helpers import gunicorn, service_env

FIXED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
INLINE = re.compile(
    r"<script(?: id=\"_dash-renderer\" type=\"application/javascript\")?>(.*?)</script>", re.S
)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('headers') / 'db.sqlite'}"
    upgrade(url)
    settings = load_settings(PROVIDERS, database_url=url, symbols="AAPL,GE")
    engine = make_engine(url)
    yield create_app(settings, make_session_factory(engine), market_hours(settings))
    engine.dispose()


def directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (d.split() for d in policy.split("; "))}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/_dash-layout", 200),
        ("GET", "/assets/logos/AAPL.svg", 200),
        ("GET", "/healthz", 200),
        ("GET", "/assets/no-such-file.css", 404),
        ("POST", "/_dash-update-component", 400),
    ],
)
def test_every_answer_carries_the_headers_and_no_hsts_over_plain_http(app, method, path, status):
    client = app.server.test_client()
    response = client.open(path, method=method, json="x" if method == "POST" else None)
    assert response.status_code == status
    assert {k: response.headers.get(k) for k in FIXED} == FIXED
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_only_when_the_wsgi_server_says_tls(app):
    client = app.server.test_client()
    secure = client.get("/healthz", base_url="https://stocks.example.com")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    # The app itself never believes the header: only a trusted proxy's server may (gunicorn).
    forged = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in forged.headers


def test_scripts_are_this_sites_files_and_the_pages_inline_scripts_by_hash(app):
    page = app.server.test_client().get("/")
    html = page.get_data(as_text=True)
    scripts = directives(page.headers["Content-Security-Policy"])["script-src"]
    live = re.sub(r"<!--.*?-->", "", html, flags=re.S)  # Dash's note for IE is a comment
    inline = [s for s in INLINE.findall(live) if s.strip()]
    assert len(inline) == 1  # the renderer's start (clientside callbacks live in page.js)
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in scripts
    assert scripts[0] == "'self'" and not {"'unsafe-eval'", "'unsafe-inline'"} & set(scripts)


def test_the_page_config_names_no_python_or_plotly_version(app):
    html = app.server.test_client().get("/").get_data(as_text=True)
    config = json.loads(re.search(r'id="_dash-config" [^>]*>(.*?)</script>', html).group(1))
    assert not {"python_version", "plotly_version"} & config.keys()
    assert config["dash_version"]  # the renderer reads it; it is in every script's URL anyway


def worker_rss_mb(master: int) -> int:
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    total = 0
    for pid in children.stdout.split():
        with open(f"/proc/{pid}/status") as status:
            total += int(status.read().split("VmRSS:")[1].split()[0])
    return total // 1024


def test_gunicorn_says_no_version_and_refuses_400_mb_unread(database_url_factory, tmp_path):
    url = database_url_factory("sqlite")
    upgrade(url)
    # No poller in the worker: its history fill would grow the memory measured below.
    env = service_env(url, tmp_path, STOCKSTREAMER_WEB_POLLS="false")
    service = gunicorn(env, tmp_path, workers=1).start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=10)
        connection.request("GET", "/healthz")
        plain = connection.getresponse()
        plain.read()
        assert plain.headers["Server"] == "" and plain.headers["X-Frame-Options"] == "DENY"
        assert plain.headers["Strict-Transport-Security"] is None
        # gunicorn believes X-Forwarded-Proto from FORWARDED_ALLOW_IPS (this host): nginx's TLS.
        connection.request("GET", "/healthz", headers={"X-Forwarded-Proto": "https"})
        proxied = connection.getresponse()
        proxied.read()
        assert proxied.headers["Strict-Transport-Security"] == "max-age=31536000"

        before = worker_rss_mb(service.process.pid)
        head = (
            "POST /_dash-update-component HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/json\r\nContent-Length: {400 * 1024 * 1024}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
            sock.sendall(head.encode())
            # 4 MB of the 400, no more; gunicorn 26 and later close the connection after the
            # answer without reading on, which ends the sending sooner.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for _ in range(64):
                    sock.sendall(b"[" * (64 * 1024))
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413 ")
        time.sleep(0.5)
        assert worker_rss_mb(service.process.pid) < before + 20  # it was +1.2 GB
        assert "refused POST /_dash-update-component: 413" in service.log()
        assert "Traceback" not in service.log()
    finally:
        service.stop()
