"""The supervisor's live page in a real browser: the numbers change as calls come and go."""

import asyncio

from tests.support.browser import chromium
from tests.support.sipp import DtmfInfo, Hangup, Pause, call


async def test_the_live_page_shows_a_waiting_caller_then_the_abandonment(stack):
    assert stack.cli("users", "add", "sup-page", "--role", "supervisor", "--password",
                     "sup-page-password", "--seat", "1998").returncode == 0
    async with chromium() as browser:
        page = await browser.new_page()
        await page.goto(f"{stack.base_url}/supervisor")
        await page.fill("#user", "sup-page")
        await page.fill("#password", "sup-page-password")
        await page.click("button[type=submit]")
        await page.wait_for_selector("#board:not([hidden])")
        abandoned_before = int(await page.text_content("#abandoned"))
        assert await page.text_content("#waiting") == "0"
        assert "1999" in await page.text_content("#seats"), "the seat on duty is listed"

        citizen = asyncio.create_task(call(stack.sip_port, "13800000901",
                                           [Pause(1500), DtmfInfo("1"), Pause(12000),
                                            Hangup()]))
        await page.wait_for_function("document.getElementById('waiting').textContent === '1'",
                                     timeout=30000)
        calls = await page.text_content("#calls")
        assert "13800000901" in calls and "排队中" in calls and "咨询" in calls
        await page.screenshot(path="/tmp/supervisor-page.png", full_page=True)
        assert (await citizen).ok
        await page.wait_for_function(
            f"Number(document.getElementById('abandoned').textContent) === "
            f"{abandoned_before + 1}", timeout=30000)
        assert await page.text_content("#waiting") == "0"
        assert await page.text_content("#abandonment") != "—"
