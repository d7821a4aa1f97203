"""Debian's headless Chromium, driven by Playwright (its own browser download cannot work here)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


async def logged_in_page(browser: Browser, url: str, user: str, password: str,
                         shown: str) -> Page:
    """A new page at url, logged in through its login form; returns once the selector
    `shown` (the page's logged-in part) is visible."""
    page = await browser.new_page()
    await page.goto(url)
    await page.fill("#user", user)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_selector(shown)
    return page
