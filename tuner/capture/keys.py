"""Keys as they go into a capture file: a salted 64-bit hash by default, the raw key only when asked.

A trace is meant to be shared (attached to an issue, sent to whoever tunes the
cache), and cache keys often hold user ids or e-mail addresses. So a key is
written as the first 8 bytes of BLAKE2b keyed with a salt, in hex: the same
key and salt give the same id in every process and every run, so workers of
one server and consecutive captures line up, while nobody without the salt
can test a guess ("is alice@example.com in there?"). The salt is ``salt=``,
else the environment variable ``CACHETUNE_CAPTURE_SALT``, else 16 random
bytes drawn once per process (ids then match within that process only).

A key that is not ``str`` or ``bytes`` (a function's arguments) is written as
its ``repr``: stable for numbers, strings and tuples of them; an object whose
``repr`` shows its address gets a new id each run.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable

SALT_VARIABLE = "CACHETUNE_CAPTURE_SALT"
_LARGEST_SALT = 64  # BLAKE2b's longest key
_REMEMBERED = 1 << 18  # ids kept for keys seen recently: a hot key is hashed once, not per request


def key_bytes(key: object) -> bytes:
    """The bytes a key is identified by: a str as UTF-8, bytes as they are, anything else its ``repr``."""
    if isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode("utf-8", "surrogateescape")
    try:
        return repr(key).encode("utf-8", "surrogateescape")
    except Exception:  # a broken __repr__ must not stop the writer: the type and identity still tell keys apart
        return f"<{type(key).__qualname__} at {id(key):#x}>".encode()


def resolve_salt(salt: str | bytes | None) -> tuple[bytes, str]:
    """The salt to hash with and where it came from (``"argument"``, ``"environment"`` or ``"random"``)."""
    if salt is None and os.environ.get(SALT_VARIABLE):
        salt, source = os.environ[SALT_VARIABLE], "environment"
    elif salt is None:
        return os.urandom(16), "random"
    else:
        source = "argument"
    raw = salt.encode() if isinstance(salt, str) else bytes(salt)
    if len(raw) > _LARGEST_SALT:  # BLAKE2b takes a key of at most 64 bytes: longer salts are hashed down to 64
        raw = hashlib.blake2b(raw).digest()
    return raw, source


def salt_fingerprint(salt: bytes) -> str:
    """A short id of the salt (not the salt): two traces with the same fingerprint share their key ids."""
    return hashlib.blake2b(b"cachetune salt fingerprint", key=salt, digest_size=4).hexdigest()


def hashed_id(key: object, salt: bytes) -> str:
    """The key's salted 64-bit id as 16 hex digits."""
    return hashlib.blake2b(key_bytes(key), key=salt, digest_size=8).hexdigest()


_UNESCAPE = re.compile(rb"\\([\\nr])")
_UNESCAPED = {b"\\": b"\\", b"n": b"\n", b"r": b"\r"}


def raw_key(field: bytes) -> bytes:
    """A raw key's bytes from its field as the csv reader gives it (the quotes gone, ``""`` and escapes kept)."""
    if b'""' in field:
        field = field.replace(b'""', b'"')
    if b"\\" in field:
        field = _UNESCAPE.sub(lambda match: _UNESCAPED[match.group(1)], field)
    return field


def key_writer(salt: bytes, keep_keys: bool) -> Callable[[object], bytes]:
    """A function giving the bytes written for a key: its hashed id, or with ``keep_keys`` the raw key.

    A raw key is written as a CSV field, quoted (``""`` for a quote) when it
    holds a comma or a quote; a line feed or carriage return (which no row may
    hold) is written as ``\\n`` or ``\\r`` and a backslash as two.
    ``raw_key`` undoes both, so the capture reader gives back the key's
    bytes.
    """
    if keep_keys:

        def raw(key: object) -> bytes:
            data = key_bytes(key)
            if b"\\" in data or b"\n" in data or b"\r" in data:
                data = data.replace(b"\\", b"\\\\").replace(b"\n", b"\\n").replace(b"\r", b"\\r")
            if b"," in data or b'"' in data:
                data = b'"' + data.replace(b'"', b'""') + b'"'
            return data

        return raw
    remembered: dict[bytes, bytes] = {}  # by the key's bytes, not the key: 1 and 1.0 are equal but print apart

    def hashed(key: object) -> bytes:
        data = key_bytes(key)
        value = remembered.get(data)
        if value is None:
            if len(remembered) >= _REMEMBERED:
                remembered.clear()
            value = remembered[data] = hashlib.blake2b(data, key=salt, digest_size=8).hexdigest().encode()
        return value

    return hashed
