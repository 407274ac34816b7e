"""A small client for paged JSON APIs: bearer token, paging, retries with backoff.

Source APIs of the departments (traffic police first) answer pages of the form
``{"data": [...], "page": 1, "page_size": 500, "total": 1234, "has_more": true}``.
:meth:`PagedJsonClient.iter_pages` yields them one at a time, so an extractor can
write each page to the warehouse before asking for the next: the source is never
held in memory as a whole.

Rate limits (429), server errors (5xx) and connection errors are retried with
exponential backoff; a ``Retry-After`` the server sends is honoured but capped, so
that a misconfigured gateway cannot stall a run for hours. When the last attempt
fails, or the source refuses the request outright (401, 403, 404, 422: retrying
would not help), :class:`SourceUnavailable` names the URL and the last status or
error. The bearer token never appears in a message or a log line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from pingan_transforms.extract.errors import SourceUnavailable

log = logging.getLogger(__name__)

_RETRIED_4XX = frozenset({408, 425, 429})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry one request.

    The n-th retry waits ``base_delay * 2 ** (n - 1)`` seconds, or the server's
    ``Retry-After`` when it sends one, never more than ``max_delay``. ``sleep`` is a
    parameter so that tests can record the waits instead of sitting through them.
    """

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        wait = retry_after if retry_after is not None else self.base_delay * 2 ** (retry - 1)
        return max(0.0, min(wait, self.max_delay))


@dataclass(frozen=True)
class Page:
    number: int
    records: list[dict[str, Any]]
    total: int | None
    has_more: bool


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date (RFC 9110 §10.2.3)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()


def _retryable(status: int) -> bool:
    return status in _RETRIED_4XX or status >= 500


class PagedJsonClient:
    """GET JSON from one base URL with a bearer token; use as a context manager."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._client = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
        )

    def __enter__(self) -> PagedJsonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """One GET, retried per the policy; the decoded JSON body of a 200 answer."""
        request = self._client.build_request("GET", path, params=params)
        url = str(request.url)
        last = ""
        for attempt in range(1, self.retry.attempts + 1):
            retry_after: float | None = None
            try:
                response = self._client.send(request)
            except httpx.TransportError as exc:  # refused, reset, timed out, DNS
                last = f"{type(exc).__name__}: {exc}".rstrip(": ")
            else:
                if response.status_code == 200:
                    try:
                        return response.json()
                    except ValueError:
                        raise SourceUnavailable(
                            f"GET {url} answered 200 with a body that is not JSON"
                        ) from None
                last = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
                if not _retryable(response.status_code):
                    hint = " (check the API token)" if response.status_code in (401, 403) else ""
                    raise SourceUnavailable(f"GET {url} was refused with {last}{hint}; not retried")
                retry_after = _retry_after(response)
            if attempt == self.retry.attempts:
                break
            wait = self.retry.delay(attempt, retry_after)
            log.warning(
                "GET %s: %s; retry %d of %d in %.2fs",
                url, last, attempt, self.retry.attempts - 1, wait,
            )  # fmt: skip
            self.retry.sleep(wait)
        raise SourceUnavailable(
            f"GET {url} failed after {self.retry.attempts} attempt(s); last: {last}"
        )

    def iter_pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, page_size: int = 500
    ) -> Iterator[Page]:
        """Pages 1, 2, … until ``has_more`` is false, one request at a time.

        Offset paging is only consistent while the result set stands still, so the
        ``total`` of every page must equal the first one's and the records must add
        up to it; otherwise the source changed under us and the read is abandoned
        (raise, so the caller's transaction rolls back and a later run starts over).
        """
        number, seen, first_total = 1, 0, None
        while True:
            query = {**(params or {}), "page": number, "page_size": page_size}
            body = self.get_json(path, query)
            where = f"GET {path} page {number}"
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise SourceUnavailable(f"{where} is not a paged answer: no 'data' list")
            if not isinstance(body.get("has_more"), bool):
                raise SourceUnavailable(f"{where} is not a paged answer: no 'has_more' flag")
            total = body.get("total")
            if number == 1:
                first_total = total
            elif total != first_total:
                raise SourceUnavailable(
                    f"{where}: total changed from {first_total} to {total} while paging; "
                    "the source changed under the read, run the extract again"
                )
            records = body["data"]
            seen += len(records)
            yield Page(number, records, total, body["has_more"])
            if not body["has_more"]:
                break
            if not records:
                raise SourceUnavailable(f"{where} is empty but says has_more")
            number += 1
        if isinstance(first_total, int) and seen != first_total:
            raise SourceUnavailable(
                f"GET {path}: {seen} records over {number} page(s) but total said {first_total}"
            )
