"""IVR menu 5 with a real call: the caller keys a real ticket number and hears its status."""

from tests.support.sipp import DtmfInfo, Hangup, Pause, call
from tests.support.stack import eventually


async def test_a_caller_hears_the_real_status_of_their_ticket(stack):
    ticket = await stack.post("/api/tickets", {"phone": "13800000201", "kind": "help",
                                               "content": "小区路灯不亮"})
    digits = [DtmfInfo(d) for d in ticket["id"]]
    steps = [Pause(1500), DtmfInfo("5"), Pause(1500), *digits, DtmfInfo("#"),
             Pause(15000), DtmfInfo("0"), Pause(6000), Hangup()]
    result = await call(stack.sip_port, "13800000201", steps)
    assert result.ok, result.output[-2000:]

    async def ended():
        record = await stack.call_of("13800000201")
        return record if record and record["ended"] else None

    record = await eventually(ended, what="the call record")
    assert record["ivr_path"] == ["progress", f"ticket:{ticket['id']}", "operator"]
    played = stack.prompts_played(record["id"])
    assert played[:2] == ["welcome", "ticket_number_prompt"], played
    assert "ticket_status_intro" in played
    assert "ticket_status_accepted" in played, played
    assert "ticket_not_found" not in played


async def test_an_unknown_ticket_number_is_said_to_be_not_found(stack):
    steps = [Pause(1500), DtmfInfo("5"), Pause(1500), *[DtmfInfo(d) for d in "2099010199999"],
             DtmfInfo("#"), Pause(3000), Hangup()]
    result = await call(stack.sip_port, "13800000202", steps)
    assert result.ok, result.output[-2000:]
    record = await eventually(lambda: stack.call_of("13800000202"), what="record")
    assert record["ivr_path"][:2] == ["progress", "ticket:2099010199999"]
    assert "ticket_not_found" in stack.prompts_played(record["id"])
