"""`stockstreamer poll --once` as a real process against each provider's fake, into a real DB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from tests.db.helpers import ticks_between
from tests.fakes import alpaca_server, finnhub_server, twelvedata_server
from tests.fakes.alpaca_server import FakeAlpaca
from tests.fakes.finnhub_server import FakeFinnhub
from tests.fakes.twelvedata_server import FakeTwelveData

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
UTC = timezone.utc
SECRETS = (
    alpaca_server.KEY_ID,
    alpaca_server.SECRET_KEY,
    finnhub_server.TOKEN,
    twelvedata_server.API_KEY,
)


@pytest.fixture
def fakes():
    """One fake of each provider, all serving for the test."""
    with FakeAlpaca() as alpaca, FakeFinnhub() as finnhub, FakeTwelveData() as twelvedata:
        yield {"alpaca": alpaca, "finnhub": finnhub, "twelvedata": twelvedata}


def provider_env(fakes) -> dict[str, str]:
    """Every provider's base URL and credentials, as a user's .env would set them."""
    return {
        "STOCKSTREAMER_ALPACA_BASE_URL": fakes["alpaca"].url(),
        "STOCKSTREAMER_ALPACA_KEY_ID": alpaca_server.KEY_ID,
        "STOCKSTREAMER_ALPACA_SECRET_KEY": alpaca_server.SECRET_KEY,
        "STOCKSTREAMER_FINNHUB_BASE_URL": fakes["finnhub"].url(),
        "STOCKSTREAMER_FINNHUB_TOKEN": finnhub_server.TOKEN,
        "STOCKSTREAMER_TWELVEDATA_BASE_URL": fakes["twelvedata"].url(),
        "STOCKSTREAMER_TWELVEDATA_API_KEY": twelvedata_server.API_KEY,
    }


def poll_once(database_url: str, cwd, **settings: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKSTREAMER_")}
    env.update(
        DATABASE_URL=database_url,
        STOCKSTREAMER_RETRY_BACKOFF="0.01",
        STOCKSTREAMER_HTTP_TIMEOUT="2",
        STOCKSTREAMER_LOG_LEVEL="DEBUG",  # every line a secret could hide in
        **settings,
    )
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "poll", "--once"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )


def stored(database_url: str) -> list[tuple[str, Decimal, datetime]]:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            ticks = ticks_between(session, ["AAPL", "MSFT", "GE"], EPOCH)
            return sorted((t.symbol, Decimal(t.price), t.observed_at) for t in ticks)
    finally:
        engine.dispose()


ALPACA_ROWS = [
    # Stored to the whole millisecond (db.writes), from Alpaca's nanoseconds.
    ("AAPL", Decimal("201.45"), datetime(2025, 6, 2, 14, 30, 1, 123000, tzinfo=UTC)),
    ("GE", Decimal("246.3"), datetime(2025, 6, 2, 14, 29, 59, tzinfo=UTC)),
    ("MSFT", Decimal("461.97"), datetime(2025, 6, 2, 14, 30, 2, 500000, tzinfo=UTC)),
]
CASES = {
    "alpaca": ({"STOCKSTREAMER_PROVIDER": "alpaca"}, ALPACA_ROWS),
    "finnhub": (
        {"STOCKSTREAMER_PROVIDER": "finnhub"},
        [
            ("AAPL", Decimal("201.45"), datetime(2025, 6, 2, 14, 30, 1, tzinfo=UTC)),
            ("GE", Decimal("246.3"), datetime(2025, 6, 2, 14, 30, 3, tzinfo=UTC)),
            ("MSFT", Decimal("461.97"), datetime(2025, 6, 2, 14, 30, 2, tzinfo=UTC)),
        ],
    ),
    "twelvedata": (
        {"STOCKSTREAMER_PROVIDER": "twelvedata"},
        [
            ("AAPL", Decimal("201.45"), datetime(2025, 6, 2, 14, 30, tzinfo=UTC)),
            ("GE", Decimal("246.3"), datetime(2025, 6, 2, 14, 32, tzinfo=UTC)),
            ("MSFT", Decimal("461.97"), datetime(2025, 6, 2, 14, 31, tzinfo=UTC)),
        ],
    ),
    "composite": (
        {
            "STOCKSTREAMER_PROVIDER": "composite",
            "STOCKSTREAMER_PRICE_PROVIDER": "alpaca",
            "STOCKSTREAMER_METADATA_PROVIDER": "finnhub",
        },
        ALPACA_ROWS,
    ),
}


# Each case on one database (both are covered): a process costs a second.
@pytest.mark.parametrize(
    "case, db",
    [
        ("alpaca", "postgresql"),
        ("finnhub", "sqlite"),
        ("twelvedata", "postgresql"),
        ("composite", "sqlite"),
    ],
)
def test_poll_once_writes_the_fakes_prices(fakes, database_url_factory, tmp_path, case, db):
    url = database_url_factory(db)
    upgrade(url)
    settings, rows = CASES[case]
    done = poll_once(
        url, tmp_path, STOCKSTREAMER_SYMBOLS="AAPL,MSFT,GE", **provider_env(fakes), **settings
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["written"], result["failed"], result["rejected"]) == (3, {}, {})
    assert stored(url) == rows
    price_fake = "alpaca" if case == "composite" else case
    assert fakes[price_fake].seen() and all(r.status == 200 for r in fakes[price_fake].seen())
    others = [f for name, f in fakes.items() if name != price_fake]
    assert all(f.seen() == [] for f in others)  # --once polls prices only
    assert not any(secret in done.stdout + done.stderr for secret in SECRETS)
    if case == "twelvedata":  # 3 credits every 5 s: far beyond 800 a day
        assert "twelvedata allows 8 credits/min and 800/day, but 3 symbols" in done.stderr


@pytest.mark.parametrize(
    "provider, variable, setting",
    [
        (
            "alpaca",
            "STOCKSTREAMER_ALPACA_SECRET_KEY",
            "STOCKSTREAMER_ALPACA_KEY_ID and STOCKSTREAMER_ALPACA_SECRET_KEY",
        ),
        ("finnhub", "STOCKSTREAMER_FINNHUB_TOKEN", "STOCKSTREAMER_FINNHUB_TOKEN"),
        ("twelvedata", "STOCKSTREAMER_TWELVEDATA_API_KEY", "STOCKSTREAMER_TWELVEDATA_API_KEY"),
    ],
    ids=["alpaca", "finnhub", "twelvedata"],
)
def test_a_wrong_key_is_one_clear_line_and_never_printed(
    fakes, database_url_factory, tmp_path, provider, variable, setting
):
    url = database_url_factory("sqlite")
    wrong = "wrong-key-0123456789abcdef"
    env = {**provider_env(fakes), variable: wrong, "STOCKSTREAMER_PROVIDER": provider}
    done = poll_once(url, tmp_path, STOCKSTREAMER_SYMBOLS="AAPL,MSFT,GE", **env)
    assert done.returncode == 1
    failed = json.loads(done.stdout)["failed"]
    assert sorted(failed) == ["AAPL", "GE", "MSFT"] and len(set(failed.values())) == 1
    lines = [line for line in done.stderr.splitlines() if "failed" in line and setting in line]
    assert len(lines) == 1 and f"{provider} refused the key" in lines[0]
    assert wrong not in done.stdout + done.stderr
    assert not any(secret in done.stdout + done.stderr for secret in SECRETS)
