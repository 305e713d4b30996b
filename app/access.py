"""The client's address (behind a proxy too) and who may read /metrics.

Behind nginx every request comes from nginx (127.0.0.1): with
STOCKSTREAMER_TRUSTED_PROXIES=1 the address is the one nginx puts last in
X-Forwarded-For (werkzeug's ProxyFix), so /metrics' allow list and the sign-in's
per-address limit see the browser. Never set it where clients reach gunicorn
directly: they would then choose their own address.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from flask import Flask, request
from werkzeug.exceptions import Forbidden
from werkzeug.middleware.proxy_fix import ProxyFix

from core.access import AccessSettings

log = logging.getLogger(__name__)
METRICS = "/metrics"


def believe_proxies(server: Flask, access: AccessSettings) -> None:
    """Take the client's address from the X-Forwarded-For of `trusted_proxies` proxies."""
    if access.trusted_proxies:
        server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            server.wsgi_app, x_for=access.trusted_proxies, x_proto=0, x_host=0
        )


def client_address() -> str:
    """This request's client address, as the WSGI server (and any believed proxy) says."""
    return request.remote_addr or "unknown"


def _in_networks(address: str, access: AccessSettings) -> bool:
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    # An IPv4 client of a server listening on [::] is ::ffff:a.b.c.d.
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return any(parsed in network for network in access.metrics_allow)


def _bearer_matches(access: AccessSettings) -> bool:
    if access.metrics_token is None:
        return False
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    expected = access.metrics_token.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected)


def metrics_allowed(access: AccessSettings) -> bool:
    """Whether this request may read /metrics: its token, else its address."""
    return _bearer_matches(access) or _in_networks(client_address(), access)


def guard_metrics(server: Flask, access: AccessSettings) -> None:
    """/metrics answers 403 (one log line) unless its token or address is allowed."""

    def check() -> None:
        rule = request.url_rule  # by the route matched, so /metrics/ or //metrics cannot slip by
        if rule is None or rule.rule != METRICS or metrics_allowed(access):
            return
        log.warning(
            "refused %s from %s: not an allowed address or token", METRICS, client_address()
        )
        raise Forbidden("/metrics is for the addresses or token the operator allows")

    server.before_request(check)
