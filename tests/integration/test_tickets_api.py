"""The ticket API as README "Tickets" describes it, over a real socket and SQLite."""

import csv
import io
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ivr.accounts.service import Accounts
from ivr.callback_requests.service import CallbackRequests
from ivr.calls.call_log import CallLog
from ivr.listen_in.service import ListenInService
from ivr.live_view.service import LiveView
from ivr.main import WebServices, build_web_app
from ivr.screen_pops.service import ScreenPops
from ivr.seats.service import SeatService
from tests.support.tickets import ticket_service
from tickets.outbox import OutboxAdmin

USERS = {"op": ("operator", "1001", None), "sup": ("supervisor", None, None),
         "root": ("admin", None, None), "water": ("unit", None, "water"),
         "roads": ("unit", None, "roads")}


@pytest.fixture
async def tickets(db):
    """As `hotline run` has it: tickets written by the writer process."""
    service = ticket_service(db, as_the_hotline_runs=True)
    await service.start()
    await service.add_unit("water", "自来水公司", "05581234567")
    await service.add_unit("roads", "住建局", "05587654321")
    yield service
    await service.stop()


@pytest.fixture
async def api(db, tickets, tmp_path):
    accounts = Accounts(db)
    for name, (role, seat, unit) in USERS.items():
        await accounts.add_user(name, role, f"{name}-password", seat=seat, unit=unit)
    calls = CallLog(db, "/rec")

    async def health():
        return {}

    client = TestClient(TestServer(build_web_app(WebServices(
        accounts, calls, health, tickets, OutboxAdmin(db), db,
        SeatService(db, tmp_path / "etc", "127.0.0.1", "hotline", "hotline-night"),
        ScreenPops(calls, tickets), ListenInService(db, calls),
                           CallbackRequests(db, calls),
                           LiveView(db, "hotline", "Asia/Shanghai"))), host="127.0.0.1"))
    await client.start_server()
    tokens = {}
    for name in USERS:
        r = await client.post("/api/login", json={"user": name, "password": f"{name}-password"})
        tokens[name] = (await r.json())["token"]
    client.session.cookie_jar.clear()

    async def call(method, path, user="op", **kw):
        r = await client.request(method, path, headers={"Authorization": f"Bearer {tokens[user]}"},
                                 **kw)
        text = await r.text()
        body = json.loads(text) if r.content_type == "application/json" else text
        return r.status, body, text

    yield call, calls
    await client.close()


NEW = {"phone": "13800000001", "kind": "complaint", "content": "幸福路12号停水三天",
       "name": "张三", "address": "幸福路12号"}


async def test_file_read_and_list(api):
    call, _ = api
    status, ticket, _ = await call("POST", "/api/tickets", json=NEW)
    assert status == 201 and ticket["status"] == "accepted" and ticket["seat"] == "1001"
    assert ticket["id"].isdigit() and len(ticket["id"]) == 13
    status, same, _ = await call("GET", f"/api/tickets/{ticket['id']}")
    assert same["content"] == NEW["content"]
    for query in ("phone=13800000001", "status=accepted", "kind=complaint"):
        status, page, _ = await call("GET", f"/api/tickets?{query}")
        assert page["total"] == 1 and page["items"][0]["id"] == ticket["id"], query
    status, page, _ = await call("GET", "/api/tickets?status=closed")
    assert page == {"items": [], "total": 0}
    status, events, _ = await call("GET", f"/api/tickets/{ticket['id']}/events")
    assert events["items"][0]["event"] == "ticket.created"


@pytest.mark.parametrize("patch, field", [
    ({"phone": None}, "phone"), ({"kind": "rumour"}, "kind"), ({"content": ""}, "content"),
    ({"content": 42}, "content"), ({"content": "长" * 5001}, "content"),
    ({"confidential": "true"}, "confidential"), ({"call_id": "0.0"}, "call_id"),
])
async def test_bad_filings_name_the_field(api, patch, field):
    call, _ = api
    body = {k: v for k, v in {**NEW, **patch}.items() if v is not None}
    status, error, _ = await call("POST", "/api/tickets", json=body)
    assert status == 422 and error["field"] == field


async def test_without_its_writer_process_filing_is_503_and_reading_goes_on(api, tickets):
    call, _ = api
    status, ticket, _ = await call("POST", "/api/tickets", json=NEW)
    await tickets.stop()  # as if the writer process could not be started again
    status, body, _ = await call("POST", "/api/tickets", json=NEW)
    assert status == 503 and "writer process" in body["error"]
    status, body, _ = await call("POST", f"/api/tickets/{ticket['id']}/dispatch",
                                 json={"unit": "water"})
    assert status == 503
    status, same, _ = await call("GET", f"/api/tickets/{ticket['id']}")
    assert status == 200 and same["status"] == "accepted"


async def test_broken_bodies_are_4xx_never_500(api):
    call, _ = api
    status, error, _ = await call("POST", "/api/tickets", data=b"{oops")
    assert status == 400 and error["field"] == "body"
    status, _, _ = await call("POST", "/api/tickets", data=b"x" * 70000)
    assert status == 413


