"""Settings: defaults, normalisation, and one clear line with exit status 2 for a bad value."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core.settings import DEFAULT_SYMBOLS, SettingsError, load_settings


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
    assert settings.provider_base_url == "http://127.0.0.1:9999/1.0"
    assert settings.price_interval == 0.5
    assert "pw" not in settings.safe_database_url()
    assert "pw" not in repr(settings)


def test_a_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("STOCKSTREAMER_SYMBOLS=TSLA\n")
    assert load_settings().symbols == ("TSLA",)


def test_iex_gets_a_default_base_url(monkeypatch):
    monkeypatch.setenv("STOCKSTREAMER_PROVIDER", "iex")
    assert load_settings().provider_base_url == "https://cloud.iexapis.com/stable"


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


@pytest.mark.parametrize("command", [["poll", "--once"], ["init-db"]])
def test_the_cli_exits_2_with_one_line(tmp_path, command):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKSTREAMER_")}
    env.update(STOCKSTREAMER_PRICE_INTERVAL="-1", DATABASE_URL="sqlite:///x.db")
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "stockstreamer: invalid setting STOCKSTREAMER_PRICE_INTERVAL: "
        "Input should be greater than 0"
    ]
    assert done.stdout == ""


def test_alembic_exits_2_with_one_line(tmp_path, project_root):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKSTREAMER_")}
    env["DATABASE_URL"] = "oracle://scott:tiger@h/db"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            str(project_root / "alembic.ini"),
            "upgrade",
            "head",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
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
    assert (settings.price_provider, settings.metadata_provider) == ("alpaca", "finnhub")
    assert settings.alpaca_base_url == "https://data.alpaca.markets"
    assert settings.finnhub_base_url == "https://finnhub.io/api/v1"
    assert settings.twelvedata_base_url == "https://api.twelvedata.com"
    assert settings.finnhub_token is None


def test_keys_are_secret_and_stripped_and_an_empty_one_is_none(monkeypatch):
    monkeypatch.setenv("STOCKSTREAMER_FINNHUB_TOKEN", "  fh_0123456789  ")
    monkeypatch.setenv("STOCKSTREAMER_TWELVEDATA_API_KEY", "")
    settings = load_settings()
    assert settings.finnhub_token.get_secret_value() == "fh_0123456789"
    assert settings.twelvedata_api_key is None
    assert "fh_0123456789" not in repr(settings)


def test_a_key_that_cannot_travel_in_a_header_is_refused_without_echo(monkeypatch):
    monkeypatch.setenv("STOCKSTREAMER_ALPACA_SECRET_KEY", "half of\tmy secret")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == (
        "invalid setting STOCKSTREAMER_ALPACA_SECRET_KEY: must be printable ASCII without spaces"
    )
