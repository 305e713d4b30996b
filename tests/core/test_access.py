"""Sign-in and /metrics settings: read with the rest, a bad one or a bad pair is one line."""

from __future__ import annotations

import ipaddress

import pytest

from core.settings import SettingsError, load_settings

OIDC = dict(
    oidc_issuer="https://id.example.com/realms/x/",
    oidc_client_id="stockstreamer",
    oidc_client_secret="c" * 20,
    secret_key="k" * 32,
)


def test_defaults_are_no_sign_in_and_metrics_for_this_host_only():
    access = load_settings().access
    assert access.signin is None
    assert access.metrics_allow == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("::1/128"),
    )
    assert access.metrics_token is None and access.trusted_proxies == 0


def test_a_password_file_or_an_issuer_turns_sign_in_on():
    assert load_settings(auth_file="/etc/stockstreamer/users").access.signin == "basic"
    access = load_settings(**OIDC).access
    assert access.signin == "oidc"
    assert (
        access.oidc_metadata_url
        == "https://id.example.com/realms/x/.well-known/openid-configuration"
    )
    assert "c" * 20 not in repr(access) and "k" * 32 not in repr(access)


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"oidc_client_id": "x"}, "STOCKSTREAMER_OIDC_CLIENT_ID: needs STOCKSTREAMER_OIDC_ISSUER"),
        ({**OIDC, "auth_file": "/u"}, "STOCKSTREAMER_OIDC_ISSUER: choose one sign-in"),
        (
            {**OIDC, "secret_key": ""},
            "STOCKSTREAMER_SECRET_KEY: required with STOCKSTREAMER_OIDC_ISSUER",
        ),
        (
            {**OIDC, "secret_key": "short"},
            "STOCKSTREAMER_SECRET_KEY: must be at least 32 characters",
        ),
        ({**OIDC, "oidc_client_secret": ""}, "STOCKSTREAMER_OIDC_CLIENT_SECRET: required with"),
        (
            {**OIDC, "oidc_issuer": "http://id.example.com"},
            "STOCKSTREAMER_OIDC_ISSUER: must be an https://",
        ),
        ({"metrics_allow": "10.0.0.0/33"}, "STOCKSTREAMER_METRICS_ALLOW: must be comma-separated"),
        ({"metrics_token": "short"}, "STOCKSTREAMER_METRICS_TOKEN: must be at least 16"),
        ({"trusted_proxies": "9"}, "STOCKSTREAMER_TRUSTED_PROXIES: "),
    ],
)
def test_a_bad_value_or_pair_is_one_line_naming_the_variable_and_no_secret(values, says):
    with pytest.raises(SettingsError) as caught:
        load_settings(**values)
    message = str(caught.value)
    assert message.startswith("invalid setting ") and says in message and "\n" not in message
    assert "short" not in message and "c" * 20 not in message


def test_http_is_allowed_for_an_issuer_on_this_host_only():
    local = {**OIDC, "oidc_issuer": "http://127.0.0.1:8080/.well-known/openid-configuration"}
    assert load_settings(**local).access.oidc_issuer == "http://127.0.0.1:8080"
