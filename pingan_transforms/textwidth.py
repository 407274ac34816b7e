"""Columns a text takes in a terminal, so that tables with Chinese names line up."""

from __future__ import annotations

import unicodedata


def display_width(text: str) -> int:
    """East-Asian wide and full-width characters take two columns, the rest one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int, right: bool = False) -> str:
    """``text`` filled with spaces to ``width`` columns (on the left when ``right``)."""
    fill = " " * max(width - display_width(text), 0)
    return fill + text if right else text + fill
