"""An admin changes the menu while citizens are in it and in the queue: `hotline conf
apply` puts it live on the real hotline, nobody is dropped, the calls already in the menu
finish on the menu they started with, and the next calls get the new one; `hotline conf
rollback` brings the old menu back."""

from __future__ import annotations

import asyncio

from tests.support.metrics import scrape, value
from tests.support.sipp import DtmfInfo, Hangup, Pause, call
from tests.support.stack import eventually

# The new menu: key 1 now files praise (表扬) instead of a consultation.
OLD_KEY_1 = ('"1" = { queue = "hotline", kind = "consultation", say = ["ack_consultation", '
             '"to_operator"]')
NEW_KEY_1 = '"1" = { queue = "hotline", kind = "praise", say = ["to_operator"]'


async def ended(stack, caller):
    record = await stack.call_of(caller)
    return record if record and record["ended"] else None


async def test_a_menu_applied_while_calls_are_up_reaches_only_the_next_calls(stack):
    menu = stack.home / "conf" / "menu.toml"
    text = menu.read_text(encoding="utf-8")
    assert OLD_KEY_1 in text
    # Day mode, the busy seat on duty (whatever a test before this one left): queue
    # callers wait in the queue rather than leaving a message.
    await stack.put("/api/schedule", {"always_staffed": True, "override": ""})
    await stack.post("/api/seats/1999/ready", {})
    before = await scrape(stack)
    # Citizens already in the menu (they key 1 after the apply) and in the queue.
    in_menu = [f"1390000{n:04d}" for n in range(12)]
    in_queue = [f"1391000{n:04d}" for n in range(8)]
    calls = [asyncio.create_task(call(stack.sip_port, c, [Pause(9000), DtmfInfo("1"),
                                                            Pause(4000), Hangup()]))
             for c in in_menu]
    calls += [asyncio.create_task(call(stack.sip_port, c, [Pause(1500), DtmfInfo("0"),
                                                             Pause(14000), Hangup()]))
              for c in in_queue]
    try:
        async def all_in_queue():
            records = [await stack.call_of(c) for c in in_queue]
            seen.append([(r or {}).get("ivr_path") for r in records])
            return all(r and r["queue"] == "hotline" for r in records) or None

        seen: list = []

        try:
            await eventually(all_in_queue, timeout=40, what="the queued callers in the queue")
        except AssertionError:
            print("their menu paths:", seen[-1])
            print(await asyncio.to_thread(stack.asterisk_cli, "queue show"))
            raise
        menu.write_text(text.replace(OLD_KEY_1, NEW_KEY_1), encoding="utf-8")
        applied = await asyncio.to_thread(stack.cli, "conf", "apply", "--yes")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert "-" + OLD_KEY_1 in applied.stdout and "+" + NEW_KEY_1 in applied.stdout
        assert "版已生效" in applied.stdout

        newcomer = "13920000001"
        new_call = await call(stack.sip_port, newcomer, [Pause(1500), DtmfInfo("1"),
                                                         Pause(4000), Hangup()])
        assert new_call.ok, new_call.output[-2000:]
        results = await asyncio.gather(*calls)
    finally:
        for task in calls:
            task.cancel()
        rolled = await asyncio.to_thread(stack.cli, "conf", "rollback")

    assert all(r.ok for r in results), [r.output[-500:] for r in results if not r.ok]
    for caller in in_menu:  # the menu they started with
        record = await eventually(lambda c=caller: ended(stack, c), what=f"end of {caller}")
        assert record["ivr_path"] == ["consultation"], caller
    for caller in in_queue:  # kept their place until they hung up
        record = await eventually(lambda c=caller: ended(stack, c), what=f"end of {caller}")
        assert (record["queue"], record["outcome"]) == ("hotline", "abandoned"), caller
    record = await eventually(lambda: ended(stack, newcomer), what="end of the new call")
    assert (record["ivr_path"], record["request_kind"]) == (["praise"], "praise")

    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert menu.read_text(encoding="utf-8") == text  # the working copy is the old menu again
    history = stack.cli("conf", "history").stdout.splitlines()
    assert "rollback to version" in history[-1] and history[-1].startswith("*")
    after = await scrape(stack)  # whoever runs the line sees the change and its rollback
    assert value(after, "hotline_config_applies_total", outcome="live") == value(
        before, "hotline_config_applies_total", outcome="live") + 1
    assert value(after, "hotline_config_rollbacks_total") == value(
        before, "hotline_config_rollbacks_total") + 1
    assert value(after, "hotline_config_version") == int(history[-1].split()[1])


