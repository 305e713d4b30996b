"""Sign-in on the real app (create_app), through the Flask test client.

Every route of the server is enumerated from its url_map, so a route added later
is refused unsigned unless it is declared public; a signed-in request works; a
wrong user and a wrong password get the same answer after the same work; failures
are logged without the password and limited per address; an unsigned or
signed-out edit never reaches the watchlist.
"""

from __future__ import annotations

import logging
import statistics
import time

import pytest

from app.passwords import password_line
from app.signin import Failures
from app.watchlist_edit import WatchlistEditor, signed_in_only
from db.watchlist import watched_symbols
from jobs.providers.simulated import SimulatedMarket
from tests.app.signin_helpers import (
    PASSWORD,
    PUBLIC,
    SIGNED,
    USER,
    basic,
    concrete_path,
    password_file,
    signed_app,
)
from tests.app.test_request_checks import body

UPDATE = "/_dash-update-component"


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signin")
    app, _settings, sessions = signed_app(folder, auth_file=str(password_file(folder)))
    return app, sessions


def server_callbacks(app) -> list[str]:
    return [key for key, spec in app.callback_map.items() if spec.get("callback") is not None]


def callback_body(app, key: str, **values) -> dict:
    drawn = key[2:-2].split("...")[0] if key.startswith("..") else key
    return body(app, drawn, values)


def test_every_route_but_the_declared_public_ones_refuses_an_unsigned_request(signed):
    app, _ = signed
    client = app.server.test_client()
    answered: dict[str, int] = {}
    for rule in app.server.url_map.iter_rules():
        path = concrete_path(rule)
        for method in sorted(rule.methods):
            response = client.open(path, method=method)
            if rule.rule in PUBLIC:
                answered[rule.rule] = response.status_code
                continue
            assert response.status_code == 401, (method, rule.rule)
            assert response.headers["WWW-Authenticate"].startswith('Basic realm="stockstreamer"')
            assert b"AAPL" not in response.data
    assert set(answered) == PUBLIC
    assert all(status != 401 for status in answered.values()), answered


def test_every_callback_refuses_an_unsigned_request_even_a_malformed_one(signed):
    app, _ = signed
    client = app.server.test_client()
    keys = server_callbacks(app)
    assert len(keys) >= 3
    for key in keys:
        assert client.post(UPDATE, json=callback_body(app, key)).status_code == 401, key
    # Not a 400 naming the body's problem: an unsigned caller learns nothing of the callbacks.
    assert client.post(UPDATE, data='"x"', content_type="application/json").status_code == 401
    assert client.post(UPDATE, data="{", content_type="text/plain").status_code == 401


def test_a_signed_in_request_works_on_the_page_its_assets_callbacks_api_and_csv(signed):
    app, _ = signed
    client = app.server.test_client()
    page = client.get("/", headers=SIGNED)
    assert page.status_code == 200 and b"_dash-renderer" in page.data
    for path in ("/_dash-layout", "/_dash-dependencies", "/api/v1/stocks", "/download.csv"):
        response = client.get(path, headers=SIGNED)
        assert response.status_code == 200, (path, response.data[:200])
    script = next(
        line for line in page.data.decode().split('"') if line.endswith(".js") or ".js?" in line
    )
    asset = client.get(script, headers=SIGNED)
    assert asset.status_code == 200
    # A fingerprinted file is no shared cache's to keep behind a sign-in.
    assert not asset.headers.get("Cache-Control", "").startswith("public")
    for key in server_callbacks(app):
        response = client.post(UPDATE, json=callback_body(app, key), headers=SIGNED)
        assert response.status_code in (200, 204), (key, response.data[:200])
    assert b"AAPL" in client.get("/api/v1/stocks", headers=SIGNED).data


def answer(client, headers) -> tuple[int, bytes, dict[str, str], float]:
    started = time.perf_counter()
    response = client.get("/", headers=headers)
    seconds = time.perf_counter() - started
    shown = {k: v for k, v in response.headers.items() if k not in ("Date",)}
    return response.status_code, response.data, shown, seconds


def test_a_wrong_user_and_a_wrong_password_get_the_same_answer_after_the_same_work(signed, caplog):
    app, _ = signed
    client = app.server.test_client()
    caplog.set_level(logging.WARNING, logger="app.signin")
    wrong_password = [answer(client, basic(USER, "Tr0ub4dor&3")) for _ in range(3)]
    wrong_user = [answer(client, basic("mallory", PASSWORD)) for _ in range(3)]
    no_user = [answer(client, basic("", "")) for _ in range(1)]
    first = wrong_password[0][:3]
    assert first[0] == 401
    for status, data, headers, _ in wrong_password + wrong_user + no_user:
        assert (status, data, headers) == first
    # An unknown user is checked against a dummy hash: both cost one argon2id hash (~0.1 s),
    # not a hash against nothing (microseconds).
    by_password = statistics.median(a[3] for a in wrong_password)
    by_user = statistics.median(a[3] for a in wrong_user)
    assert 0.33 < by_user / by_password < 3, (by_user, by_password)
    refusals = [r for r in caplog.records if r.name == "app.signin"]
    assert len(refusals) == 7
    for record in refusals:
        line = record.getMessage()
        assert "\n" not in line and "Tr0ub4dor" not in line and PASSWORD not in line
    assert "sign-in refused for user 'mallory' from 127.0.0.1" in refusals[3].getMessage()


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic !!!",
        "Basic " + "QQ==",
        "Bearer abc",
        "Digest username=x",
        "basic\x00",
        "Basic " + "x" * 5000,
    ],
)
def test_a_malformed_authorization_header_is_a_401_not_a_500(signed, header):
    app, _ = signed
    assert app.server.test_client().get("/", headers={"Authorization": header}).status_code == 401


