"""The one settings object, read from the environment (and an optional .env file).

It lives in `core/`, which every package may import: the web app, the poller and
the alembic environment all read the same object. Nothing here opens a
connection or speaks HTTP. The fields every process shares are declared here;
each provider declares its own (a core.options.ProviderOptions model), and
load_settings validates the models it is handed with the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal, TypeVar

from pydantic import Field, PrivateAttr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.access import AccessSettings
from core.options import (
    ENV_PREFIX,
    DeclaresOptions,
    NamesAProvider,
    OptionsT,
    ProviderName,
    ProviderOptions,
    env_name,
)
from core.records import TICKER_RE
from core.retention import DAY, FIVE_MINUTES, HOUR, MINUTE, TICKS, KeepDays, Retention

DEFAULT_SYMBOLS = ("GE", "AMZN", "NVDA", "INTC", "AAPL", "NFLX")


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
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    database_url: str = Field(
        default="sqlite:///stockstreamer.db", validation_alias="DATABASE_URL", repr=False
    )
    # Seeds the watchlist of a new database only; after that the database is the truth.
    symbols: Annotated[tuple[str, ...], NoDecode] = DEFAULT_SYMBOLS
    max_symbols: int = Field(default=30, ge=1, le=10_000)  # an add beyond it is refused
    watchlist_editable: bool = True  # false: the page's add/remove requests are refused
    provider: ProviderName = "simulated"

    price_interval: float = Field(default=5.0, gt=0)
    metadata_interval: float = Field(default=6 * 3600.0, gt=0)
    http_timeout: float = Field(default=5.0, gt=0)
    retry_attempts: int = Field(default=3, ge=1, le=10)
    retry_backoff: float = Field(default=0.5, ge=0)
    retry_max_delay: float = Field(default=10.0, ge=0)
    fetch_concurrency: int = Field(default=8, ge=1, le=64)
    auth_backoff: float = Field(default=300.0, gt=0)  # seconds between tries of a refused key

    history_days: float = Field(default=7.0, ge=0)
    # Prices fetched while the database is down are held this long (a bounded buffer),
    # then the oldest are dropped; 0 holds nothing.
    outage_buffer_seconds: float = Field(default=600.0, ge=0)
    backfill_step: float = Field(default=60.0, gt=0)

    # Retention, in days per level (0 or "forever": kept for good), applied by the elected
    # poller every retention_interval seconds in transactions of at most retention_batch rows.
    retain_ticks: KeepDays = 30
    retain_minute_bars: KeepDays = 365
    retain_five_minute_bars: KeepDays = 5 * 365
    retain_hour_bars: KeepDays = 5 * 365
    retain_daily_bars: KeepDays = 0
    retention_interval: float = Field(default=3600.0, gt=0)
    retention_batch: int = Field(default=2000, ge=1, le=100_000)
    # Years of daily bars asked of a provider that has them, for a symbol's long ranges.
    daily_history_years: float = Field(default=5.0, ge=0, le=50)

    max_price: float = Field(default=10_000_000.0, gt=0)
    max_future_skew: float = Field(default=300.0, ge=0)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    # The dashboard
    refresh_interval: float = Field(default=5.0, gt=0)
    window_days: float = Field(default=1826.0, gt=0, le=36525)  # 5Y; the daily bars' retention too
    shared_ticks: bool = True  # a worker answers the viewers' equal tick reads with one read
    host: str = "127.0.0.1"
    port: int = Field(default=8050, ge=1, le=65535)
    compress: bool = True  # brotli/gzip answers (false: identity, e.g. to compare in a benchmark)
    cache_static: bool = True  # fingerprinted files cached a year, immutable; the page revalidated
    # The most rows one /api/v1/prices answer holds (a cursor reads on); the CSV's page size.
    api_max_rows: int = Field(default=10_000, ge=1, le=1_000_000)
    # A request body above this is refused (413) before it is read; a tick's is about 2 kB.
    max_request_bytes: int = Field(default=1_048_576, ge=1024, le=1_073_741_824)

    # Running as a service
    web_polls: bool = True  # false: web workers never poll (a separate `stockstreamer poll` does)
    # PostgreSQL connections a process keeps open: its request threads, the poller lock's own
    # connection and the poller's writes. Beyond it SQLAlchemy opens and closes one per use.
    db_pool_size: int = Field(default=8, ge=1, le=100)
    # Nothing waits forever (seconds): to connect, for one statement, for a free pooled connection.
    db_connect_timeout: float = Field(default=5.0, gt=0, le=300)
    db_statement_timeout: float = Field(default=10.0, gt=0, le=3600)
    db_pool_timeout: float = Field(default=5.0, gt=0, le=300)
    ready_max_price_age: float | None = Field(default=None, gt=0)
    # Set by gunicorn.conf.py: every worker writes its metrics to files there, /metrics sums them.
    prometheus_multiproc_dir: str | None = Field(
        default=None, validation_alias="PROMETHEUS_MULTIPROC_DIR"
    )

    # Each provider's validated options, by model; filled by load_settings.
    _options: dict[type[ProviderOptions], ProviderOptions] = PrivateAttr(default_factory=dict)
    # Sign-in and /metrics (core/access.py); filled by load_settings.
    _access: AccessSettings | None = PrivateAttr(default=None)

    @property
    def access(self) -> AccessSettings:
        """Sign-in and /metrics access (the defaults unless load_settings read them)."""
        return self._access if self._access is not None else AccessSettings.model_construct()

    @property
    def ready_price_age(self) -> float:
        """How old the newest price may be while the market is open and still be ready."""
        if self.ready_max_price_age is not None:
            return self.ready_max_price_age
        return max(60.0, 3 * self.price_interval)

    @property
    def retention(self) -> Retention:
        """Days kept per level, as the retention job and the chart's reads use them."""
        return Retention(
            {
                TICKS: self.retain_ticks,
                MINUTE: self.retain_minute_bars,
                FIVE_MINUTES: self.retain_five_minute_bars,
                HOUR: self.retain_hour_bars,
                DAY: self.retain_daily_bars,
            }
        )

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

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is a SQLite file."""
        return self.database_url.startswith("sqlite")

    def safe_database_url(self) -> str:
        """The database URL with any password hidden, for logs."""
        return make_url(self.database_url).render_as_string(hide_password=True)

    def options(self, model: type[OptionsT]) -> OptionsT:
        """One provider's validated settings (its descriptor was handed to load_settings)."""
        try:
            return self._options[model]  # type: ignore[return-value]
        except KeyError:
            message = f"{model.__name__} was not loaded: hand its provider to load_settings"
            raise LookupError(message) from None


