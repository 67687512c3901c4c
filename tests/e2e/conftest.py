"""A real headless Chromium (Debian's ``chromium``) driven by Playwright, on the real app.

Playwright never downloads a browser here: it launches /usr/bin/chromium by path.  When that
is missing the fixture fails with the install command, unless CLINICALL_SKIP_BROWSER=1, which
skips instead.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SKIP_BROWSER_ENV = "CLINICALL_SKIP_BROWSER"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if os.environ.get(SKIP_BROWSER_ENV) == "1":
        pytest.skip(f"browser tests skipped ({SKIP_BROWSER_ENV}=1)")
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed: apt-get install chromium "
                    f"(or set {SKIP_BROWSER_ENV}=1 to skip these tests)")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        pytest.fail("Playwright is not installed: .venv/bin/pip install playwright "
                    "(never 'playwright install': the Debian chromium is used)")
    return CHROMIUM


@pytest.fixture
async def browser(chromium_path: Path) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()
