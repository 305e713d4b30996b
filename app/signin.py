"""Optional sign-in with dash-auth: basic from a password file, or OpenID Connect.

Off unless STOCKSTREAMER_AUTH_FILE or STOCKSTREAMER_OIDC_ISSUER is set. When on,
every route of the server asks for it, the page, its assets and Dash's own routes
included (the browser sends the credentials or the session cookie with each of its
requests anyway), except PUBLIC: the probes, and /metrics with its own guard
(app/access.py). dash-auth's classes give the challenge, the OIDC dance and its
routes; the one hook that decides is this module's, first of all hooks, because
dash-auth's own lets a callback through when its body names a public path, and
its basic-auth parsing answers a malformed Authorization header with a 500.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Protocol

from dash import Dash
from dash_auth import BasicAuth, OIDCAuth
from flask import Response, g, request, session

from app.access import client_address
from app.passwords import PasswordFile
from app.request_checks import one_line
from core.access import AccessSettings

log = logging.getLogger(__name__)
PUBLIC = frozenset({"/healthz", "/readyz", "/metrics"})
IDP = "idp"  # the provider's name in dash-auth's routes: /oidc/idp/login, /oidc/idp/callback
WINDOW_SECONDS = 60.0


class SignIn(Protocol):
    """What the hook asks of a sign-in."""

    def is_authorized(self) -> bool: ...

    def login_request(self) -> Response: ...

    def user(self) -> str | None: ...


class Failures:
    """Failed sign-ins per client address in the last minute; past `most`, the address waits."""

    def __init__(self, most: int) -> None:
        self.most = most
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._seen.setdefault(address, deque())
        while times and times[0] <= now - WINDOW_SECONDS:
            times.popleft()
        return times

    def blocked(self, address: str) -> bool:
        """Whether this address failed `most` times in the last minute."""
        with self._lock:
            return len(self._recent(address, time.monotonic())) >= self.most

    def note(self, address: str) -> int:
        """Count one failure; how many this address has in the window."""
        with self._lock:
            if len(self._seen) > 10_000:  # a flood of addresses: forget, never grow without end
                self._seen.clear()
            times = self._recent(address, time.monotonic())
            times.append(time.monotonic())
            return len(times)


class PasswordSignIn(BasicAuth):
    """Basic sign-in against the password file; a wrong user or password: the same 401."""

    def __init__(self, app: Dash, auth_file: str, failures: Failures) -> None:
        self._failures = failures
        super().__init__(app, auth_func=PasswordFile(auth_file).check)

    def _protect(self) -> None:
        """No dash-auth hook: install_signin's decides."""

    def is_authorized(self) -> bool:
        credentials = request.authorization  # werkzeug's parse: None for a malformed header
        if credentials is None or credentials.type != "basic":
            return False
        address = client_address()
        if self._failures.blocked(address):
            g.signin_waits = True
            return False  # not even checked: a guess costs the guesser, not the server
        user, password = credentials.username or "", credentials.password or ""
        if self._auth_func(user, password):
            g.signed_in_user = user
            return True
        count = self._failures.note(address)
        log.warning(
            "sign-in refused for user %r from %s (%d in a minute)",
            one_line(user, 64),
            address,
            count,
        )
        return False

    def login_request(self) -> Response:
        if g.get("signin_waits"):
            return Response(
                "Too many failed sign-ins; try again in a minute",
                status=429,
                mimetype="text/plain",
                headers={"Retry-After": str(int(WINDOW_SECONDS))},
            )
        return Response(
            "Sign-in required",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Basic realm="stockstreamer", charset="UTF-8"'},
        )

    def user(self) -> str | None:
        return g.get("signed_in_user")


class ProviderSignIn(OIDCAuth):
    """OpenID Connect through dash-auth: a page is sent to the provider, a script gets a 401."""

    def _protect(self) -> None:
        """No dash-auth hook: install_signin's decides."""

    def login_request(self, idp: str | None = None) -> Response:
        if idp is None and (request.method != "GET" or not request.accept_mimetypes.accept_html):
            # A callback, the API, the CSV from a script: a redirect to a login page is no answer.
            return Response("Sign-in required", status=401, mimetype="text/plain")
        return super().login_request(idp)

    def callback(self, idp: str):
        """dash-auth's callback, its refusals as plain text (they quote the request) and a line."""
        answer = super().callback(idp)
        if isinstance(answer, tuple):
            text, status = answer
            log.warning("sign-in refused by the identity provider: %s", one_line(text))
            return Response("Sign-in failed", status=status, mimetype="text/plain")
        return answer

    def user(self) -> str | None:
        who = session.get("user")
        if not isinstance(who, dict):
            return None
        return str(who.get("email") or who.get("sub") or "") or None


def install_signin(app: Dash, access: AccessSettings) -> SignIn | None:
    """Put the configured sign-in in front of every route but PUBLIC; None when it is off."""
    server = app.server
    signin: SignIn
    if access.signin == "basic":
        signin = PasswordSignIn(app, access.auth_file, Failures(access.signin_max_failures))  # type: ignore[arg-type]
    elif access.signin == "oidc":
        server.config.update(
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",  # the provider's redirect back is a top-level GET
            SESSION_COOKIE_SECURE=access.session_cookie_secure,
            PERMANENT_SESSION_LIFETIME=int(access.session_hours * 3600),  # a cookie's max age
        )
        signin = ProviderSignIn(app, secret_key=access.secret_key.get_secret_value())  # type: ignore[union-attr]
        signin.register_provider(
            IDP,
            client_id=access.oidc_client_id,
            client_secret=access.oidc_client_secret.get_secret_value(),  # type: ignore[union-attr]
            server_metadata_url=access.oidc_metadata_url,
            client_kwargs={"scope": access.oidc_scope},
        )
    else:
        return None

    def guard() -> Response | None:
        if request.path in PUBLIC or signin.is_authorized():
            return None
        return signin.login_request()

    def private(response: Response) -> Response:
        # An answer behind a sign-in is no shared cache's to keep (the app says "public"
        # for its fingerprinted files).
        cache = response.headers.get("Cache-Control", "")
        if cache.startswith("public"):
            response.headers["Cache-Control"] = "private" + cache.removeprefix("public")
        return response

    # First of all hooks: an unsigned request learns nothing else (not even a body's problem).
    server.before_request_funcs.setdefault(None, []).insert(0, guard)
    server.after_request(private)
    return signin
