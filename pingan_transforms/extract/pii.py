"""Personal data is keyed-hashed before it lands anywhere (DESIGN.md §5).

HMAC-SHA256 with a secret key keeps hashes joinable (the same caller phone gives
the same hash across batches, so repeat callers can be counted) while making a
dictionary attack on the 10^11 possible phone numbers useless without the key.
Values are normalised first (white space removed, upper case, so that an ID
number's final ``x``/``X`` hash alike).
"""

from __future__ import annotations

import hashlib
import hmac


def _normalise(value: object) -> str | None:
    if value is None:
        return None
    text = "".join(str(value).split()).upper()
    return text or None


def keyed_hash(key: bytes, value: object) -> str | None:
    text = _normalise(value)
    if text is None:
        return None
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


class KeyedHasher:
    """:func:`keyed_hash` for hot loops (same result, about twice as fast).

    HMAC(k, m) = H((k ^ opad) || H((k ^ ipad) || m)) (RFC 2104). The two keyed
    prefixes are hashed once here; each call only copies the two SHA-256 states.
    """

    def __init__(self, key: bytes) -> None:
        block = 64  # SHA-256 block size
        if len(key) > block:
            key = hashlib.sha256(key).digest()
        key = key.ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def __call__(self, value: object) -> str | None:
        text = _normalise(value)
        if text is None:
            return None
        inner = self._inner.copy()
        inner.update(text.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()
