"""The password file of basic sign-in: `user:$argon2id$…` lines, checked in equal time.

argon2id (argon2-cffi) is what `stockstreamer passwd USER` writes. An unknown user
is checked against a dummy hash of the file's own parameters, so a wrong user and a
wrong password cost the same time and give the same answer. A browser sends the
password with every request (a tick every 5 s): a success is remembered for a few
minutes under a keyed digest, so only failures pay the ~0.1 s hash every time.
The file is looked at again each second and read again when it changed: a user
added or removed by `stockstreamer passwd` counts at once, with no restart.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

log = logging.getLogger(__name__)
USER = re.compile(r"[A-Za-z0-9._@+-]{1,64}")  # no ':' (the separator), no space or control
REMEMBER_SECONDS = 300.0
REMEMBERED_MOST = 1024
LOOK_EVERY = 1.0  # seconds between looks at whether the file changed


class PasswordFileError(Exception):
    """The file cannot be used; the message names it and the line, never a hash."""


def password_line(user: str, password: str) -> str:
    """One line of the file for this user (a new salt each time)."""
    if not USER.fullmatch(user):
        raise ValueError("a user name is 1-64 letters, digits or . _ @ + -")
    if not password:
        raise ValueError("the password is empty")
    return f"{user}:{PasswordHasher().hash(password)}"


@dataclass
class Passwords:
    """The users and their hashes; `check(user, password)` is the sign-in's verdict."""

    hashes: dict[str, str]
    _hasher: PasswordHasher = field(init=False)
    _dummy: str = field(init=False)
    _key: bytes = field(init=False, default_factory=lambda: secrets.token_bytes(32))
    _remembered: dict[bytes, float] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        first = next(iter(self.hashes.values()))
        self._hasher = PasswordHasher.from_parameters(extract_parameters(first))
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def check(self, user: str, password: str) -> bool:
        """Whether this user has this password; an unknown user costs the same as a known one."""
        digest = hmac.new(self._key, f"{user}\0{password}".encode(), hashlib.sha256).digest()
        now = time.monotonic()
        with self._lock:
            if self._remembered.get(digest, 0.0) > now:
                return True
        stored = self.hashes.get(user)
        try:
            self._hasher.verify(stored or self._dummy, password)
        except (VerificationError, InvalidHashError):
            return False
        if stored is None:
            return False  # the dummy's password is random: never reached, but never trusted
        with self._lock:
            if len(self._remembered) >= REMEMBERED_MOST:
                self._remembered.clear()
            self._remembered[digest] = now + REMEMBER_SECONDS
        return True


class PasswordFile:
    """The file's users, read again when the file changes; a broken change keeps the last good."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self._stamp = _stamp(path)
        self._passwords = read_passwords(path)  # PasswordFileError at start: the start stops
        self._looked_at = time.monotonic()
        self._lock = threading.Lock()

    def check(self, user: str, password: str) -> bool:
        """The verdict of the file as it is now (a removed user's remembered success is gone)."""
        self._read_if_changed()
        return self._passwords.check(user, password)

    def _read_if_changed(self) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._looked_at < LOOK_EVERY:
                return
            self._looked_at = now
            stamp = _stamp(self.path)
            if stamp == self._stamp:
                return
            self._stamp = stamp
        try:
            passwords = read_passwords(self.path)
        except PasswordFileError as exc:
            log.error("sign-in: %s; the users read before still sign in", exc)
            return
        self._passwords = passwords
        log.info("sign-in: STOCKSTREAMER_AUTH_FILE read again: %d users", len(passwords.hashes))


def _stamp(path: str | os.PathLike[str]) -> tuple[int, int, int] | None:
    """What changes when the file does: written in place or replaced by another file."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size, status.st_ino


def read_passwords(path: str | os.PathLike[str]) -> Passwords:
    """The file's users, or PasswordFileError naming the file and the first bad line."""
    where = f"STOCKSTREAMER_AUTH_FILE={path}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else "unreadable"
        raise PasswordFileError(f"cannot read {where}: {reason}") from None
    hashes: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, _, hashed = line.partition(":")
        problem = _line_problem(user, hashed, hashes)
        if problem:
            raise PasswordFileError(f"{where}, line {number}: {problem}")
        hashes[user] = hashed
    if not hashes:
        raise PasswordFileError(f"{where} names no user (make a line: stockstreamer passwd USER)")
    return Passwords(hashes)


def _line_problem(user: str, hashed: str, seen: dict[str, str]) -> str | None:
    if not USER.fullmatch(user):
        return "not `user:hash` with a user name of letters, digits or . _ @ + -"
    if user in seen:
        return f"{user} is named twice"
    try:
        if extract_parameters(hashed).type.name != "ID":
            return "not an argon2id hash (make one: stockstreamer passwd USER)"
    except InvalidHashError:
        return "not an argon2id hash (make one: stockstreamer passwd USER)"
    return None
