"""The OpenAPI document is true: generated from the declared routes, it lists every route
the app serves, and schemathesis drives every operation of the running app (real
services, a real SQLite database, a real socket) checking that no request answers 500,
every status answered is documented for its operation, and every JSON answer fits its
documented schema. Bounded and seeded: a few examples per operation."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from aiohttp import web
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events

from ivr.accounts.service import Accounts
from ivr.callback_requests.service import CallbackRequests
from ivr.calls.call_log import CallLog
from ivr.listen_in.service import ListenInService
from ivr.live_view.service import LiveView
from ivr.main import WebServices, build_web_app
from ivr.schedule.hours import preset_for
from ivr.schedule.staffing import Staffing
from ivr.screen_pops.service import ScreenPops
from ivr.seats.service import SeatService
from ivr.telephony.ami_client import AmiClient
from ivr.transfers.control import TransferControl
from ivr.transfers.service import TransferService
from store.db import Database
from tests.support.tickets import ticket_service
from tickets.calendar import WorkCalendar
from tickets.filing import NewTicket
from tickets.lifecycle import Actor
from tickets.outbox import OutboxAdmin
from tickets.service import TicketService

ADMIN = ("root", "root-password")
MAX_EXAMPLES = 3  # fuzzed cases per operation, beyond the coverage phase's


async def _start(home: Path) -> tuple[web.AppRunner, Database, TicketService, str]:
    """The app as `hotline run` builds it, minus the PBX, with some of everything in it."""
    db = Database(f"sqlite+aiosqlite:///{home / 'hotline.db'}")
    await db.migrate()
    accounts = Accounts(db)
    await accounts.add_user(ADMIN[0], "admin", ADMIN[1], seat="1009")
    calls = CallLog(db, str(home / "rec"))
    await calls.call_arrived("1.1", "13800000001")
    await calls.menu_left("1.1", "13800000001", ["help"], "queue", "help")
    tickets = ticket_service(db)
    await tickets.add_unit("water", "自来水公司", "05581234567")
    await tickets.create(NewTicket("13800000001", "complaint", "停水三天"),
                         Actor("root", "admin", None))
    callbacks = CallbackRequests(db, calls)
    await callbacks.register("1.1", "13800000001", "callback")
    staffing = Staffing(home / "schedule.toml", preset_for("lanxi"), WorkCalendar(),
                        "Asia/Shanghai")
    await staffing.load()
    app = build_web_app(WebServices(
        accounts, calls, _all_up, tickets, OutboxAdmin(db), db,
        SeatService(db, home / "etc", "127.0.0.1", "hotline", "hotline-night"),
        ScreenPops(calls, tickets), ListenInService(db, calls), callbacks,
        LiveView(db, "hotline", "Asia/Shanghai", staffing), staffing,
        # its AMI never connects: a transfer that reaches the PBX answers 503
        TransferService(calls, tickets.unit_to_call, TransferControl(
            AmiClient("127.0.0.1", 9, "nobody", "nothing")))))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, db, tickets, f"http://127.0.0.1:{port}"


async def _all_up() -> dict[str, str]:
    return {"asterisk": "up", "ami": "up", "agi": "up", "db": "up", "asr": "off"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, web.Application]]:
    """The app served from a thread of its own: schemathesis calls it synchronously."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    home = tmp_path_factory.mktemp("hotline")
    runner, db, tickets, url = asyncio.run_coroutine_threadsafe(_start(home), loop).result(30)
    yield url, runner.app

    async def stop() -> None:
        await runner.cleanup()
        await tickets.stop()
        await db.close()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def _login(base_url: str) -> dict[str, str]:
    answer = requests.post(f"{base_url}/api/login", timeout=10,
                           json={"user": ADMIN[0], "password": ADMIN[1]})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.fixture(scope="module")
def base_url(server: tuple[str, web.Application]) -> str:
    return server[0]


@pytest.fixture(scope="module")
def admin(base_url: str) -> dict[str, str]:
    return _login(base_url)


@pytest.fixture(scope="module")
def document(base_url: str) -> dict:
    return requests.get(f"{base_url}/openapi.json", timeout=10).json()


CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance")


def _schema(base_url: str, admin: dict[str, str]) -> schemathesis.BaseSchema:
    """The served document, to be driven against the app as the admin (who may do all).
    Coverage (boundaries and wrong types: where 500s hide) and fuzzing, both positive and
    negative, seeded; logging out is tried apart, since it ends the session it uses.
    No time budget on purpose: with one, schemathesis goes on fuzzing until it is spent;
    without, it stops after one pass of each phase (about 1,600 requests, 10 s)."""
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json", timeout=10,
                                         config=SchemathesisConfig.from_dict({
        "seed": 12345, "base-url": base_url, "headers": admin,
        "continue-on-failure": True, "request-timeout": 10,
        "generation": {"max-examples": MAX_EXAMPLES, "mode": "all", "database": "none"},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "phases": {"stateful": {"enabled": False}},
        "operations": [{"include-path": "/api/logout", "enabled": False}],
    }))


def _failures(schema: schemathesis.BaseSchema) -> list[str]:
    found = []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            found += [f"{event.label}: {check.failure_info.failure}\n"
                      f"{check.failure_info.code_sample}"
                      for checks in event.recorder.checks.values() for check in checks
                      if check.failure_info is not None]
        elif isinstance(event, events.NonFatalError | events.FatalError):
            found.append(f"{getattr(event, 'label', 'the run')}: {event.info}")
    return sorted(set(found))


def test_every_operation_answers_as_documented(base_url: str, admin: dict):
    failures = _failures(_schema(base_url, admin))
    assert not failures, "\n\n".join(failures)


def test_logging_out_answers_as_documented(base_url: str, admin: dict):
    logout = _schema(base_url, admin)["/api/logout"]["POST"]
    logout.Case().call_and_validate(headers=_login(base_url), timeout=10)


def test_every_route_served_is_documented_and_only_those(server, document: dict):
    _url, app = server
    # aiohttp adds HEAD beside each GET by itself; /static/ is files, not an operation.
    served = {(r.method, r.resource.canonical) for r in app.router.routes()
              if r.method != "HEAD" and r.resource.canonical != "/static"}
    documented = {(method.upper(), path) for path, ops in document["paths"].items()
                  for method in ops}
    assert served == documented


@pytest.mark.parametrize(("path", "field"), [
    ("/api/callbacks/18446744073709551617/done", "task_id"),
    ("/api/outbox/18446744073709551617/retry", "message_id"),
])
def test_a_number_beyond_the_database_is_refused_naming_it(base_url, admin, path, field):
    # 2**64 + 1 overflows SQLite's integer: it answered 500 before it was bounded.
    answer = requests.post(f"{base_url}{path}", headers=admin, json={}, timeout=10)
    assert answer.status_code == 422 and answer.json()["field"] == field


def test_the_document_says_what_the_answers_hold(document: dict):
    schemas = document["components"]["schemas"]
    call = schemas["Call"]["properties"]
    assert {"type": "string"} in call["ticket_id"]["anyOf"]
    assert {"type": "integer"} not in call["ticket_id"]["anyOf"]
    outcomes = next(s["enum"] for s in call["outcome"]["anyOf"] if "enum" in s)
    assert {"callback_requested", "message_left"} <= set(outcomes)
    assert schemas["Ticket"]["properties"]["id"]["type"] == "string"
    every_call = document["paths"]["/api/calls"]["get"]
    assert {"200", "401", "422"} <= set(every_call["responses"])
    assert document["paths"]["/api/health"]["get"]["security"] == []
