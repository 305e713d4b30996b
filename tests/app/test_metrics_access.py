"""/metrics only for the addresses or the token the operator allows, sign-in or not."""

from __future__ import annotations

import logging

import pytest

from tests.app.signin_helpers import password_file, signed_app

TOKEN = "s" * 24
OUTSIDE = {"REMOTE_ADDR": "203.0.113.5"}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("metrics")
    app, _, _ = signed_app(folder, metrics_allow="127.0.0.1, 10.0.0.0/8", metrics_token=TOKEN)
    return app.server.test_client()


def test_by_default_only_this_host_reads_metrics(tmp_path, caplog):
    client = signed_app(tmp_path)[0].server.test_client()
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    caplog.set_level(logging.WARNING, logger="app.access")
    refused = client.get("/metrics", environ_base=OUTSIDE)
    assert refused.status_code == 403 and b"stockstreamer_" not in refused.data
    assert [r.getMessage() for r in caplog.records if r.name == "app.access"] == [
        "refused /metrics from 203.0.113.5: not an allowed address or token"
    ]
    # The probes stay open to all.
    assert client.get("/healthz", environ_base=OUTSIDE).status_code == 200


@pytest.mark.parametrize(
    ("address", "status"),
    [
        ("127.0.0.1", 200),
        ("10.1.2.3", 200),
        ("::ffff:10.1.2.3", 200),
        ("203.0.113.5", 403),
        ("::1", 403),
    ],
)
def test_an_allowed_network_reads_metrics(guarded, address, status):
    assert guarded.get("/metrics", environ_base={"REMOTE_ADDR": address}).status_code == status


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (f"Bearer {TOKEN}", 200),
        (f"bearer {TOKEN}", 200),
        ("Bearer " + "t" * 24, 403),
        (f"Basic {TOKEN}", 403),
        (f"Bearer {TOKEN}x", 403),
        ("", 403),
    ],
)
def test_the_token_reads_metrics_from_anywhere(guarded, header, status):
    response = guarded.get("/metrics", headers={"Authorization": header}, environ_base=OUTSIDE)
    assert response.status_code == status


def test_no_network_and_a_token_is_token_only(tmp_path):
    client = signed_app(tmp_path, metrics_allow="", metrics_token=TOKEN)[0].server.test_client()
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_behind_a_believed_proxy_the_forwarded_address_counts(tmp_path):
    forwarded = {"X-Forwarded-For": "203.0.113.5"}
    (tmp_path / "plain").mkdir()
    plain = signed_app(tmp_path / "plain", trusted_proxies=0)[0].server.test_client()
    # Not believed: nginx on this host would make every visitor "127.0.0.1".
    assert plain.get("/metrics", headers=forwarded).status_code == 200
    (tmp_path / "proxied").mkdir()
    proxied = signed_app(tmp_path / "proxied", trusted_proxies=1)[0].server.test_client()
    assert proxied.get("/metrics", headers=forwarded).status_code == 403
    assert proxied.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


def test_metrics_stay_reachable_by_address_with_sign_in_on(tmp_path):
    client = signed_app(tmp_path, auth_file=str(password_file(tmp_path)))[0].server.test_client()
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 403
    assert client.get("/").status_code == 401
