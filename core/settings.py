"""The one settings object, read from the environment (and an optional .env file).

It lives in `core/`, which every package may import: the web app, the poller and
the alembic environment all read the same object. Nothing here opens a
connection or speaks HTTP; provider fields are plain values.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.records import TICKER_RE

DEFAULT_SYMBOLS = ("GE", "AMZN", "NVDA", "INTC", "AAPL", "NFLX")
PROVIDERS = ("simulated", "iex", "alpaca", "finnhub", "twelvedata", "composite")
DEFAULT_BASE_URLS = {
    "iex": "https://cloud.iexapis.com/stable",
    "alpaca": "https://data.alpaca.markets",
    "finnhub": "https://finnhub.io/api/v1",
    "twelvedata": "https://api.twelvedata.com",
}
# What a composite may take its prices or its metadata from: any single provider.
SingleProvider = Literal["simulated", "iex", "alpaca", "finnhub", "twelvedata"]


class SettingsError(Exception):
    """A setting has a bad value; the message names the variable and never echoes a secret."""


def normalise_database_url(url: str) -> str:
    """Accept Heroku-style postgres:// URLs and pin PostgreSQL to psycopg2."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


class Settings(BaseSettings):
    """Everything the app, the poller and the migrations are configured with."""

    model_config = SettingsConfigDict(
        env_prefix="STOCKSTREAMER_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    database_url: str = Field(
        default="sqlite:///stockstreamer.db", validation_alias="DATABASE_URL", repr=False
    )
    symbols: Annotated[tuple[str, ...], NoDecode] = DEFAULT_SYMBOLS
    provider: Literal["simulated", "iex", "alpaca", "finnhub", "twelvedata", "composite"] = (
        "simulated"
    )
    provider_base_url: str | None = None
    provider_token: SecretStr | None = None

    # provider=composite: prices from one provider, names/logos/52-week bands from another.
    price_provider: SingleProvider = "alpaca"
    metadata_provider: SingleProvider = "finnhub"

    # Keyed providers: credentials (sent as headers, never logged), base URL, free-plan budget.
    alpaca_key_id: SecretStr | None = None
    alpaca_secret_key: SecretStr | None = None
    alpaca_base_url: str | None = None
    alpaca_rate_limit: int = Field(default=200, ge=1)
    finnhub_token: SecretStr | None = None
    finnhub_base_url: str | None = None
    finnhub_rate_limit: int = Field(default=60, ge=1)
    twelvedata_api_key: SecretStr | None = None
    twelvedata_base_url: str | None = None
    twelvedata_rate_limit: int = Field(default=8, ge=1)
    twelvedata_daily_limit: int = Field(default=800, ge=1)
    auth_backoff: float = Field(default=300.0, gt=0)

    price_interval: float = Field(default=5.0, gt=0)
    metadata_interval: float = Field(default=6 * 3600.0, gt=0)
    http_timeout: float = Field(default=5.0, gt=0)
    retry_attempts: int = Field(default=3, ge=1, le=10)
    retry_backoff: float = Field(default=0.5, ge=0)
    retry_max_delay: float = Field(default=10.0, ge=0)
    fetch_concurrency: int = Field(default=8, ge=1, le=64)

    history_days: float = Field(default=7.0, ge=0)
    backfill_step: float = Field(default=60.0, gt=0)
    simulated_seed: int = 2017
    simulated_hours: Literal["always", "us"] = "always"

    max_price: float = Field(default=10_000_000.0, gt=0)
    max_future_skew: float = Field(default=300.0, ge=0)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    # The dashboard
    refresh_interval: float = Field(default=5.0, gt=0)
    window_days: float = Field(default=7.0, gt=0, le=366)
    host: str = "127.0.0.1"
    port: int = Field(default=8050, ge=1, le=65535)

    # Running as a service
    web_polls: bool = True  # false: web workers never poll (a separate `stockstreamer poll` does)
    ready_max_price_age: float | None = Field(default=None, gt=0)
    # Set by gunicorn.conf.py: every worker writes its metrics to files there, /metrics sums them.
    prometheus_multiproc_dir: str | None = Field(
        default=None, validation_alias="PROMETHEUS_MULTIPROC_DIR"
    )

    @property
    def ready_price_age(self) -> float:
        """How old the newest price may be while the market is open and still be ready."""
        if self.ready_max_price_age is not None:
            return self.ready_max_price_age
        return max(60.0, 3 * self.price_interval)

    @property
    def election_interval(self) -> float:
        """How often a process tries the poller lock: a dead leader is replaced in 2 intervals."""
        return min(self.price_interval / 2, 2.5)

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: object) -> str:
        url = normalise_database_url(str(value).strip())
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ValueError(
                "is not a database URL (expected postgresql://… or sqlite:///…)"
            ) from None
        if parsed.get_backend_name() not in ("postgresql", "sqlite"):
            raise ValueError("must be a postgresql:// or sqlite:/// URL")
        return url

    @field_validator("symbols", mode="before")
    @classmethod
    def _symbols(cls, value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[arg-type]
        symbols: list[str] = []
        for item in items:
            symbol = str(item).strip().upper()
            if not symbol:
                continue
            if not TICKER_RE.match(symbol):
                raise ValueError(f"{symbol!r} is not a ticker symbol")
            if symbol not in symbols:
                symbols.append(symbol)
        if not symbols:
            raise ValueError("must name at least one symbol")
        return tuple(symbols)

    @field_validator("provider", mode="before")
    @classmethod
    def _provider(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            if value not in PROVIDERS:
                raise ValueError(
                    f"unknown provider {value!r}; choose one of {', '.join(PROVIDERS)}"
                )
        return value

    @field_validator("price_provider", "metadata_provider", mode="before")
    @classmethod
    def _part_provider(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            choices = [p for p in PROVIDERS if p != "composite"]
            if value not in choices:
                raise ValueError(f"unknown provider {value!r}; choose one of {', '.join(choices)}")
        return value

    @field_validator(
        "provider_token",
        "alpaca_key_id",
        "alpaca_secret_key",
        "finnhub_token",
        "twelvedata_api_key",
        mode="before",
    )
    @classmethod
    def _secret(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str):
            return value
        value = value.strip()
        # It travels in an HTTP header: anything else would fail every request, obscurely.
        if value and not (value.isascii() and value.isprintable() and " " not in value):
            raise ValueError("must be printable ASCII without spaces")
        return value or None

    @field_validator(
        "provider_base_url",
        "alpaca_base_url",
        "finnhub_base_url",
        "twelvedata_base_url",
        mode="before",
    )
    @classmethod
    def _base_url(cls, value: object) -> object:
        if value is None or str(value).strip() == "":
            return None
        parts = urlsplit(str(value).strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        if parts.query or parts.fragment or parts.username or parts.password:
            # A token belongs in STOCKSTREAMER_PROVIDER_TOKEN, where it is kept secret.
            raise ValueError("must not carry a query, a fragment or credentials")
        return str(value).strip().rstrip("/")

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if self.provider_base_url is None and self.provider in DEFAULT_BASE_URLS:
            object.__setattr__(self, "provider_base_url", DEFAULT_BASE_URLS[self.provider])
        for name in ("alpaca", "finnhub", "twelvedata"):
            if getattr(self, f"{name}_base_url") is None:
                object.__setattr__(self, f"{name}_base_url", DEFAULT_BASE_URLS[name])
        return self

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is a SQLite file."""
        return self.database_url.startswith("sqlite")

    def safe_database_url(self) -> str:
        """The database URL with any password hidden, for logs."""
        return make_url(self.database_url).render_as_string(hide_password=True)


ENV_NAMES = {
    name: (field.validation_alias if isinstance(field.validation_alias, str) else None)
    or f"STOCKSTREAMER_{name.upper()}"
    for name, field in Settings.model_fields.items()
}


def _describe(error: dict) -> str:
    """One clear line for the first validation error, naming the variable."""
    field = str(error["loc"][0]) if error.get("loc") else ""
    variable = ENV_NAMES.get(field, field or "settings")
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    # Never echo the value: it may be a password or a token.
    return f"invalid setting {variable}: {message}"


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings; raise SettingsError with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_describe(exc.errors()[0])) from None
