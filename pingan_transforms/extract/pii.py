"""Personal data is keyed-hashed before it lands anywhere (DESIGN.md §5).

HMAC-SHA256 with a secret key keeps hashes joinable (the same caller phone gives
the same hash across batches, so repeat callers can be counted) while making a
dictionary attack on the 10^11 possible phone numbers useless without the key.
"""

from __future__ import annotations

import hashlib
import hmac


def keyed_hash(key: bytes, value: object) -> str | None:
    if value is None:
        return None
    text = "".join(str(value).split()).upper()
    if not text:
        return None
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
