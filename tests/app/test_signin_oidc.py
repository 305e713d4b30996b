"""OpenID Connect sign-in against a fake identity provider over real HTTP on 127.0.0.1.

The app (create_app, Flask's test client) sends a page to the provider, the
provider sends it back with a code, the app trades it for an ID token it checks
(signature from the JWKS, issuer, audience, nonce) and keeps the user in its
signed session cookie. Refusals are plain text, whatever the request quoted.
"""

from __future__ import annotations

import logging
import time
import urllib.request
from urllib.parse import parse_qs, urlsplit

from tests.app.signin_helpers import CLIENT_ID, CLIENT_SECRET, PUBLIC, concrete_path, signed_app
from tests.app.test_signin import UPDATE, callback_body, server_callbacks

PAGE = {"Accept": "text/html,application/xhtml+xml"}
OIDC_ROUTES = {"/oidc/<idp>/login", "/oidc/logout", "/oidc/<idp>/callback"}


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def oidc_app(tmp_path, idp, secret: str = CLIENT_SECRET, **overrides):
    overrides.setdefault("session_cookie_secure", False)  # the test client speaks plain HTTP
    app, _, _ = signed_app(
        tmp_path,
        oidc_issuer=idp.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=secret,
        secret_key="k" * 40,
        **overrides,
    )
    return app


def through_provider(location: str) -> str:
    """What a browser does at the provider: follow its authorize URL; where it sends us back."""
    opener = urllib.request.build_opener(NoRedirects)
    try:
        opener.open(location, timeout=10)
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 302
        return redirect.headers["Location"]
    raise AssertionError("the provider did not send the browser back")


def sign_in(client) -> str:
    """The whole dance; the path the app sends the browser to at the end."""
    start = client.get("/", headers=PAGE)
    assert start.status_code == 302
    back = urlsplit(through_provider(start.headers["Location"]))
    assert back.path == "/oidc/idp/callback"
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 302, done.data
    return done.headers["Location"]


def test_an_unsigned_page_goes_to_the_provider_and_comes_back_signed_in(tmp_path, idp):
    app = oidc_app(tmp_path, idp)
    client = app.server.test_client()
    start = client.get("/", headers=PAGE)
    asked = urlsplit(start.headers["Location"])
    query = parse_qs(asked.query)
    assert f"{asked.scheme}://{asked.netloc}{asked.path}" == f"{idp.issuer}/authorize"
    assert query["client_id"] == [CLIENT_ID] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://localhost/oidc/idp/callback"]
    assert "nonce" in query and "state" in query
    set_cookie = start.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert sign_in(client) == "/"
    assert {"GET /.well-known/openid-configuration", "POST /token", "GET /jwks"} <= set(idp.seen)
    page = client.get("/", headers=PAGE)
    assert page.status_code == 200 and b"_dash-renderer" in page.data
    for key in server_callbacks(app):
        assert client.post(UPDATE, json=callback_body(app, key)).status_code in (200, 204), key
    assert client.get("/api/v1/stocks").status_code == 200
    # Signed out: the session is gone, and so is access.
    assert client.get("/oidc/logout").status_code == 200
    assert client.get("/api/v1/stocks").status_code == 401


def test_every_route_but_the_public_and_sign_in_ones_refuses_an_unsigned_request(tmp_path, idp):
    app = oidc_app(tmp_path, idp)
    client = app.server.test_client()
    for rule in app.server.url_map.iter_rules():
        if rule.rule in PUBLIC or rule.rule in OIDC_ROUTES:
            continue
        for method in sorted(rule.methods):
            response = client.open(concrete_path(rule), method=method, headers=PAGE)
            expected = {401} if method != "GET" else {302}  # a page goes to the provider
            assert response.status_code in expected, (method, rule.rule, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith(f"{idp.issuer}/authorize?")
    for key in server_callbacks(app):
        assert client.post(UPDATE, json=callback_body(app, key)).status_code == 401
    # A script (no HTML accepted) gets a 401, not a login page.
    assert client.get("/api/v1/stocks", headers={"Accept": "application/json"}).status_code == 401


def test_a_wrong_client_secret_is_a_plain_401_and_one_line(tmp_path, idp, caplog):
    client = oidc_app(tmp_path, idp, secret="not-the-secret-0123456").server.test_client()
    start = client.get("/", headers=PAGE)
    back = urlsplit(through_provider(start.headers["Location"]))
    caplog.set_level(logging.WARNING, logger="app.signin")
    refused = client.get(f"{back.path}?{back.query}")
    assert refused.status_code == 401 and refused.data == b"Sign-in failed"
    assert refused.mimetype == "text/plain"
    lines = [r.getMessage() for r in caplog.records if r.name == "app.signin"]
    assert len(lines) == 1 and "invalid_client" in lines[0], lines
    assert client.get("/", headers=PAGE).status_code == 302  # still not signed in


def test_a_forged_callback_is_refused_without_quoting_it(tmp_path, idp):
    client = oidc_app(tmp_path, idp).server.test_client()
    client.get("/", headers=PAGE)  # a state in the session
    forged = client.get("/oidc/idp/callback?code=x&state=forged")
    assert forged.status_code == 401 and forged.data == b"Sign-in failed"
    script = "<script>alert(1)</script>"
    quoted = client.get(f"/oidc/idp/callback?error={script}&error_description={script}")
    assert quoted.status_code == 401 and b"<script>" not in quoted.data
    unknown = client.get(f"/oidc/{script}/callback")
    assert b"<script>" not in unknown.data and unknown.mimetype == "text/plain"
    assert client.get("/api/v1/stocks").status_code == 401


def test_the_session_cookie_is_secure_unless_told_otherwise(tmp_path, idp):
    app = oidc_app(tmp_path, idp, session_cookie_secure=True)
    start = app.server.test_client().get("/", headers=PAGE)
    assert "Secure" in start.headers["Set-Cookie"]
    assert app.server.permanent_session_lifetime.total_seconds() == 12 * 3600


def test_a_sign_in_lasts_its_session_hours(tmp_path, idp):
    client = oidc_app(tmp_path, idp, session_hours=0.0005).server.test_client()  # 1.8 s
    assert sign_in(client) == "/"
    assert client.get("/api/v1/stocks").status_code == 200
    time.sleep(2.5)
    assert client.get("/api/v1/stocks").status_code == 401
    assert client.get("/", headers=PAGE).status_code == 302