def load_settings(providers: Iterable[DeclaresOptions] = (), **overrides: object) -> Settings:
    """Read and validate the settings and each provider's; raise SettingsError with one clear line.

    Without providers (the alembic environment) only the shared fields are read.
    Overrides use the flat names of the variables: `alpaca_base_url=…` sets
    STOCKSTREAMER_ALPACA_BASE_URL's field.
    """
    providers = tuple(providers)
    names = [p.name for p in providers]
    split = _split_overrides(overrides, [AccessSettings, *(p.options for p in providers)])
    settings = _validated(Settings, split[Settings], names, None)
    settings._access = _validated(AccessSettings, split[AccessSettings], names, None)
    problem = settings._access.combination_problem()
    if problem:
        raise SettingsError(problem)
    for provider in providers:
        options = _validated(provider.options, split[provider.options], names, provider.name)
        settings._options[provider.options] = options
    return settings


M = TypeVar("M", bound=BaseSettings)


def _validated(model: type[M], values: dict[str, object], names: list[str], own: str | None) -> M:
    """The model read and validated, its provider names checked; SettingsError otherwise."""
    try:
        validated = model(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error.get("loc") else ""
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        # Never echo the value: it may be a password or a token.
        raise SettingsError(f"invalid setting {_variable(model, field)}: {message}") from None
    for field, info in model.model_fields.items():
        if names and any(isinstance(m, NamesAProvider) for m in info.metadata):
            choices = [name for name in names if name != own]
            value = getattr(validated, field)
            if value not in choices:
                raise SettingsError(
                    f"invalid setting {env_name(model, field)}: unknown provider {value!r}; "
                    f"choose one of {', '.join(choices)}"
                )
    return validated


def _variable(model: type[BaseSettings], field: str) -> str:
    return env_name(model, field) if field in model.model_fields else field or "settings"


def _split_overrides(
    overrides: dict[str, object], models: list[type[BaseSettings]]
) -> dict[type[BaseSettings], dict[str, object]]:
    """Each override given to the model whose variable it names (its flat, lower-case name)."""
    split: dict[type[BaseSettings], dict[str, object]] = {Settings: {}}
    split.update((model, {}) for model in models)
    for name, value in overrides.items():
        owner = next((m for m in split if _field_of(m, name) is not None), None)
        if owner is None:
            raise TypeError(f"load_settings() got an unknown setting {name!r}")
        split[owner][_field_of(owner, name)] = value  # type: ignore[index]
    return split


def _field_of(model: type[BaseSettings], name: str) -> str | None:
    prefix = model.model_config.get("env_prefix", "").removeprefix(ENV_PREFIX).lower()
    field = name.removeprefix(prefix) if name.startswith(prefix) else None
    return field if field in model.model_fields else None
