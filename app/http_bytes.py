"""Fewer bytes: compressed answers, fingerprinted files cached a year, no unused bundle."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from hashlib import blake2b

from dash import Dash
from dash.fingerprint import check_fingerprint
from flask import Flask, Request, Response, g, request
from flask_compress import Compress

SUITES = "/_dash-component-suites/"
ASSETS = "/assets/"
YEAR = 365 * 24 * 3600
# Text the browser inflates for free; PNG/JPEG logos are compressed already.
COMPRESSED_TYPES = (
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg+xml",
    "image/x-icon",  # Dash's favicon is an uncompressed bitmap
    "text/csv",  # the chart's download (app/download.py), streamed
)
# Below this an answer fits in a packet or two: compressing saves nothing worth the CPU.
MIN_SIZE = 500
# A view's answer (~100 kB, 1.5 ms to pack) is the same bytes for every viewer sharing its
# read (app/tick_cache.py), so it is packed once for all of them; a tick's (~2 kB) never
# repeats (it carries its own time) and costs 0.03 ms to pack: not kept.
SHARED_ANSWER_SIZE = 16_384
ANSWERS_KEPT = 16  # a few views (URL, theme, phone or not) within one shared-read TTL
ANSWER = "answer:"
# Brotli 6 packs plotly.min.js (4.8 MB) to 1.27 MB in 0.1 s (once per process: cached)
# and a 250 kB callback answer in 4 ms; 11 saves 0.16 MB more but takes 8 s.
BROTLI_LEVEL = 6
# The data-table bundle Dash always lists: this page draws no DataTable.
UNUSED_SCRIPT = re.compile(
    r'<script src="[^"]*/_dash-component-suites/dash/dash_table/[^"]*"></script>\n?'
)


class CompressedCache:
    """flask-compress's cache: package files for the process's life, large answers by content.

    A package file's key is its path (see cache_key); an answer's is a digest of its
    uncompressed bytes, so equal bytes get the same packed bytes and nothing else can.
    """

    def __init__(self, answers_kept: int = ANSWERS_KEPT) -> None:
        self._files: dict[str, bytes] = {}
        self._answers: OrderedDict[str, bytes] = OrderedDict()
        self._kept, self._lock = answers_kept, threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The compressed bytes stored under `key`, if any."""
        if not _is_answer(key):
            return self._files.get(key)
        with self._lock:
            value = self._answers.get(key)
            if value is not None:
                self._answers.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        """Keep `value`, unless its key says the answer is neither a file nor a large answer."""
        # flask-compress stores under "<algorithm>;<key>": an empty key ends in ";".
        if key.endswith(";"):
            return
        if not _is_answer(key):
            self._files[key] = value
            return
        with self._lock:
            self._answers[key] = value
            self._answers.move_to_end(key)
            while len(self._answers) > self._kept:
                self._answers.popitem(last=False)


def _is_answer(key: str) -> bool:
    return key.partition(";")[2].startswith(ANSWER)


def digest_answer(response: Response) -> Response:
    """Name a large callback answer by its bytes, for cache_key (runs before flask-compress)."""
    if (
        request.method == "POST"
        and response.status_code == 200
        and not response.is_streamed
        and (response.content_length or 0) >= SHARED_ANSWER_SIZE
    ):
        g.answer_digest = blake2b(response.get_data(), digest_size=16).hexdigest()
    return response


def buffer_asset(response: Response) -> Response:
    """Read an asset into memory and name it by path and ETag (runs before flask-compress).

    Flask streams files from disk, and flask-compress packs a stream anew for every
    request: the vendored plotly.js bundle (1.2 MB) cost ~30 ms of CPU per new visitor.
    The name comes from the file (its ETag changes with its size and time), never from
    the URL's query, so no request can fill the cache with copies.
    """
    etag = response.get_etag()[0]
    if (
        request.method == "GET"
        and request.path.startswith(ASSETS)
        and response.status_code == 200
        and response.direct_passthrough
        and response.mimetype in COMPRESSED_TYPES
        and etag
    ):
        response.direct_passthrough = False
        response.get_data()  # the file's bytes, read once; the response is no longer a stream
        g.asset_key = f"{request.path}@{etag}"
    return response


def cache_key(req: Request) -> str:
    """A package file's path, an asset's path and ETag, a large answer's digest.

    Package files are fixed while the process lives. "" for anything else:
    flask-compress then packs it anew.
    """
    if req.method == "GET" and req.path.startswith(SUITES):
        # Without query or fingerprint: any made-up version of a URL is the same file,
        # so the cache holds each file once whatever is asked.
        return check_fingerprint(req.path)[0]
    if req.method == "GET" and g.get("asset_key"):
        return g.asset_key
    digest = g.get("answer_digest")
    return f"{ANSWER}{digest}" if req.method == "POST" and digest else ""


def enable_compression(server: Flask) -> Compress:
    """Compress text answers with brotli or gzip, as the browser's Accept-Encoding allows."""
    # Not Dash(compress=True): Dash 4.4.1 forces gzip only, with flask-compress's defaults and
    # no cache, so plotly.js goes as 1.47 MB (1.27 in brotli) packed anew for every visitor.
    server.config.update(
        COMPRESS_MIMETYPES=list(COMPRESSED_TYPES),
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_ALGORITHM_STREAMING=["br", "deflate"],
        COMPRESS_BR_LEVEL=BROTLI_LEVEL,
        COMPRESS_MIN_SIZE=MIN_SIZE,
        COMPRESS_CACHE_BACKEND=CompressedCache,
        COMPRESS_CACHE_KEY=cache_key,
    )
    compress = Compress(server)
    # Registered after flask-compress's hook, so they run before it (Flask runs them in reverse).
    server.after_request(digest_answer)
    server.after_request(buffer_asset)
    return compress


def is_fingerprinted(req: Request) -> bool:
    """Whether the URL names one version of a file: Dash's `.v4_4_1m…` or an asset's `?m=`."""
    if req.path.startswith(SUITES):
        return check_fingerprint(req.path)[1]
    return req.path.startswith("/assets/") and "m" in req.args


def cache_headers(response: Response) -> Response:
    """A year and immutable for fingerprinted files; everything else is checked with the server."""
    if response.status_code == 200 and is_fingerprinted(request):
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    elif request.method == "POST":
        response.headers["Cache-Control"] = "no-store"  # a callback answer is for this moment only
    elif "Cache-Control" not in response.headers:
        # The page, its layout, unversioned files: always checked with the server.
        response.headers["Cache-Control"] = "no-cache"
    return response


class LeanDash(Dash):
    """Dash whose page lists no script it never runs (Dash always lists dash_table's)."""

    def interpolate_index(self, **kwargs: str) -> str:
        """Dash's documented hook for the page's HTML, with the unused bundles' tags left out."""
        kwargs["scripts"] = UNUSED_SCRIPT.sub("", kwargs["scripts"])
        return super().interpolate_index(**kwargs)


def serve_lean(app: Dash, compress: bool, cache_static: bool) -> None:
    """Wire compression and caching headers into `app`'s server, as the settings ask."""
    if cache_static:
        app.server.after_request(cache_headers)
    if compress:
        enable_compression(app.server)
