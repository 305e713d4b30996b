"""Bytes over the wire, through the app's own Flask server: compression and caching headers."""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime, timedelta, timezone

import brotli
import pytest
from flask import Flask, request

from app.factory import create_app
from app.http_bytes import (
    ANSWERS_KEPT,
    SHARED_ANSWER_SIZE,
    CompressedCache,
    cache_key,
    enable_compression,
)
from core.settings import load_settings
from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from jobs.providers.registry import PROVIDERS, market_hours
from tests.app.page_helpers import seed

YEAR_IMMUTABLE = "public, max-age=31536000, immutable"
SCRIPT_SRC = re.compile(r'<script src="([^"]+)"')


@pytest.fixture
def client_factory(database_url_factory):
    """A test client of the real app on a seeded SQLite database, with settings overridden."""
    engines = []

    def make(**overrides: object):
        url = database_url_factory("sqlite")
        upgrade(url)
        settings = load_settings(PROVIDERS, database_url=url, **overrides)
        engine = make_engine(url)
        engines.append(engine)
        sessions = make_session_factory(engine)
        now = datetime.now(timezone.utc)
        seed(sessions, now - timedelta(days=1), now)  # a day a minute apart: a big first answer
        return create_app(settings, sessions, market_hours(settings)).server.test_client()

    yield make
    for engine in engines:
        engine.dispose()


def first_draw_body(client) -> dict:
    """The request the page sends to draw the chart first (on_update, the URL as input)."""
    dependencies = client.get("/_dash-dependencies").get_json()
    draw = next(d for d in dependencies if {"id": "tick", "property": "n_intervals"} in d["inputs"])
    outputs = [
        dict(zip(("id", "property"), part.rsplit(".", 1), strict=True))
        for part in draw["output"].strip(".").split("...")
    ]
    values = {"url": "", "tick": None, "theme": "light", "screen": None}
    return {
        "output": draw["output"],
        "outputs": outputs,
        "inputs": [{**spec, "value": values[spec["id"]]} for spec in draw["inputs"]],
        "state": [{**spec, "value": None} for spec in draw["state"]],
        "changedPropIds": ["url.search"],
    }


def page_script(client, part: str) -> str:
    """The src of the page's script tag whose URL contains `part`."""
    return next(src for src in SCRIPT_SRC.findall(client.get("/").text) if part in src)


