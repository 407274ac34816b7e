"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by Playwright):
what a person sees, for ``pingan bi --screenshot`` and the browser test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pingan_transforms.bi.superset import ADMIN, DASHBOARD_SLUG, Superset, SupersetError
from pingan_transforms.chromium import CHROMIUM_FLAGS, chromium_path


@contextmanager
def dashboard_page(superset: Superset, width: int = 1600, height: int = 1400) -> Iterator[Any]:
    """A page logged in as the admin, on the dashboard, its charts requested."""
    from playwright.sync_api import sync_playwright

    chromium = chromium_path()
    if chromium is None:
        raise SupersetError("no chromium here: apt-get install chromium fonts-noto-cjk")
    password = superset.admin_password()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(CHROMIUM_FLAGS))
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
            page.goto(f"{superset.url}/login/")
            page.fill("#username", ADMIN)
            page.fill("#password", password)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            if "/login" in page.url:
                raise SupersetError(f"Superset refused the admin login in the browser ({page.url})")
            page.goto(f"{superset.url}/superset/dashboard/{DASHBOARD_SLUG}/")
            page.wait_for_selector("[data-test-chart-name]", timeout=90_000)
            yield page
        finally:
            browser.close()


def table_rows(
    page: Any, chart: str, expected: int | None = None, timeout: float = 90
) -> list[list[str]]:
    """The body rows of a table chart, as cell texts. The dashboard draws a chart once
    its filters have their first values, so this waits until the row count is
    ``expected`` (when given) and stops changing."""
    rows = page.locator(f'[data-test-chart-name="{chart}"] tbody tr')
    deadline = time.monotonic() + timeout
    last: list[str] | None = None
    while time.monotonic() < deadline:
        texts = rows.all_inner_texts()
        if texts and texts == last and (expected is None or len(texts) == expected):
            return [text.split("\t") for text in texts]
        last = texts
        page.wait_for_timeout(1000)
    raise SupersetError(
        f"the chart {chart} showed {len(last or [])} rows, not {expected}, within {timeout:.0f} s"
    )


def screenshot(superset: Superset, path: Path, settle_ms: int = 5000) -> Path:
    """A PNG of the whole dashboard once its ranking is drawn."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with dashboard_page(superset) as page:
        table_rows(page, "本月排名")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(settle_ms)  # the map and the charts' animations
        page.screenshot(path=str(path), full_page=True)
    return path
