"""Files that readers never see half-written.

Everything the pipeline publishes or records on disk (rankings, exports, the bulletin,
quality results) is read by someone else while a later run may be rewriting it: a BI
tool, the mail task, an operator's browser. So it is written to a temporary file in the
same folder and renamed over the old one, which is atomic on one filesystem.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` and rename ``tmp`` over ``path``; on failure the old file stays.

    The temporary name is unique per call, not only per process: two threads (or two
    tasks of one worker) writing the same month must not write into one temporary file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding=encoding))
