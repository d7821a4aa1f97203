"""The supervisor's live page in a real browser: the numbers change as calls come and go."""

import asyncio
import re

from tests.support.browser import chromium, logged_in_page
from tests.support.phones import staffed_phones
from tests.support.sipp import (
    DtmfInfo,
    Hangup,
    Pause,
    call,
)


async def test_the_live_page_shows_a_waiting_caller_then_the_abandonment(stack):
    assert stack.cli("users", "add", "sup-page", "--role", "supervisor", "--password",
                     "sup-page-password", "--seat", "1998").returncode == 0
    async with chromium() as browser:
        page = await logged_in_page(
            browser, f"{stack.base_url}/supervisor",
            "sup-page", "sup-page-password", "#board:not([hidden])")
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


async def _open_board(browser, stack, user, password):
    page = await logged_in_page(browser, f"{stack.base_url}/supervisor", user, password,
                                "#board:not([hidden])")
    return page


async def test_one_click_listens_in_from_the_supervisors_own_phone(stack):
    operator_phone, supervisor_phone = await staffed_phones(
        stack, ("1311", "op1311", "operator"), ("1312", "sup1312", "supervisor"))
    await stack.post("/api/seats/1311/ready", {})
    async with chromium() as browser:
        page = await _open_board(browser, stack, "sup1312", "sup1312-password")
        citizen = asyncio.create_task(call(stack.sip_port, "13800000911",
                                           [Pause(1500), DtmfInfo("0"), Pause(16000),
                                            Hangup()]))
        listen = page.locator("#calls tr", has_text="13800000911").locator(
            "button[data-mode=listen]")
        await listen.wait_for(timeout=30000)  # shown once the operator is on the call
        await listen.click()
        await page.wait_for_function(
            "document.getElementById('action-result').textContent.includes('振铃')",
            timeout=10000)
        assert (await citizen).ok
    assert "INVITE sip:1312@127.0.0.1" in await supervisor_phone
    await operator_phone
    assert re.search(r"Attaching spy channel PJSIP/1312-\w+ to PJSIP/1311-\w+",
                     stack.asterisk_log()), "the supervisor's phone joined the operator's leg"
    audit = await stack.get("/api/supervision")
    assert (audit["items"][0]["supervisor"], audit["items"][0]["mode"]) == ("sup1312", "listen")


async def test_the_supervisor_switches_to_night_mode_and_back(stack):
    assert stack.cli("users", "add", "sup-night", "--role", "supervisor", "--password",
                     "sup-night-password").returncode == 0
    try:
        async with chromium() as browser:
            page = await _open_board(browser, stack, "sup-night", "sup-night-password")
            assert await page.text_content("#mode") == "日间受理", "7×24 by default"
            await page.click("button[data-override=night]")
            await page.wait_for_function(
                "document.getElementById('mode').textContent === '夜间值班'", timeout=10000)
            globals_ = stack.cli("asterisk", "cli", "dialplan show globals").stdout
            assert "HOTLINE_STAFFED=no" in globals_.replace(" ", "")
            await page.click("button[data-override='']")
            await page.wait_for_function(
                "document.getElementById('mode').textContent === '日间受理'", timeout=10000)
            globals_ = stack.cli("asterisk", "cli", "dialplan show globals").stdout
            assert "HOTLINE_STAFFED=yes" in globals_.replace(" ", "")
    finally:  # the session's other tests expect day mode
        await stack.put("/api/schedule", {"always_staffed": True, "override": ""})