def test_conf_check_names_a_mistake_at_its_line(stack):
    menu = stack.home / "conf" / "menu.toml"
    text = menu.read_text(encoding="utf-8")
    try:
        menu.write_text(text.replace('"9" = { repeat = true }',
                                     '"9" = { repeat = true }\n"7" = { queue = "nightshift" }'),
                        encoding="utf-8")
        checked = stack.cli("conf", "check")
        line = next(n for n, t in enumerate(menu.read_text().splitlines(), 1)
                    if t.startswith('"7" ='))
        assert checked.returncode == 1
        assert checked.stdout.strip() == (f"{menu}:{line}: 按键 7：队列 'nightshift' 不存在 — "
                                          "请使用 hotline 之一")
        refused = stack.cli("conf", "apply", "--yes")
        assert refused.returncode == 1 and "未作任何改动" in refused.stderr
    finally:
        menu.write_text(text, encoding="utf-8")
    assert stack.cli("conf", "check").returncode == 0


GOOD_OVERRIDE = """; A line for the night duty officer's announcement (an admin's own dialplan).
[local-duty-notice]
exten => s,1,Answer()
 same => n,Playback(${HOTLINE_SOUNDS}/to_operator)
 same => n,Goto(hotline-queue,s,1)
"""
# An application Asterisk does not have, and a context header with no closing bracket:
# Asterisk itself would load the first and drop the rest of the file with a warning.
BROKEN_OVERRIDE = """[local-other]
exten => s,1,PlayBack2(${HOTLINE_SOUNDS}/to_operator)
[local-duty-notice
exten => s,1,Answer()
"""


def dialplan_of(stack, context: str) -> str:
    return stack.cli("asterisk", "cli", f"dialplan show {context}").stdout


async def test_an_admins_dialplan_file_is_judged_by_a_scratch_asterisk(stack):
    local = stack.home / "conf" / "asterisk" / "extensions_local.conf"
    local.parent.mkdir(exist_ok=True)
    local.write_text(BROKEN_OVERRIDE, encoding="utf-8")
    try:
        checked = await asyncio.to_thread(stack.cli, "conf", "check")
        assert checked.returncode == 1
        assert checked.stdout.splitlines() == [
            f"{local}:2: Asterisk 中没有应用 'PlayBack2' — 请检查拼写，或加载提供它的模块",
            f"{local}:3: Asterisk：parse error: no closing ']' — 请修正这一行（Asterisk 会跳过它）"]
        refused = await asyncio.to_thread(stack.cli, "conf", "apply", "--yes")
        assert refused.returncode == 1 and "未作任何改动" in refused.stderr
        assert "There is no existence" in dialplan_of(stack, "local-other")  # live untouched

        local.write_text(GOOD_OVERRIDE, encoding="utf-8")
        applied = await asyncio.to_thread(stack.cli, "conf", "apply", "--yes")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert "Playback(" in dialplan_of(stack, "local-duty-notice")
        # the hotline's own dialplan is all there, and a call still goes through the menu
        caller = "13930000001"
        placed = await call(stack.sip_port, caller, [Pause(1500), DtmfInfo("0"), Pause(8000),
                                                      Hangup()])
        assert placed.ok, placed.output[-2000:]
        record = await eventually(lambda: ended(stack, caller), what="end of the call")
        assert record["ivr_path"] == ["operator"] and record["queue"] == "hotline"
    finally:
        local.unlink(missing_ok=True)
        rolled = await asyncio.to_thread(stack.cli, "conf", "rollback")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert "There is no existence" in dialplan_of(stack, "local-duty-notice")
