"""Downstream delivery against a real HTTP receiver on loopback that misbehaves."""

import asyncio

import pytest
from aiohttp import web

from tests.support.sipp import free_tcp_port
from tests.support.stack import eventually
from tests.support.tickets import ticket_service
from tickets.filing import parse_new_ticket
from tickets.lifecycle import Actor
from tickets.outbox import OutboxAdmin, OutboxWorker

OPERATOR = Actor("op1", "operator")


class Receiver:
    """The downstream workflow system: applies each Idempotency-Key once."""

    def __init__(self) -> None:
        self.port = free_tcp_port()
        self.seen: list[str] = []
        self.applied: dict[str, dict] = {}
        self.fail_next = 0
        self.swallow_next = 0
        self.reject_event: str | None = None
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        key = request.headers["Idempotency-Key"]
        body = await request.json()
        self.seen.append(key)
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=503)
        if body["event"] == self.reject_event:
            return web.json_response({"error": "schema"}, status=422)
        self.applied.setdefault(key, body)
        if self.swallow_next:  # applied, but the answer never reaches the sender
            self.swallow_next -= 1
            await asyncio.sleep(5)
        return web.json_response({"ok": True})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/events", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"

    def applied_events(self) -> list[str]:
        return [b["event"] for b in self.applied.values()]


@pytest.fixture
async def setup(store_db):
    service = ticket_service(store_db)
    await service.add_unit("water", "自来水公司", "05581234567")
    receiver = Receiver()
    workers: list[OutboxWorker] = []

    def worker() -> OutboxWorker:
        w = OutboxWorker(store_db, receiver.url, timeout=0.5, max_backoff=0.2)
        service.on_event = w.wake
        workers.append(w)
        return w

    yield service, receiver, worker, store_db
    for w in workers:
        await w.stop()
    await receiver.stop()


async def file_and_dispatch(service):
    t = await service.create(parse_new_ticket(
        {"phone": "13800000001", "kind": "help", "content": "路灯不亮"}), OPERATOR)
    await service.act(t["id"], "dispatch", {"unit": "water"}, OPERATOR)
    return t["id"]


async def test_receiver_down_then_up_gets_everything_in_order(setup):
    service, receiver, worker, db = setup
    w = worker()
    await w.start()
    ticket_id = await file_and_dispatch(service)
    await asyncio.sleep(0.8)  # attempts fail: nobody is listening
    pending, _ = await OutboxAdmin(db).messages("pending", 10, 0)
    assert pending and pending[-1]["attempts"] >= 1 and "Connect" in pending[-1]["last_error"]
    await receiver.start()
    await eventually(lambda: _async(len(receiver.applied) == 2), timeout=10,
                     what="delivery after the receiver came up")
    assert receiver.applied_events() == ["ticket.created", "ticket.dispatched"]
    assert all(b["ticket_id"] == ticket_id for b in receiver.applied.values())


async def _async(value):
    return value


async def test_server_errors_are_retried(setup):
    service, receiver, worker, _ = setup
    await receiver.start()
    receiver.fail_next = 3
    w = worker()
    await w.start()
    await file_and_dispatch(service)
    await eventually(lambda: _async(len(receiver.applied) == 2), timeout=10, what="delivery")
    assert receiver.applied_events() == ["ticket.created", "ticket.dispatched"]
    assert len(receiver.seen) == 5  # three 503s, then each once


async def test_a_lost_answer_means_a_duplicate_the_receiver_can_drop(setup):
    service, receiver, worker, _ = setup
    await receiver.start()
    receiver.swallow_next = 1
    w = worker()
    await w.start()
    await file_and_dispatch(service)
    await eventually(lambda: _async(len(receiver.applied) == 2 and len(receiver.seen) >= 3),
                     timeout=15, what="delivery")
    first_key = receiver.seen[0]
    assert receiver.seen.count(first_key) == 2, "the unanswered event was sent again"
    assert receiver.applied_events() == ["ticket.created", "ticket.dispatched"]


async def test_nothing_is_lost_across_a_service_restart(setup):
    service, receiver, worker, db = setup
    first = worker()
    await first.start()
    await file_and_dispatch(service)  # receiver is down: both stay pending
    await asyncio.sleep(0.3)
    await first.stop()  # the service stops
    await file_and_dispatch(service)  # filed while no worker runs
    await receiver.start()
    second = worker()  # the service starts again
    await second.start()
    await eventually(lambda: _async(len(receiver.applied) == 4), timeout=10, what="delivery")
    assert receiver.applied_events() == ["ticket.created", "ticket.dispatched"] * 2
    _pending, total = await OutboxAdmin(db).messages("pending", 10, 0)
    assert total == 0


async def test_a_rejected_event_goes_to_dead_letters_and_can_be_retried(setup):
    service, receiver, worker, db = setup
    await receiver.start()
    receiver.reject_event = "ticket.dispatched"
    w = worker()
    await w.start()
    await file_and_dispatch(service)
    admin = OutboxAdmin(db)

    async def dead():
        items, total = await admin.messages("dead", 10, 0)
        return items if total else None

    dead_items = await eventually(dead, timeout=10, what="dead letter")
    assert dead_items[0]["event"] == "ticket.dispatched"
    assert dead_items[0]["last_error"] == "HTTP 422"
    receiver.reject_event = None  # the receiver is fixed
    assert await admin.retry(dead_items[0]["id"])
    w.wake()
    await eventually(lambda: _async(len(receiver.applied) == 2), timeout=10, what="retry")
    _delivered, total = await admin.messages("delivered", 10, 0)
    assert total == 2


async def test_an_event_filed_as_a_round_ends_is_delivered_at_once(setup):
    """The worker has just found nothing pending (so it would sleep 30 s) when a ticket is
    filed: the filing's wake-up must start another round, not be lost."""
    service, receiver, _worker, db = setup
    await receiver.start()
    filed: list[str] = []

    class FilingAsTheRoundEnds(OutboxWorker):
        async def _seconds_until_due(self) -> float:
            pause = await super()._seconds_until_due()
            if not filed:  # after the read, before the sleep
                filed.append(await file_and_dispatch(service))
            return pause

    w = FilingAsTheRoundEnds(db, receiver.url, timeout=0.5, max_backoff=0.2)
    service.on_event = w.wake
    await w.start()
    try:
        await eventually(lambda: _async(len(receiver.applied) == 2), timeout=5,
                         what="delivery of the event filed as the round ended")
    finally:
        await w.stop()
