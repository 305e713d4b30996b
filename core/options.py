"""A provider's own settings: the base model, the field types they share, their variable names.

Each provider declares a ProviderOptions subclass with its own variable prefix;
core.settings.load_settings validates those it is handed, with the shared settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Protocol, TypeVar
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, SecretStr, ValidationError
from pydantic_core import PydanticUseDefault
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "STOCKSTREAMER_"

OptionsT = TypeVar("OptionsT", bound="ProviderOptions")


def _secret(value: object) -> object:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str):
        return value
    value = value.strip()
    # It travels in an HTTP header: anything else would fail every request, obscurely.
    if value and not (value.isascii() and value.isprintable() and " " not in value):
        raise ValueError("must be printable ASCII without spaces")
    return value or None


def _base_url(value: object) -> object:
    if value is None or str(value).strip() == "":
        raise PydanticUseDefault()
    parts = urlsplit(str(value).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    if parts.query or parts.fragment or parts.username or parts.password:
        # A token belongs in its own variable, where it is kept secret.
        raise ValueError("must not carry a query, a fragment or credentials")
    return str(value).strip().rstrip("/")


def _provider_name(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


@dataclass(frozen=True)
class NamesAProvider:
    """Marks a field that must name one of the providers handed to load_settings."""


# A key or token: sent as a header, never logged; blank means none.
Secret = Annotated[SecretStr | None, BeforeValidator(_secret)]
# A service's base URL, without a trailing slash; blank means the field's default.
BaseUrl = Annotated[str, BeforeValidator(_base_url)]
ProviderName = Annotated[str, BeforeValidator(_provider_name), NamesAProvider()]
AtLeastOne = Annotated[int, Field(ge=1)]


class ProviderOptions(BaseSettings):
    """One provider's own settings: a subclass sets its env_prefix and declares its fields."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )


class DeclaresOptions(Protocol):
    """What load_settings needs of a provider's descriptor: its name and its settings model."""

    @property
    def name(self) -> str: ...

    @property
    def options(self) -> type[ProviderOptions]: ...


def env_name(model: type[BaseSettings], *fields: str) -> str:
    """The environment variable(s) that set these fields of a model, joined by "and"."""
    prefix = model.model_config.get("env_prefix", "")
    names = []
    for name in fields:
        alias = model.model_fields[name].validation_alias
        names.append(alias if isinstance(alias, str) else f"{prefix}{name.upper()}")
    return " and ".join(names)


def reread(options: OptionsT) -> OptionsT:
    """A provider's settings read again from the environment and .env; the same if now invalid."""
    try:
        return type(options)()
    except ValidationError:
        return options  # a half-edited .env: keep what we have
