"""Tickets through the store, on SQLite and PostgreSQL alike."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import open_database
from tests.support.tickets import ticket_service
from tickets.errors import InvalidField, NotPermitted, StepRefused, TicketNotFound
from tickets.filing import NewTicket, parse_new_ticket
from tickets.lifecycle import Actor
from tickets.models import OutboxMessage
from tickets.service import TicketFilters

OPERATOR = Actor("op1", "operator")
SUPERVISOR = Actor("sup1", "supervisor")
WATER = Actor("water-clerk", "unit", unit="water")
ROADS = Actor("roads-clerk", "unit", unit="roads")
REPLY = {"content": "经现场核查，管道破裂已于当日修复，供水恢复正常，并已电话告知来电人。",
         "responder": "李工", "responder_phone": "0558-1234567", "approved_by": "王局长"}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)  # Mon 09:00 in Shanghai

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(params=["sqlite", "sqlite, writer process", "postgresql"])
def backend(request):
    """As tests/conftest.py's store_db, and SQLite once more with tickets written by the
    writer process, as `hotline run` writes them."""
    return request.param


@pytest.fixture
async def store_db(backend, request, tmp_path):
    database = await open_database(request, tmp_path, backend.split(",")[0])
    yield database
    await database.close()


@pytest.fixture
async def service(store_db, backend, clock):
    svc = ticket_service(store_db, clock=clock,
                         as_the_hotline_runs=backend.endswith("writer process"))
    await svc.start()
    await svc.add_unit("water", "自来水公司", "05581234567")
    await svc.add_unit("roads", "住建局", "05587654321", duty_phone="05587654000")
    yield svc
    await svc.stop()


def complaint(**kw):
    values = {"phone": "13800000001", "kind": "complaint", "content": "幸福路12号停水三天",
              "name": "张三", "address": "幸福路12号", "category": "供水"}
    values.update(kw)
    return parse_new_ticket(values)


async def test_numbers_are_digits_by_local_day_and_sequence(service, clock):
    first = await service.create(complaint(), OPERATOR)
    second = await service.create(complaint(phone="13800000002"), OPERATOR)
    assert (first["id"], second["id"]) == ("2026111600001", "2026111600002")
    clock.now += timedelta(days=1)
    assert (await service.create(complaint(), OPERATOR))["id"] == "2026111700001"
    assert first["status"] == "accepted" and first["operator"] == "op1"


async def test_concurrent_filings_get_distinct_numbers(service):
    made = await asyncio.gather(*(service.create(complaint(phone=f"1390000{i:04d}"), OPERATOR)
                                  for i in range(40)))
    numbers = {t["id"] for t in made}
    assert len(numbers) == 40
    assert numbers == {f"20261116{n:05d}" for n in range(1, 41)}


async def test_not_accepted_with_its_reason_and_referral(service):
    ticket = await service.create(complaint(
        not_accepted_reason="legal_procedure", referral="请向县人民法院起诉，电话0558-1100000"),
        OPERATOR)
    assert ticket["status"] == "not_accepted"
    events = await service.events(ticket["id"], OPERATOR)
    assert events[0]["event"] == "ticket.not_accepted"
    assert events[0]["detail"]["reason"] == "legal_procedure"


async def test_repeat_callers_escalate_and_come_under_supervision(service):
    levels = []
    for _ in range(4):
        t = await service.create(complaint(address="幸福路 12 号"), OPERATOR)
        levels.append((t["times_by_citizen"], t["approval_level"]))
    assert levels == [(1, None), (2, "hotline_office_head"), (3, "county_office_head"),
                      (4, "deputy_county_head")]
    assert "repeat_citizen" in t["flags"] and t["disposal_mode"] == "escalated_approval"
    other_matter = await service.create(complaint(category="噪音"), OPERATOR)
    assert other_matter["times_by_citizen"] == 1


async def test_five_citizens_on_one_matter_put_all_of_them_under_supervision(service):
    tickets = [await service.create(complaint(phone=f"1370000000{i}"), OPERATOR)
               for i in range(5)]
    assert tickets[-1]["citizens_on_matter"] == 5 and "crowd" in tickets[-1]["flags"]
    first = await service.get(tickets[0]["id"], OPERATOR)
    assert "crowd" in first["flags"], "earlier tickets on the matter are raised too"
    _supervised, total = await service.search(OPERATOR, TicketFilters(supervised=True))
    assert total == 5


async def test_key_sources_start_at_the_county_office(service):
    t = await service.create(complaint(channel="peoples_daily"), OPERATOR)
    assert t["approval_level"] == "county_office_head" and "key_source" in t["flags"]


async def test_full_lifecycle_with_audit_trail_and_outbox(service, store_db, clock):
    t = await service.create(complaint(), OPERATOR)
    with pytest.raises(InvalidField) as err:
        await service.act(t["id"], "dispatch", {"unit": "nobody"}, OPERATOR)
    assert err.value.field == "unit"
    t = await service.act(t["id"], "dispatch", {"unit": "water"}, OPERATOR)
    assert (t["status"], t["deadline"]) == ("dispatched", "2026-11-30")
    t = await service.act(t["id"], "sign", {}, WATER)
    t = await service.act(t["id"], "contact", {"note": "已电话联系"}, WATER)
    assert t["first_contact_late"] is False
    t = await service.act(t["id"], "reply", REPLY, WATER)
    t = await service.act(t["id"], "callback", {"satisfaction": "satisfied"}, OPERATOR)
    t = await service.act(t["id"], "close", {}, OPERATOR)
    t = await service.act(t["id"], "archive", {"category": "供水"}, OPERATOR)
    assert t["status"] == "archived"
    events = await service.events(t["id"], OPERATOR)
    assert [e["event"] for e in events] == [
        "ticket.created", "ticket.dispatched", "ticket.signed", "ticket.contacted",
        "ticket.replied", "ticket.callback_recorded", "ticket.closed", "ticket.archived"]
    assert [e["actor"] for e in events][:3] == ["op1", "op1", "water-clerk"]
    async with store_db.session() as session:
        outbox = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [m.event for m in outbox] == [e["event"] for e in events]
    assert len({m.idempotency_key for m in outbox}) == len(outbox)
    keys = [uuid.UUID(m.idempotency_key) for m in outbox]  # UUIDv7: ordered by time
    assert {k.version for k in keys} == {7}
    assert [k.int >> 80 for k in keys] == sorted(k.int >> 80 for k in keys)
    assert outbox[-1].payload["ticket"]["status"] == "archived"


async def test_refused_steps_change_nothing(service):
    t = await service.create(complaint(), OPERATOR)
    with pytest.raises(StepRefused):
        await service.act(t["id"], "close", {}, OPERATOR)
    with pytest.raises(TicketNotFound):  # not theirs: a unit does not learn it exists
        await service.act(t["id"], "dispatch", {"unit": "water"}, WATER)
    with pytest.raises(NotPermitted):
        await service.act(t["id"], "sign", {}, OPERATOR)
    again = await service.get(t["id"], OPERATOR)
    assert again["status"] == "accepted"
    assert len(await service.events(t["id"], OPERATOR)) == 1


async def test_units_see_only_their_tickets_and_no_confidential_identity(service):
    secret = await service.create(complaint(confidential=True, name="李四",
                                            phone="13911112222"), OPERATOR)
    other = await service.create(complaint(phone="13700000000"), OPERATOR)
    await service.act(secret["id"], "dispatch", {"unit": "water", "co_units": ["roads"]},
                      OPERATOR)
    await service.act(other["id"], "dispatch", {"unit": "roads"}, OPERATOR)
    seen = await service.get(secret["id"], WATER)
    assert seen["name"] == "***" and seen["phone"] == "***" and seen["address"] == "***"
    signed = await service.act(secret["id"], "sign", {}, WATER)
    assert "13911112222" not in str(signed)
    mine, total = await service.search(WATER, TicketFilters())
    assert total == 1 and mine[0]["id"] == secret["id"] and mine[0]["phone"] == "***"
    with pytest.raises(TicketNotFound):
        await service.get(other["id"], WATER)
    with pytest.raises(TicketNotFound):
        await service.act(other["id"], "sign", {}, WATER)
    co_view, total = await service.search(ROADS, TicketFilters())
    assert total == 2  # lead on one, co-unit on the confidential one
    assert all("13911112222" not in str(v) for v in co_view)
    with pytest.raises(NotPermitted):
        await service.search(WATER, TicketFilters(phone="13911112222"))
    full = await service.get(secret["id"], SUPERVISOR)
    assert full["phone"] == "13911112222"


async def test_search_filters(service, clock):
    a = await service.create(complaint(kind="help"), OPERATOR)
    b = await service.create(complaint(phone="13600000000"), OPERATOR)
    await service.act(b["id"], "dispatch", {"unit": "roads"}, OPERATOR)
    by_phone, _ = await service.search(OPERATOR, TicketFilters(phone="13600000000"))
    assert [t["id"] for t in by_phone] == [b["id"]]
    by_status, _ = await service.search(OPERATOR, TicketFilters(status="accepted"))
    assert [t["id"] for t in by_status] == [a["id"]]
    by_unit, _ = await service.search(OPERATOR, TicketFilters(unit="roads"))
    assert [t["id"] for t in by_unit] == [b["id"]]
    by_kind, _ = await service.search(OPERATOR, TicketFilters(kind="help"))
    assert [t["id"] for t in by_kind] == [a["id"]]
    _, none_overdue = await service.search(OPERATOR, TicketFilters(overdue=True))
    assert none_overdue == 0
    clock.now = datetime(2026, 12, 1, 1, tzinfo=UTC)  # the day after the deadline
    overdue, total = await service.search(OPERATOR, TicketFilters(overdue=True))
    assert total == 1 and overdue[0]["overdue"] and "overdue" in overdue[0]["flags"]
    with pytest.raises(InvalidField):
        await service.search(OPERATOR, TicketFilters(status="lost"))


async def test_ivr_status_lookup(service):
    t = await service.create(complaint(), OPERATOR)
    assert await service.status_of(t["id"]) == "accepted"
    assert await service.status_of("2099010100001") is None


@pytest.mark.parametrize("body, field", [
    ({"kind": "complaint", "content": "x"}, "phone"),
    ({"phone": "138", "kind": "gossip", "content": "x"}, "kind"),
    ({"phone": "138", "kind": "help"}, "content"),
    ({"phone": "138", "kind": "help", "content": "x" * 5001}, "content"),
    ({"phone": "138", "kind": "help", "content": "x", "confidential": "yes"}, "confidential"),
    ({"phone": "abc", "kind": "help", "content": "x"}, "phone"),
    ({"phone": 138, "kind": "help", "content": "x"}, "phone"),
    ({"phone": "138", "kind": "help", "content": "x", "channel": "fax"}, "channel"),
    ({"phone": "138", "kind": "help", "content": "x", "surprise": 1}, "surprise"),
])
def test_filing_validation_names_the_field(body, field):
    with pytest.raises(InvalidField) as err:
        parse_new_ticket(body)
    assert err.value.field == field


def test_new_ticket_defaults():
    t = parse_new_ticket({"phone": "12345678901", "kind": "praise", "content": "感谢"})
    assert t == NewTicket(phone="12345678901", kind="praise", content="感谢")
