"""Settings: defaults, normalisation, and one clear line with exit status 2 for a bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import partial

import pytest

from core.options import env_name, reread
from core.settings import DEFAULT_SYMBOLS, SettingsError
from core.settings import load_settings as load_shared_settings
from jobs.providers.alpaca import AlpacaOptions
from jobs.providers.composite import CompositeOptions
from jobs.providers.finnhub import FinnhubOptions
from jobs.providers.iex import IEXOptions
from jobs.providers.registry import PROVIDERS
from jobs.providers.simulated import SimulatedOptions
from jobs.providers.twelvedata import TwelveDataOptions

# Every provider's settings, as the program loads them.
load_settings = partial(load_shared_settings, PROVIDERS)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No developer's environment or .env file leaks into these tests."""
    for name in list(os.environ):
        if name.startswith("STOCKSTREAMER_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_the_embedded_setup():
    settings = load_settings()
    assert settings.database_url == "sqlite:///stockstreamer.db"
    assert settings.symbols == DEFAULT_SYMBOLS == ("GE", "AMZN", "NVDA", "INTC", "AAPL", "NFLX")
    assert settings.provider == "simulated"
    assert (settings.price_interval, settings.metadata_interval) == (5.0, 21600.0)


def test_environment_values_are_read_and_normalised(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://user:pw@db.example:5432/stocks")
    monkeypatch.setenv("STOCKSTREAMER_SYMBOLS", " aapl, BRK.B ,msft,aapl ")
    monkeypatch.setenv("STOCKSTREAMER_PROVIDER", "IEX")
    monkeypatch.setenv("STOCKSTREAMER_PROVIDER_BASE_URL", "http://127.0.0.1:9999/1.0/")
    monkeypatch.setenv("STOCKSTREAMER_PRICE_INTERVAL", "0.5")
    settings = load_settings()
    assert settings.database_url == "postgresql+psycopg2://user:pw@db.example:5432/stocks"
    assert settings.symbols == ("AAPL", "BRK.B", "MSFT")
    assert settings.provider == "iex"
    assert settings.options(IEXOptions).base_url == "http://127.0.0.1:9999/1.0"
    assert settings.price_interval == 0.5
    assert "pw" not in settings.safe_database_url()
    assert "pw" not in repr(settings)


def test_a_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("STOCKSTREAMER_SYMBOLS=TSLA\n")
    assert load_settings().symbols == ("TSLA",)


def test_iex_gets_a_default_base_url(monkeypatch):
    monkeypatch.setenv("STOCKSTREAMER_PROVIDER", "iex")
    assert load_settings().options(IEXOptions).base_url == "https://cloud.iexapis.com/stable"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("STOCKSTREAMER_PROVIDER", "yahoo", "unknown provider"),
        ("STOCKSTREAMER_PROVIDER_BASE_URL", "ftp://example.com", "http:// or https://"),
        ("STOCKSTREAMER_PROVIDER_BASE_URL", "not a url", "http:// or https://"),
        ("DATABASE_URL", "mysql://u:p@h/db", "postgresql:// or sqlite:///"),
        ("DATABASE_URL", "::::", "not a database URL"),
        ("STOCKSTREAMER_SYMBOLS", "AAPL,$$$", "not a ticker"),
        ("STOCKSTREAMER_SYMBOLS", " , ", "at least one symbol"),
        ("STOCKSTREAMER_PRICE_INTERVAL", "0", "greater than 0"),
        ("STOCKSTREAMER_METADATA_INTERVAL", "-5", "greater than 0"),
        ("STOCKSTREAMER_HTTP_TIMEOUT", "soon", "number"),
        ("STOCKSTREAMER_DB_CONNECT_TIMEOUT", "0", "greater than 0"),
        ("STOCKSTREAMER_DB_STATEMENT_TIMEOUT", "-1", "greater than 0"),
        ("STOCKSTREAMER_DB_POOL_TIMEOUT", "never", "number"),
        ("STOCKSTREAMER_DB_STATEMENT_TIMEOUT", "86400", "less than or equal to 3600"),
    ],
)
def test_a_bad_value_names_the_variable(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    text = str(caught.value)
    assert text.startswith(f"invalid setting {variable}: ")
    assert message in text
    assert "\n" not in text


def test_database_timeouts_have_defaults_and_are_read(monkeypatch):
    settings = load_settings()
    timeouts = (settings.db_connect_timeout, settings.db_statement_timeout)
    assert (*timeouts, settings.db_pool_timeout) == (5.0, 10.0, 5.0)
    monkeypatch.setenv("STOCKSTREAMER_DB_CONNECT_TIMEOUT", "2")
    monkeypatch.setenv("STOCKSTREAMER_DB_STATEMENT_TIMEOUT", "1.5")
    monkeypatch.setenv("STOCKSTREAMER_DB_POOL_TIMEOUT", "0.5")
    settings = load_settings()
    timeouts = (settings.db_connect_timeout, settings.db_statement_timeout)
    assert (*timeouts, settings.db_pool_timeout) == (2.0, 1.5, 0.5)


def test_secrets_never_appear_in_the_error(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://user:hunter2@h/db")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "hunter2" not in str(caught.value)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv(
        "STOCKSTREAMER_PROVIDER_BASE_URL", "https://api.example/stable?token=sk_live_123"
    )
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "sk_live_123" not in str(caught.value)


def run_module(*argv: str, cwd, **env: str) -> subprocess.CompletedProcess:
    """`python -m …` with only these STOCKSTREAMER_ variables (and DATABASE_URL) set."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STOCKSTREAMER_")}
    run = partial(subprocess.run, capture_output=True, text=True, timeout=60)
    return run([sys.executable, "-m", *argv], env={**clean, **env}, cwd=cwd)


@pytest.mark.parametrize("command", [["poll", "--once"], ["init-db"]])
@pytest.mark.parametrize(
    "variable, message",
    [
        ("STOCKSTREAMER_PRICE_INTERVAL", "Input should be greater than 0"),
        ("STOCKSTREAMER_FINNHUB_RATE_LIMIT", "Input should be greater than or equal to 1"),
    ],
)
def test_the_cli_exits_2_with_one_line(tmp_path, command, variable, message):
    env = {variable: "-1", "DATABASE_URL": "sqlite:///x.db"}
    done = run_module("app.cli", *command, cwd=tmp_path, **env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"stockstreamer: invalid setting {variable}: {message}"
    ]
    assert done.stdout == ""


def test_alembic_exits_2_with_one_line(tmp_path, project_root):
    alembic_ini = str(project_root / "alembic.ini")
    db = "oracle://scott:tiger@h/db"
    done = run_module(
        "alembic", "-c", alembic_ini, "upgrade", "head", cwd=tmp_path, DATABASE_URL=db
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "invalid setting DATABASE_URL: must be a postgresql:// or sqlite:/// URL" in done.stderr
    assert "tiger" not in done.stderr


@pytest.mark.parametrize("provider", ["alpaca", "finnhub", "twelvedata", "composite"])
def test_keyed_providers_default_to_the_real_services(monkeypatch, provider):
    monkeypatch.setenv("STOCKSTREAMER_PROVIDER", provider.upper())
    settings = load_settings()
    assert settings.provider == provider
    composite = settings.options(CompositeOptions)
    assert (composite.price_provider, composite.metadata_provider) == ("alpaca", "finnhub")
    assert settings.options(AlpacaOptions).base_url == "https://data.alpaca.markets"
    assert settings.options(FinnhubOptions).base_url == "https://finnhub.io/api/v1"
    assert settings.options(TwelveDataOptions).base_url == "https://api.twelvedata.com"
    assert settings.options(FinnhubOptions).token is None


def test_keys_are_secret_and_stripped_and_an_empty_one_is_none(monkeypatch):
    monkeypatch.setenv("STOCKSTREAMER_FINNHUB_TOKEN", "  fh_0123456789  ")
    monkeypatch.setenv("STOCKSTREAMER_TWELVEDATA_API_KEY", "")
    settings = load_settings()
    assert settings.options(FinnhubOptions).token.get_secret_value() == "fh_0123456789"
    assert settings.options(TwelveDataOptions).api_key is None
    assert "fh_0123456789" not in repr(settings) + repr(settings.options(FinnhubOptions))


@pytest.mark.parametrize(
    "variable, value, message",
    [
        # A key that cannot travel in a header is refused without echo.
        (
            "STOCKSTREAMER_ALPACA_SECRET_KEY",
            "half of\tmy secret",
            "must be printable ASCII without spaces",
        ),
        # Every provider's settings are checked, whichever provider is chosen.
        ("STOCKSTREAMER_TWELVEDATA_DAILY_LIMIT", "0", "Input should be greater than or equal to 1"),
    ],
)
def test_a_bad_provider_setting_is_one_exact_line(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == f"invalid setting {variable}: {message}"


def test_every_variable_keeps_its_name():
    names = {
        SimulatedOptions: {"seed": "SIMULATED_SEED", "hours": "SIMULATED_HOURS"},
        IEXOptions: {"base_url": "PROVIDER_BASE_URL", "token": "PROVIDER_TOKEN"},
        AlpacaOptions: {
            "key_id": "ALPACA_KEY_ID",
            "secret_key": "ALPACA_SECRET_KEY",
            "base_url": "ALPACA_BASE_URL",
            "rate_limit": "ALPACA_RATE_LIMIT",
        },
        FinnhubOptions: {
            "token": "FINNHUB_TOKEN",
            "base_url": "FINNHUB_BASE_URL",
            "rate_limit": "FINNHUB_RATE_LIMIT",
        },
        TwelveDataOptions: {
            "api_key": "TWELVEDATA_API_KEY",
            "base_url": "TWELVEDATA_BASE_URL",
            "rate_limit": "TWELVEDATA_RATE_LIMIT",
            "daily_limit": "TWELVEDATA_DAILY_LIMIT",
        },
        CompositeOptions: {
            "price_provider": "PRICE_PROVIDER",
            "metadata_provider": "METADATA_PROVIDER",
        },
    }
    assert [spec.options for spec in PROVIDERS] == list(names)
    for model, fields in names.items():
        assert set(model.model_fields) == set(fields)
        for field, name in fields.items():
            assert env_name(model, field) == f"STOCKSTREAMER_{name}"


def test_overrides_take_the_flat_names_of_the_variables():
    settings = load_settings(
        provider_base_url="http://x.test/1.0/", alpaca_key_id="AK1", simulated_seed=1
    )
    assert settings.options(IEXOptions).base_url == "http://x.test/1.0"
    assert settings.options(SimulatedOptions).seed == 1
    assert settings.options(AlpacaOptions).key_id.get_secret_value() == "AK1"
    with pytest.raises(TypeError, match="unknown setting 'seed'"):
        load_settings(seed=1)


def test_without_providers_only_the_shared_settings_are_read(monkeypatch):
    monkeypatch.setenv("STOCKSTREAMER_FINNHUB_RATE_LIMIT", "0")
    monkeypatch.setenv("STOCKSTREAMER_PROVIDER", "Alpaca")
    settings = load_shared_settings(symbols="AAPL")
    assert (settings.symbols, settings.provider) == (("AAPL",), "alpaca")
    with pytest.raises(LookupError, match="FinnhubOptions was not loaded"):
        settings.options(FinnhubOptions)


def test_a_provider_rereads_its_own_settings_and_keeps_them_when_now_invalid(tmp_path):
    options = load_settings().options(FinnhubOptions)
    (tmp_path / ".env").write_text("STOCKSTREAMER_FINNHUB_TOKEN=fh_fixed_0000\n")
    assert reread(options).token.get_secret_value() == "fh_fixed_0000"
    (tmp_path / ".env").write_text("STOCKSTREAMER_FINNHUB_RATE_LIMIT=none\n")
    assert reread(options) is options


def test_retention_defaults_forever_and_bad_values(monkeypatch):
    from core.retention import DAY, FIVE_MINUTES, HOUR, MINUTE, TICKS

    defaults = load_settings().retention
    assert defaults.days == {TICKS: 30, MINUTE: 365, FIVE_MINUTES: 1825, HOUR: 1825, DAY: 0}
    assert defaults.limit(DAY) is None and defaults.limit(TICKS).days == 30
    monkeypatch.setenv("STOCKSTREAMER_RETAIN_TICKS", " Forever ")
    monkeypatch.setenv("STOCKSTREAMER_RETAIN_MINUTE_BARS", "0")
    monkeypatch.setenv("STOCKSTREAMER_RETAIN_DAILY_BARS", "3650.5")
    changed = load_settings().retention
    assert (changed.limit(TICKS), changed.limit(MINUTE)) == (None, None)
    assert changed.limit(DAY).total_seconds() == 3650.5 * 86400
    for bad, message in (("soon", "a number of days"), ("-1", "greater than or equal to 0")):
        monkeypatch.setenv("STOCKSTREAMER_RETAIN_HOUR_BARS", bad)
        with pytest.raises(SettingsError, match=message) as raised:
            load_settings()
        assert "STOCKSTREAMER_RETAIN_HOUR_BARS" in str(raised.value)