async def test_script_tags_are_stored_as_given_and_served_escaped(api):
    call, _ = api
    evil = "<script>alert('x')</script> 幸福路 & 和平路"
    status, ticket, raw = await call("POST", "/api/tickets", json={**NEW, "content": evil})
    assert status == 201
    assert "<script>" not in raw and "&" not in raw.replace("\\u0026", "")
    assert ticket["content"] == evil  # nothing lost


async def test_lifecycle_actions_and_their_refusals(api):
    call, _ = api
    _, t, _ = await call("POST", "/api/tickets", json=NEW)
    path = f"/api/tickets/{t['id']}"
    status, error, _ = await call("POST", f"{path}/dispatch", json={"unit": "nobody"})
    assert status == 422 and error["field"] == "unit"
    status, error, _ = await call("POST", f"{path}/sign", user="water")
    assert status == 404  # not dispatched to water yet: a unit cannot see it
    status, error, _ = await call("POST", f"{path}/close", json={})
    assert status == 409 and "call the citizen back" in error["error"]
    status, t, _ = await call("POST", f"{path}/dispatch", json={"unit": "water"})
    assert status == 200 and t["status"] == "dispatched"
    status, error, _ = await call("POST", f"{path}/sign")  # an operator may not sign
    assert status == 403
    status, t, _ = await call("POST", f"{path}/sign", user="water")
    assert t["status"] == "processing"
    status, error, _ = await call("POST", f"{path}/reply", user="water",
                                  json={"content": "已处理", "responder": "李工",
                                        "responder_phone": "123", "approved_by": "王"})
    assert status == 422 and error["field"] == "content"
    status, _, _ = await call("POST", f"{path}/fly", json={})
    assert status == 404
    status, _, _ = await call("POST", "/api/tickets/2099010100001/dispatch",
                              json={"unit": "water"})
    assert status == 404


async def test_units_see_their_own_tickets_masked_in_api_and_export(api):
    call, _ = api
    _, secret, _ = await call("POST", "/api/tickets", json={**NEW, "confidential": True})
    _, other, _ = await call("POST", "/api/tickets", json={**NEW, "phone": "13900000000"})
    await call("POST", f"/api/tickets/{secret['id']}/dispatch", json={"unit": "water"})
    await call("POST", f"/api/tickets/{other['id']}/dispatch", json={"unit": "roads"})
    status, page, raw = await call("GET", "/api/tickets", user="water")
    assert page["total"] == 1 and page["items"][0]["id"] == secret["id"]
    assert "13800000001" not in raw and "张三" not in raw
    status, _, raw_csv = await call("GET", "/api/tickets/export?format=csv", user="water")
    rows = list(csv.DictReader(io.StringIO(raw_csv)))
    assert [r["id"] for r in rows] == [secret["id"]] and rows[0]["phone"] == "***"
    assert "13800000001" not in raw_csv
    status, _, _ = await call("GET", f"/api/tickets/{other['id']}", user="water")
    assert status == 404
    status, full, _ = await call("GET", "/api/tickets/export?format=json", user="sup")
    assert full["total"] == 2 and "13800000001" in json.dumps(full)


async def test_filing_from_a_call_links_both_ways(api):
    call, calls = api
    await calls.call_arrived("1.1", "13800000001")
    status, ticket, _ = await call("POST", "/api/tickets", json={**NEW, "call_id": "1.1"})
    assert status == 201 and ticket["call_ids"] == ["1.1"]
    assert (await calls.get("1.1")).ticket_id == ticket["id"]


async def test_units_and_outbox_admin_are_for_admins(api):
    call, _ = api
    status, _, _ = await call("POST", "/api/units", json={"code": "gas", "name": "燃气公司",
                                                          "phone": "05581110000"})
    assert status == 403
    status, _unit, _ = await call("POST", "/api/units", user="root",
                                 json={"code": "gas", "name": "燃气公司", "phone": "05581110000"})
    assert status == 201
    status, units, _ = await call("GET", "/api/units")
    assert [u["code"] for u in units["items"]] == ["gas", "roads", "water"]
    status, _, _ = await call("GET", "/api/outbox", user="op")
    assert status == 403
    status, dead, _ = await call("GET", "/api/outbox?state=dead", user="root")
    assert dead == {"items": [], "total": 0}


async def test_reports(api):
    call, _ = api
    await call("POST", "/api/tickets", json=NEW)
    status, _, page = await call("GET", "/api/reports/weekly", user="sup")
    assert status == 200 and "承办单位排名" in page
    status, _, text = await call("GET", "/api/reports/monthly?format=csv", user="sup")
    assert text.startswith("rank,unit,name")
    status, data, _ = await call("GET", "/api/reports/measures?since=2026-01-01&until=2027-01-01",
                                 user="sup")
    assert status == 200 and "overall" in data
    status, error, _ = await call("GET", "/api/reports/measures?since=2026-01-01", user="sup")
    assert status == 422 and error["field"] == "until"
    status, _, _ = await call("GET", "/api/reports/weekly", user="water")
    assert status == 403
