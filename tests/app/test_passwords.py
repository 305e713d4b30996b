"""The password file: `stockstreamer passwd USER` makes its lines; a bad file stops the start."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.passwords import PasswordFileError, password_line, read_passwords
from tests.app.test_cli import cli_env, stockstreamer


def passwd(user: str, typed: str, tmp_path) -> subprocess.CompletedProcess:
    """`stockstreamer passwd USER` with `typed` on its standard input (no terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "passwd", user],
        input=typed,
        capture_output=True,
        text=True,
        env=cli_env(f"sqlite:///{tmp_path / 'x.db'}"),
        cwd=tmp_path,
        timeout=60,
    )


def test_passwd_prints_a_line_that_signs_that_user_in(tmp_path):
    made = passwd("alice", "pw 1\n", tmp_path)
    assert made.returncode == 0, made.stderr
    line = made.stdout.strip()
    assert line.startswith("alice:$argon2id$v=19$") and "pw 1" not in line
    (tmp_path / "users").write_text(line + "\n")
    passwords = read_passwords(tmp_path / "users")
    assert passwords.check("alice", "pw 1")
    assert passwords.check("alice", "pw 1")  # remembered: no second hash
    assert not passwords.check("alice", "pw 2")
    assert not passwords.check("bob", "pw 1")


@pytest.mark.parametrize(
    ("user", "typed", "says"), [("a:b", "x\n", "a user name is"), ("bob", "\n", "empty")]
)
def test_passwd_refuses_a_bad_name_or_an_empty_password(tmp_path, user, typed, says):
    made = passwd(user, typed, tmp_path)
    assert made.returncode == 2 and made.stdout == ""
    assert made.stderr.count("\n") == 1 and says in made.stderr


def test_a_salt_is_new_each_time():
    assert password_line("alice", "x") != password_line("alice", "x")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "names no user"),
        ("# only a comment\n", "names no user"),
        ("alice:plaintext\n", "line 1: not an argon2id hash"),
        ("alice\n", "line 1: not an argon2id hash"),
        ("bad user:$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaA\n", "line 1: not `user:hash`"),
        ("alice:$argon2i$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo\n", "not an argon2id"),
    ],
)
def test_a_bad_file_names_its_line_and_never_a_hash(tmp_path, text, says):
    path = tmp_path / "users"
    path.write_text(text)
    with pytest.raises(PasswordFileError) as caught:
        read_passwords(path)
    assert says in str(caught.value) and f"STOCKSTREAMER_AUTH_FILE={path}" in str(caught.value)
    assert "$argon2" not in str(caught.value)


def test_a_user_named_twice_is_refused(tmp_path):
    line = password_line("alice", "x")
    (tmp_path / "users").write_text(f"{line}\n{line}\n")
    with pytest.raises(PasswordFileError, match="line 2: alice is named twice"):
        read_passwords(tmp_path / "users")


def test_run_with_an_unreadable_password_file_stops_with_one_line_and_status_2(tmp_path):
    env = cli_env(f"sqlite:///{tmp_path / 'x.db'}", STOCKSTREAMER_AUTH_FILE=str(tmp_path / "none"))
    ran = stockstreamer("run", env=env, cwd=tmp_path, timeout=30)
    assert ran.returncode == 2
    said = f"cannot read STOCKSTREAMER_AUTH_FILE={tmp_path / 'none'}: no such file or directory"
    assert ran.stderr == f"stockstreamer: {said}\n"
