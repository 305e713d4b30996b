"""Log lines: the process id in text lines, one JSON object per line when asked, no URLs."""

from __future__ import annotations

import json
import logging

import pytest

from app.logs import configure_logging


@pytest.fixture(autouse=True)
def restore_logging():
    """These tests point the root logger at pytest's capture, which closes after them."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {
        name: logging.getLogger(name).level
        for name in ("httpx", "httpcore", "apscheduler", "alembic", "werkzeug")
    }
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def test_json_lines_carry_level_pid_logger_and_message(capsys):
    configure_logging("INFO", "json")
    logging.getLogger("jobs.poll").info("prices: written=%d duplicates=%d", 6, 0)
    logging.getLogger("httpx").info("HTTP Request: GET https://x.test/?token=secret")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1  # httpx's INFO lines (with the URL and its token) are dropped
    entry = json.loads(lines[0])
    assert entry["level"] == "INFO" and entry["logger"] == "jobs.poll"
    assert entry["message"] == "prices: written=6 duplicates=0"
    assert isinstance(entry["pid"], int) and entry["time"].endswith("+00:00")


def test_text_lines_carry_the_pid(capsys):
    import os

    configure_logging("INFO", "text")
    logging.getLogger("jobs.poll").info("hello")
    assert f"INFO [{os.getpid()}] jobs.poll: hello" in capsys.readouterr().err