def test_failures_past_the_limit_make_that_address_wait_a_minute(tmp_path, caplog):
    app, _, _ = signed_app(tmp_path, auth_file=str(password_file(tmp_path)), signin_max_failures=2)
    client = app.server.test_client()
    other = {"REMOTE_ADDR": "198.51.100.7"}
    wrong = basic(USER, "nope")
    assert client.get("/", headers=wrong).status_code == 401
    assert client.get("/", headers=wrong).status_code == 401
    waiting = client.get("/", headers=SIGNED)  # even the right password waits
    assert waiting.status_code == 429 and waiting.headers["Retry-After"] == "60"
    assert client.get("/", headers=SIGNED, environ_base=other).status_code == 200
    assert client.get("/healthz").status_code == 200


def test_the_window_forgets_failures_older_than_a_minute(monkeypatch):
    failures = Failures(2)
    now = [1000.0]
    monkeypatch.setattr("app.signin.time.monotonic", lambda: now[0])
    failures.note("a")
    failures.note("a")
    assert failures.blocked("a") and not failures.blocked("b")
    now[0] += 60.5
    assert not failures.blocked("a")


def test_an_edit_reaches_the_watchlist_only_signed_in(signed):
    app, sessions = signed
    client = app.server.test_client()
    key = next(k for k in server_callbacks(app) if "watch-message.children" in k)
    add = body(
        app,
        key[2:-2].split("...")[0],
        {"add-button": 1},
        ["add-button.n_clicks"],
        state=[
            {"id": "add-symbol", "property": "value", "value": "MSFT"},
            {"id": "watch-undo-symbol", "property": "data", "value": None},
            {"id": "tick", "property": "n_intervals", "value": 3},
        ],
    )
    assert client.post(UPDATE, json=add).status_code == 401
    with sessions() as session:
        assert "MSFT" not in watched_symbols(session)
    done = client.post(UPDATE, json=add, headers=SIGNED)
    assert done.status_code == 200, done.data
    with sessions() as session:
        assert "MSFT" in watched_symbols(session)


def test_the_editor_refuses_an_edit_from_no_one_and_names_the_user_of_one_done(signed, caplog):
    _app, sessions = signed
    from core.settings import load_settings
    from jobs.providers.registry import PROVIDERS

    settings = load_settings(PROVIDERS, symbols="AAPL,GE")
    real = WatchlistEditor(settings, sessions, SimulatedMarket)
    refused = signed_in_only(real.edit, lambda: None)("add", "NFLX")
    assert (refused.ok, refused.reason) == (False, "not_signed_in")
    with sessions() as session:
        assert "NFLX" not in watched_symbols(session)
    caplog.set_level(logging.INFO, logger="app.watchlist_edit")
    done = signed_in_only(real.edit, lambda: "alice")("add", "NFLX")
    assert done.ok, done.message
    assert "watchlist add NFLX by alice" in caplog.text


def test_sign_in_is_off_on_the_embedded_default(tmp_path):
    app, settings, _ = signed_app(tmp_path)
    assert settings.access.signin is None
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/stocks").status_code == 200


def test_a_changed_password_file_counts_without_a_restart(tmp_path, caplog):
    users = password_file(tmp_path)
    app, _settings, _ = signed_app(tmp_path, auth_file=str(users))
    client = app.server.test_client()
    bob = basic("bob", "bob's own password")
    assert client.get("/api/v1/stocks", headers=SIGNED).status_code == 200  # and remembered
    assert client.get("/api/v1/stocks", headers=bob).status_code == 401

    # alice removed, bob added (replaced, as an editor saves it): both count within seconds.
    replacement = tmp_path / "users.new"
    replacement.write_text(password_line("bob", "bob's own password") + "\n")
    replacement.replace(users)
    answers = lambda: [client.get("/api/v1/stocks", headers=h).status_code for h in (SIGNED, bob)]
    deadline = time.monotonic() + 10
    while answers() != [401, 200] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert answers() == [401, 200]

    # A broken edit keeps the users read before, and says so once.
    caplog.set_level(logging.INFO, logger="app.passwords")
    users.write_text("bob:plaintext\n")
    time.sleep(1.2)  # past the look at the file
    assert answers() == [401, 200]
    assert answers() == [401, 200]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [
        f"sign-in: STOCKSTREAMER_AUTH_FILE={users}, line 1: not an argon2id hash "
        "(make one: stockstreamer passwd USER); the users read before still sign in"
    ]
    assert "plaintext" not in caplog.text  # the line is named by its number, never quoted
