"""gunicorn's master checks the settings (app/settings_check.py): a bad one stops it, status 2."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.app.service_helpers import ROOT, free_port, service_env


def master(env: dict[str, str], tmp_path, timeout: float = 20) -> tuple[int, str, float]:
    """Run gunicorn as the README does; its status, its output and how long it ran."""
    metrics = tmp_path / "metrics"
    metrics.mkdir(exist_ok=True)
    env = {**env, "PORT": str(free_port()), "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app.wsgi:server"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # a master that respawns workers forever
        output, _ = process.communicate(timeout=10)
        pytest.fail(f"gunicorn still ran after {timeout} s:\n{output[-3000:]}")
    return process.returncode, output, time.monotonic() - started


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ({"STOCKSTREAMER_SYMBOLS": "<x>"}, "gunicorn: invalid setting STOCKSTREAMER_SYMBOLS: "),
        (
            {"STOCKSTREAMER_PRICE_INTERVAL": "soon"},
            "gunicorn: invalid setting STOCKSTREAMER_PRICE_INTERVAL: ",
        ),
        (
            {"STOCKSTREAMER_OIDC_CLIENT_ID": "x"},
            "gunicorn: invalid setting STOCKSTREAMER_OIDC_CLIENT_ID: needs STOCKSTREAMER_OIDC_",
        ),
        (
            {"STOCKSTREAMER_AUTH_FILE": "/nonexistent/users"},
            "gunicorn: cannot read STOCKSTREAMER_AUTH_FILE=/nonexistent/users: ",
        ),
        (
            {"DATABASE_URL": "sqlite:////sys/x.db"},
            "gunicorn: cannot use the database at DATABASE_URL=sqlite:////sys/x.db: ",
        ),
    ],
)
def test_a_bad_setting_stops_the_master_with_status_2_and_one_line(setting, says, tmp_path):
    env = {**service_env(f"sqlite:///{tmp_path / 'x.db'}", tmp_path), **setting}
    status, output, seconds = master(env, tmp_path)
    assert status == 2, output
    assert seconds < 10
    ours = [line for line in output.splitlines() if not line.startswith("[")]  # gunicorn's own
    assert len(ours) == 1 and ours[0].startswith(says), output
    assert "Booting worker" not in output and "Listening at" not in output
    assert "Traceback" not in output
