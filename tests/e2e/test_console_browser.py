"""An operator files a ticket from the web console, in a real browser."""

import asyncio
import os
import signal
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.support.browser import chromium, logged_in_page
from tests.support.stack import eventually


async def test_operator_files_a_ticket_from_the_console(stack, tmp_path):
    added = stack.cli("users", "add", "op-browser", "--role", "operator", "--password",
                      "op-browser-pass", "--seat", "1001")
    assert added.returncode == 0, added.stderr
    earlier = await stack.post("/api/tickets", {"phone": "13800000301", "kind": "help",
                                                "content": "上周反映的路灯问题"})
    async with chromium() as browser:
        page = await logged_in_page(
            browser, f"{stack.base_url}/console?phone=13800000301&kind=complaint",
            "op-browser", "op-browser-pass", "#desk:not([hidden])")
        assert "坐席 1001" in await page.text_content("#who")
        await page.wait_for_selector("#mode:text('日间受理')")  # the stack answers 7×24
        # the screen-pop parameters prefilled the form and the caller's history shows
        assert await page.input_value("#phone") == "13800000301"
        assert await page.input_value("#kind") == "complaint"
        await page.wait_for_selector(f"#history td:text('{earlier['id']}')")
        history = await page.text_content("#history")
        local = datetime.fromisoformat(earlier["created_at"]).astimezone(
            ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
        assert local in history, "times are shown in Beijing time"
        await page.fill("#content", "幸福路路灯仍然不亮，<b>夜间</b>出行不便")
        await page.fill("#category", "路灯")
        await page.click("#ticket-form button[type=submit]")
        await page.wait_for_selector("#ticket-result.ok")
        message = await page.text_content("#ticket-result")
        await page.screenshot(path=str(tmp_path / "console.png"), full_page=True)
    assert "工单已受理" in message
    number = message.split("编号 ")[1].split("，")[0]
    ticket = await stack.get(f"/api/tickets/{number}")
    assert ticket["content"] == "幸福路路灯仍然不亮，<b>夜间</b>出行不便"
    assert ticket["kind"] == "complaint" and ticket["seat"] == "1001"
    assert ticket["operator"] == "op-browser"


async def test_the_console_pops_up_the_ringing_call_and_prefills_the_form(stack):
    import asyncio

    from tests.support.sipp import (
        DtmfInfo,
        Hangup,
        Pause,
        answer_one_call,
        call,
        free_udp_port,
        register,
    )

    assert stack.cli("seats", "add", "1401", "--password", "seat-1401-pass").returncode == 0
    assert stack.cli("users", "add", "op1401", "--role", "operator", "--password",
                     "op1401-password", "--seat", "1401").returncode == 0
    phone_port = free_udp_port()
    phone = asyncio.create_task(answer_one_call(phone_port, timeout=60))
    await asyncio.sleep(0.5)
    assert (await register(stack.sip_port, "1401", "seat-1401-pass", phone_port)).ok
    async with chromium() as browser:
        page = await logged_in_page(
            browser, f"{stack.base_url}/console",
            "op1401", "op1401-password", "#desk:not([hidden])")
        ready = await page.evaluate(
            "fetch('/api/seats/1401/ready', {method: 'POST', headers: "
            "{Authorization: 'Bearer ' + sessionStorage.getItem('hotline_token')}})"
            ".then(r => r.status)")
        assert ready == 200
        citizen = asyncio.create_task(call(stack.sip_port, "13800000801",
                                           [Pause(1500), DtmfInfo("3"), Pause(12000), Hangup()]))
        await page.wait_for_selector("#pop:not([hidden])", timeout=30000)
        title = await page.text_content("#pop-title")
        detail = await page.text_content("#pop-detail")
        assert "13800000801" in title and "求助" in detail
        assert await page.input_value("#phone") == "13800000801"
        assert await page.input_value("#kind") == "help"
        assert (await page.input_value("#call_id")).strip()
        await page.wait_for_selector("#pop.answered", timeout=15000)
        await page.screenshot(path="/tmp/console-pop.png")
        assert (await citizen).ok
        await page.wait_for_selector("#pop", state="hidden", timeout=15000)
    await phone


def ticket_writer_pid(stack) -> int | None:
    """The hotline's ticket writer process (store/writer_process.py), if one runs."""
    found = subprocess.run(["pgrep", "-P", str(stack.process.pid), "-f", "store.writer_process"],
                           capture_output=True, text=True).stdout.split()
    assert len(found) <= 1, found
    return int(found[0]) if found else None


async def test_a_ticket_writer_killed_mid_filing_is_told_in_chinese_and_comes_back(stack):
    added = stack.cli("users", "add", "op-restart", "--role", "operator", "--password",
                      "op-restart-pass", "--seat", "1001")
    assert added.returncode == 0, added.stderr
    writer = ticket_writer_pid(stack)
    assert writer is not None, "hotline run files tickets in a writer process"
    async with chromium() as browser:
        page = await logged_in_page(
            browser, f"{stack.base_url}/console?phone=13800000302&kind=help",
            "op-restart", "op-restart-pass", "#desk:not([hidden])")
        await page.fill("#content", "小区停电，家中有老人需要用电")
        os.kill(writer, signal.SIGSTOP)  # the filing will wait in the writer...
        try:
            await page.click("#ticket-form button[type=submit]")
            await asyncio.sleep(1)
        finally:
            os.kill(writer, signal.SIGKILL)  # ...which dies before answering
        await page.wait_for_selector("#ticket-result.error")
        message = await page.text_content("#ticket-result")
        assert "工单服务正在重启" in message and "历史工单" in message

        async def new_writer():
            pid = ticket_writer_pid(stack)
            return pid if pid not in (None, writer) else None

        await eventually(new_writer, timeout=30, what="a new ticket writer")
        await page.click("#ticket-form button[type=submit]")  # the operator tries again
        await page.wait_for_selector("#ticket-result.ok")
        assert "工单已受理" in await page.text_content("#ticket-result")
