"""Debian's headless ``chromium``, as Playwright drives it for the screenshots and the
browser test (Playwright's own browser download cannot run here: no internet)."""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM_FLAGS = (
    # this machine's network is closed: no background connections, no sandbox as root
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip


def chromium_path() -> str | None:
    """Debian's chromium (``apt-get install chromium``), or None when it is missing."""
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
