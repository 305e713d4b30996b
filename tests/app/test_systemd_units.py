"""The EC2 guide's systemd units (docs/systemd/) pass `systemd-analyze verify` and are hardened."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "docs" / "systemd"
VENV_BIN = "srv/stockstreamer/venv/bin"
HARDENING = (
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "CapabilityBoundingSet=",
    "MemoryDenyWriteExecute=yes",
    "SystemCallFilter=@system-service",
)


@pytest.fixture
def root(tmp_path) -> Path:
    """A file tree for `systemd-analyze --root`: systemd's own units, stubs of the commands."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze (the systemd package) is not installed")
    shutil.copytree("/usr/lib/systemd/system", tmp_path / "usr/lib/systemd/system", symlinks=True)
    for command in (
        f"{VENV_BIN}/gunicorn",
        f"{VENV_BIN}/stockstreamer",
        f"{VENV_BIN}/alembic",
        "bin/kill",
    ):
        stub = tmp_path / command
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text("#!/bin/sh\n")
        stub.chmod(0o755)
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    return tmp_path


def verify(root: Path, text: str, name: str) -> subprocess.CompletedProcess[str]:
    unit = root / "etc/systemd/system" / name
    unit.write_text(text)
    command = ["systemd-analyze", "verify", f"--root={root}", str(unit)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "name",
    ["stockstreamer-web.service", "stockstreamer-poller.service", "stockstreamer-migrate.service"],
)
def test_each_unit_verifies_cleanly_and_is_hardened(root, name):
    text = (UNITS / name).read_text()

    done = verify(root, text, name)

    assert (done.returncode, done.stderr) == (0, "")
    lines = text.splitlines()
    for directive in HARDENING:
        assert directive in lines, directive
    assert "ReadWritePaths" not in text  # the RuntimeDirectory is all a service writes
    assert "User=stockstreamer" in lines or "DynamicUser=yes" in lines


def test_a_misspelt_directive_is_reported(root):
    """The check above can fail: systemd names an unknown key."""
    text = (
        (UNITS / "stockstreamer-web.service")
        .read_text()
        .replace("NoNewPrivileges=yes", "NoNewPrivilege=yes")
    )
    done = verify(root, text, "stockstreamer-web.service")
    assert "Unknown key 'NoNewPrivilege'" in done.stderr
