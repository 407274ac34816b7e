"""Errors every connector raises the same way, whatever its protocol."""

from __future__ import annotations


class SourceUnavailable(RuntimeError):
    """The source could not be read: it refused us, or stayed down through every retry.

    The message names the source (URL without secrets) and the last status or
    connection error. An extractor that raises it has loaded nothing (its
    transaction is rolled back), so the run can simply be retried.
    """