def decoded(response) -> bytes:
    """The body as sent, inflated by its Content-Encoding."""
    encoding = response.headers.get("Content-Encoding")
    body = response.get_data()
    return {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[encoding](body)


def test_the_page_a_bundle_and_a_callback_answer_come_compressed_when_asked(client_factory):
    client = client_factory()
    bundle = page_script(client, "dash_core_components.v")
    body = first_draw_body(client)
    for accept, expected in (("gzip, deflate, br", "br"), ("gzip", "gzip"), ("", None)):
        headers = {"Accept-Encoding": accept}
        page = client.get("/", headers=headers)
        script = client.get(bundle, headers=headers)
        answer = client.post("/_dash-update-component", json=body, headers=headers)
        for response in (page, script, answer):
            assert response.status_code == 200
            assert response.headers.get("Content-Encoding") == expected, response.request.path
            assert "Accept-Encoding" in response.headers["Vary"]
        assert b'id="react-entry-point"' in decoded(page)
        assert len(decoded(script)) > 300_000  # the whole bundle, inflated
        assert "chart" in json.loads(decoded(answer))["response"]
        if expected:
            assert len(script.get_data()) < len(decoded(script)) / 3


def test_a_tiny_answer_is_not_compressed(client_factory):
    client = client_factory()
    dependencies = client.get("/_dash-dependencies", headers={"Accept-Encoding": "br"})
    assert dependencies.headers["Content-Encoding"] == "br"
    small = client.get("/healthz", headers={"Accept-Encoding": "br"})
    assert small.status_code == 200 and len(small.get_data()) < 500
    assert "Content-Encoding" not in small.headers


def test_fingerprinted_files_are_kept_a_year_and_the_page_is_always_checked(client_factory):
    client = client_factory()
    page = client.get("/")
    assert page.headers["Cache-Control"] == "no-cache"
    for src in SCRIPT_SRC.findall(page.text):
        assert client.get(src).headers["Cache-Control"] == YEAR_IMMUTABLE, src
    style = re.search(r'href="(/assets/style\.css\?m=[^"]+)"', page.text).group(1)
    assert client.get(style).headers["Cache-Control"] == YEAR_IMMUTABLE
    for path in ("/_dash-layout", "/_dash-dependencies", "/assets/logos/GE.svg"):
        assert client.get(path).headers["Cache-Control"] == "no-cache", path
    # Fetched by URLs that carry no version: checked with the server every time.
    plotly = client.get("/_dash-component-suites/plotly/package_data/plotly.min.js")
    assert plotly.headers["Cache-Control"] == "no-cache"
    answer = client.post("/_dash-update-component", json=first_draw_body(client))
    assert answer.headers["Cache-Control"] == "no-store"


def test_an_unversioned_file_is_answered_304_when_unchanged(client_factory):
    client = client_factory()
    headers = {"Accept-Encoding": "br"}
    first = client.get("/_dash-component-suites/dash/dcc/async-graph.js", headers=headers)
    again = client.get(
        "/_dash-component-suites/dash/dcc/async-graph.js",
        headers={**headers, "If-None-Match": first.headers["ETag"]},
    )
    assert first.status_code == 200 and again.status_code == 304
    assert again.get_data() == b""


def test_switched_off_the_answers_are_plain_and_carry_dash_s_own_headers(client_factory):
    client = client_factory(compress=False, cache_static=False)
    headers = {"Accept-Encoding": "gzip, br"}
    page = client.get("/", headers=headers)
    bundle = client.get(page_script(client, "dash_core_components.v"), headers=headers)
    answer = client.post("/_dash-update-component", json=first_draw_body(client), headers=headers)
    for response in (page, bundle, answer):
        assert response.status_code == 200
        assert "Content-Encoding" not in response.headers
        assert "immutable" not in response.headers.get("Cache-Control", "")
    assert "Cache-Control" not in page.headers


def test_the_page_lists_no_data_table_bundle(client_factory):
    page = client_factory().get("/").text
    scripts = SCRIPT_SRC.findall(page)
    assert any("dash_core_components" in src for src in scripts)
    assert not [src for src in scripts if "dash_table" in src]


def test_the_compressed_cache_holds_each_package_file_once_and_nothing_else():
    server = Flask(__name__)
    suites = "/_dash-component-suites/dash/dcc/"
    keys = set()
    for path in (
        f"{suites}dash_core_components.v4_4_1m1700000000.js",
        f"{suites}dash_core_components.v9_9_9m1.js?any=thing",  # a made-up version
        f"{suites}dash_core_components.js",
    ):
        with server.test_request_context(path):
            keys.add(cache_key(request))
    assert keys == {f"{suites}dash_core_components.js"}
    with server.test_request_context("/_dash-update-component", method="POST"):
        assert cache_key(request) == ""
    with server.test_request_context(f"{suites}async-graph.js", method="HEAD"):
        assert cache_key(request) == ""

    cache = CompressedCache()
    cache.set("br;", b"a callback answer")
    cache.set(f"br;{suites}async-graph.js", b"packed")
    assert cache.get("br;") is None
    assert cache.get(f"br;{suites}async-graph.js") == b"packed"


def test_a_large_answer_is_packed_once_for_every_viewer_sent_the_same_bytes():
    server = Flask(__name__)
    compress = enable_compression(server)
    bodies = {name: json.dumps({"view": name, "x": list(range(5000))}) for name in "ab"}
    assert all(len(body) >= SHARED_ANSWER_SIZE for body in bodies.values())
    bodies["tick"] = json.dumps({"tick": list(range(300))})  # ~1.5 kB, as a tick's

    @server.post("/answer/<name>")
    def answer(name: str):
        if name == "tick":
            return server.response_class(
                '{"tick": %s}' % ("1," * 400 + "1"), mimetype="application/json"
            )
        return server.response_class(bodies[name], mimetype="application/json")

    client = server.test_client()
    headers = {"Accept-Encoding": "br"}
    sent = [client.post(f"/answer/{name}", headers=headers) for name in ("a", "a", "b", "tick")]
    for response, name in zip(sent[:3], "aab", strict=True):
        assert response.headers["Content-Encoding"] == "br"
        assert brotli.decompress(response.get_data()).decode() == bodies[name]
    assert sent[3].headers["Content-Encoding"] == "br"  # a small answer is packed, not kept
    cache = compress.cache
    assert isinstance(cache, CompressedCache)
    kept = [k for k in cache._answers]  # the two large answers, under their digests
    assert len(kept) == 2 and all(k.startswith("br;answer:") for k in kept)
    assert cache.get(kept[0]) == sent[0].get_data() == sent[1].get_data()

    for i in range(ANSWERS_KEPT + 1):  # the oldest answers make room; package files stay
        cache.set(f"br;answer:{i}", b"x")
    cache.set("br;/_dash-component-suites/dash/dcc/x.js", b"file")
    assert len(cache._answers) == ANSWERS_KEPT and cache.get(kept[1]) is None
    assert cache.get("br;/_dash-component-suites/dash/dcc/x.js") == b"file"


def test_an_asset_is_packed_once_under_its_own_etag_whatever_the_query(tmp_path):
    server = Flask(__name__, static_folder=str(tmp_path), static_url_path="/assets")
    compress = enable_compression(server)
    script = "var plotly = 1;\n" * 2000
    (tmp_path / "bundle.js").write_text(script)
    client = server.test_client()
    headers = {"Accept-Encoding": "br"}
    sent = [
        client.get(f"/assets/bundle.js{query}", headers=headers)
        for query in ("?m=1", "?m=1", "?m=2", "?m=made-up", "")
    ]
    for response in sent:
        assert response.status_code == 200 and response.headers["Content-Encoding"] == "br"
        assert brotli.decompress(response.get_data()).decode() == script
    files = compress.cache._files
    assert len(files) == 1  # one file, one entry: a query cannot add copies
    (key,) = files
    assert key.startswith("br;/assets/bundle.js@")

    (tmp_path / "bundle.js").write_text(script + "var changed = 2;\n")  # a new size: a new ETag
    changed = client.get("/assets/bundle.js?m=3", headers=headers)
    assert brotli.decompress(changed.get_data()).decode().endswith("var changed = 2;\n")
    assert len(files) == 2
    # A conditional request still gets its 304, with no body to pack.
    etag = changed.headers["ETag"]
    assert (
        client.get("/assets/bundle.js", headers={**headers, "If-None-Match": etag}).status_code
        == 304
    )
