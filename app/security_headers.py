"""Security headers on every answer, and no version banner from the server or the page's config.

The Content-Security-Policy is what this page needs, measured in headless Chromium
(tests/app/test_browser_security.py), and no more:

- scripts: this site's files, and Dash's inline scripts by their hashes
  (`Dash.csp_hashes()`: the clientside callback written as a string and the line that
  starts the renderer). No 'unsafe-inline', and no 'unsafe-eval': plotly.js's basic
  bundle (assets/vendor) and Dash's bundles evaluate no strings (the only
  `new Function` in them is webpack's fallback for `globalThis`, never reached).
- styles: this site's, and 'unsafe-inline': plotly.js writes its rules into a
  `<style>` element and sets style attributes on what it draws, as do Dash's components.
- images: this site's (the simulated market's logos), https: and http: for the
  logos a provider names (any host; validation allows http(s) only), data: and
  blob: for plotly's PNG download and its own marks.
- no plugins, no `<base>`, no forms posting elsewhere, no framing anywhere.

HSTS is sent only on an answer the WSGI server says came over TLS (`request.is_secure`):
gunicorn believes X-Forwarded-Proto only from `FORWARDED_ALLOW_IPS` (by default the
same host: the nginx of docs/deploy-ec2.md), werkzeug never.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from dash import Dash
from flask import Response, request
from werkzeug.serving import WSGIRequestHandler

from app.http_bytes import LeanDash

HSTS = "max-age=31536000"  # a year; no includeSubDomains: other hosts of the domain are not ours
FIXED: Mapping[str, str] = {
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# _dash-config keys only Dash's dev tools read (off here): the Python build, plotly's version.
UNSAID = ("python_version", "plotly_version", "ddk_version", "dash_version_url")


def content_security_policy(app: Dash) -> str:
    """The page's policy: call it once every callback is registered (their inline scripts)."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *app.csp_hashes()],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "https:", "http:", "data:", "blob:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def register_security_headers(app: Dash) -> str:
    """Send the headers on every answer of `app`'s server; returns the policy."""
    policy = content_security_policy(app)

    def secured(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = policy
        response.headers.update(FIXED)
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = HSTS
        return response

    app.server.after_request(secured)
    return policy


class QuietDash(LeanDash):
    """The page's Dash: its config says no Python or plotly version (Dash's own is in its URLs).

    It also sets a process up for its first requests one at a time: Dash marks that done
    before doing it (plotly/dash#3971), so under gunicorn's threads a second request
    meanwhile found no registered bundle, answered 500, and the page stayed blank.
    """

    _setup_lock = threading.Lock()  # one per process, as Dash's own once-flag is per app

    def _setup_server(self) -> None:
        with self._setup_lock:  # the second waits for the first's work, then finds it done
            super()._setup_server()

    def _config(self) -> dict:
        config = super()._config()
        for key in UNSAID:
            config.pop(key, None)
        return config


class QuietRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler (`stockstreamer run`) without its Server banner.

    werkzeug sends "Server: Werkzeug/3.1.9 Python/3.11.7" from http.server's
    send_response; this is that method without the banner.
    """

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())
