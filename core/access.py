"""Who may reach what: the sign-in (a password file or OpenID Connect) and /metrics' allow list.

Read with the other settings by core.settings.load_settings (same prefix, same
.env); `combination_problem` says what cannot work together. Nothing here reads the
password file or asks the identity provider: that is app/'s, at start.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.options import ENV_PREFIX, ProviderOptions, Secret, env_name

DISCOVERY = "/.well-known/openid-configuration"
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class AccessSettings(BaseSettings):
    """The sign-in and /metrics settings; sign-in is off unless a password file or issuer is set."""

    # Read like a provider's options (.env, frozen), under the shared prefix.
    model_config = SettingsConfigDict(**{**ProviderOptions.model_config, "env_prefix": ENV_PREFIX})

    # Basic sign-in: lines of `user:$argon2id$…` (`stockstreamer passwd USER` makes one).
    auth_file: Annotated[str | None, BeforeValidator(_blank_is_none)] = None
    # OpenID Connect: the issuer (its discovery document is ISSUER/.well-known/…).
    oidc_issuer: Annotated[str | None, BeforeValidator(_blank_is_none)] = None
    oidc_client_id: Annotated[str | None, BeforeValidator(_blank_is_none)] = None
    oidc_client_secret: Secret = Field(default=None, repr=False)
    oidc_scope: str = "openid email"
    # Signs the OIDC session cookie; every worker and instance must share it.
    secret_key: Secret = Field(default=None, repr=False)
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)  # then sign in again
    session_cookie_secure: bool = True  # the session cookie goes over HTTPS only
    # Failed sign-ins per address and minute before it is answered 429 for the minute.
    signin_max_failures: int = Field(default=10, ge=1, le=10_000)
    # /metrics: these networks (comma-separated CIDRs; blank: none) and/or a bearer token.
    metrics_allow: Annotated[tuple[Network, ...], NoDecode] = (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("::1/128"),
    )
    metrics_token: Secret = Field(default=None, repr=False)
    # Proxies in front (nginx: 1) whose X-Forwarded-For is believed for the client's address.
    trusted_proxies: int = Field(default=0, ge=0, le=5)

    @field_validator("oidc_issuer")
    @classmethod
    def _issuer(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().removesuffix(DISCOVERY).rstrip("/")
        parts = urlsplit(value)
        loopback = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
        if not parts.hostname or not (parts.scheme == "https" or loopback):
            raise ValueError("must be an https:// URL (http:// only on this host)")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("must not carry a query, a fragment or credentials")
        return value

    @field_validator("metrics_allow", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return tuple(
                ipaddress.ip_network(item.strip(), strict=False)
                for item in value.split(",")
                if item.strip()
            )
        except ValueError:
            raise ValueError("must be comma-separated addresses or networks (CIDR)") from None

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (e.g. `openssl rand -hex 16`)")
        return value

    @property
    def signin(self) -> str | None:
        """ "basic", "oidc", or None when anyone who reaches the page may use it."""
        if self.auth_file is not None:
            return "basic"
        return "oidc" if self.oidc_issuer is not None else None

    @property
    def oidc_metadata_url(self) -> str | None:
        """The issuer's discovery document."""
        return None if self.oidc_issuer is None else self.oidc_issuer + DISCOVERY

    def combination_problem(self) -> str | None:
        """One line naming a variable when the settings cannot work together, else None."""

        def name(field: str) -> str:
            return env_name(AccessSettings, field)

        oidc_parts = ("oidc_client_id", "oidc_client_secret")
        if self.auth_file is not None and self.oidc_issuer is not None:
            return (
                f"invalid setting {name('oidc_issuer')}: choose one sign-in, "
                f"{name('auth_file')} or {name('oidc_issuer')}"
            )
        if self.oidc_issuer is None:
            for field in oidc_parts:
                if getattr(self, field) is not None:
                    return f"invalid setting {name(field)}: needs {name('oidc_issuer')}"
            return None
        for field in (*oidc_parts, "secret_key"):
            if getattr(self, field) is None:
                return f"invalid setting {name(field)}: required with {name('oidc_issuer')}"
        return None
