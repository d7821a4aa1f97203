"""The telephony admin's page in a real browser: the menu drawn, the check's findings, the
change waiting, apply and rollback from the page; anyone but an admin is refused."""

from __future__ import annotations

import aiohttp

from tests.support.browser import chromium, logged_in_page
from tests.support.stack import login_token

OLD_KEY_4 = ('"4" = { queue = "hotline", kind = "suggestion", say = ["ack_suggestion", '
             '"to_operator"]')
NEW_KEY_4 = '"4" = { queue = "hotline", kind = "praise", say = ["to_operator"]'


async def test_an_admin_sees_the_menu_fixes_a_mistake_applies_and_rolls_back(stack):
    assert stack.cli("users", "add", "conf-admin", "--role", "admin", "--password",
                     "conf-admin-password").returncode == 0
    menu = stack.home / "conf" / "menu.toml"
    text = menu.read_text(encoding="utf-8")
    assert OLD_KEY_4 in text
    # A mistake first: the page names it with its line, and will not apply.
    menu.write_text(text.replace(OLD_KEY_4, NEW_KEY_4.replace('"hotline"', '"nightshift"')),
                    encoding="utf-8")
    try:
        async with chromium() as browser:
            page = await logged_in_page(browser, f"{stack.base_url}/admin", "conf-admin",
                                        "conf-admin-password", "#board:not([hidden])")
            await page.wait_for_selector("#picture svg")
            drawn = await page.text_content("#picture svg")
            assert "联动转接 110" in drawn and "按8" in drawn and "emergency" in drawn
            findings = await page.text_content("#findings")
            assert "队列 'nightshift' 不存在" in findings and "menu.toml" in findings
            assert await page.is_disabled("#apply")

            menu.write_text(text.replace(OLD_KEY_4, NEW_KEY_4), encoding="utf-8")
            await page.reload()
            await page.wait_for_selector("#board:not([hidden])")
            assert "没有发现问题" in await page.text_content("#findings-summary")
            diff = await page.text_content("#diff")
            assert "+" + NEW_KEY_4 in diff and "-" + OLD_KEY_4 in diff
            page.on("dialog", lambda dialog: dialog.accept())  # 确认将上述修改应用到线上？
            await page.click("#apply")
            await page.wait_for_function(
                "document.getElementById('apply-result').textContent.includes('已应用')",
                timeout=30000)
            await page.wait_for_function(  # the page reads the history again after applying
                "document.getElementById('history').textContent.includes('conf-admin')")
            newest = await page.text_content("#history tr")  # whatever version it got
            assert "（线上）" in newest and "conf-admin" in newest and "已生效" in newest
            await page.screenshot(path="/tmp/admin-page.png", full_page=True)
            await page.click("[data-which=live]")
            await page.wait_for_function(
                "document.querySelector('#picture svg').textContent.includes('表扬')")

            await page.click("#history button[data-rollback]")  # the newest older version
            await page.wait_for_function(
                "document.querySelector('#history tr').textContent.includes('线上') && "
                "document.querySelector('#history tr').textContent.includes('回滚到第')",
                timeout=30000)
        assert menu.read_text(encoding="utf-8") == text  # the working copy is the old one
    finally:
        menu.write_text(text, encoding="utf-8")


async def test_only_an_admin_may_see_or_change_the_configuration(stack):
    assert stack.cli("users", "add", "conf-sup", "--role", "supervisor", "--password",
                     "conf-sup-password").returncode == 0
    token = await login_token(stack, "conf-sup", "conf-sup-password")
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http:
        for method, path in (("GET", "/api/conf"), ("GET", "/api/conf/menu.svg"),
                             ("POST", "/api/conf/apply"), ("POST", "/api/conf/rollback")):
            async with http.request(method, f"{stack.base_url}{path}", headers=headers,
                                    json={} if method == "POST" else None) as r:
                assert r.status == 403, (path, r.status)
                assert "admin" in (await r.json())["error"]
