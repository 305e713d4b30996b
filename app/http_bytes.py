"""Fewer bytes: compressed answers, fingerprinted files cached a year, no unused bundle."""

from __future__ import annotations

import re

from dash import Dash
from dash.fingerprint import check_fingerprint
from flask import Flask, Request, Response, request
from flask_compress import Compress

SUITES = "/_dash-component-suites/"
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
)
# Below this an answer fits in a packet or two: compressing saves nothing worth the CPU.
MIN_SIZE = 500
# Brotli 6 packs plotly.min.js (4.8 MB) to 1.27 MB in 0.1 s (once per process: cached)
# and a 250 kB callback answer in 4 ms; 11 saves 0.16 MB more but takes 8 s.
BROTLI_LEVEL = 6
# The data-table bundle Dash always lists: this page draws no DataTable.
UNUSED_SCRIPT = re.compile(
    r'<script src="[^"]*/_dash-component-suites/dash/dash_table/[^"]*"></script>\n?'
)


class StaticOnlyCache:
    """flask-compress's cache, holding only files that cannot change while the process lives."""

    def __init__(self) -> None:
        self._stored: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        """The compressed bytes stored under `key`, if any."""
        return self._stored.get(key)

    def set(self, key: str, value: bytes) -> None:
        """Keep `value` unless its key says the answer is not a package file (see cache_key)."""
        # flask-compress stores under "<algorithm>;<key>": an empty key ends in ";".
        if not key.endswith(";"):
            self._stored[key] = value


def cache_key(req: Request) -> str:
    """A component-suite file's path (fixed while the process lives); "" for anything else."""
    if req.method == "GET" and req.path.startswith(SUITES):
        # Without query or fingerprint: any made-up version of a URL is the same file,
        # so the cache holds each file once whatever is asked.
        return check_fingerprint(req.path)[0]
    return ""


def enable_compression(server: Flask) -> None:
    """Compress text answers with brotli or gzip, as the browser's Accept-Encoding allows."""
    # Not Dash(compress=True): Dash 4.4.1 forces gzip only, with flask-compress's defaults and
    # no cache, so plotly.js goes as 1.47 MB (1.27 in brotli) packed anew for every visitor.
    server.config.update(
        COMPRESS_MIMETYPES=list(COMPRESSED_TYPES),
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_ALGORITHM_STREAMING=["br", "deflate"],
        COMPRESS_BR_LEVEL=BROTLI_LEVEL,
        COMPRESS_MIN_SIZE=MIN_SIZE,
        COMPRESS_CACHE_BACKEND=StaticOnlyCache,
        COMPRESS_CACHE_KEY=cache_key,
    )
    Compress(server)


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
