"""The HTTP API over a real socket and a real SQLite database."""

import pytest
from aiohttp.test_utils import TestClient, TestServer

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
from tests.support.tickets import ticket_service
from tickets.calendar import WorkCalendar
from tickets.outbox import OutboxAdmin


@pytest.fixture
async def api(db, tmp_path):
    health = {"asterisk": "up", "ami": "up", "agi": "up", "db": "up", "asr": "off"}

    async def check():
        return dict(health)

    accounts = Accounts(db)
    await accounts.add_user("op1", "operator", "operator-pass", seat="1001")
    calls = CallLog(db, "/rec")
    tickets = ticket_service(db)
    seats = SeatService(db, tmp_path / "etc", "127.0.0.1", "hotline", "hotline-night")
    await accounts.add_user("lead", "supervisor", "supervisor-pass")
    staffing = Staffing(tmp_path / "schedule.toml", preset_for("lanxi"), WorkCalendar(),
                        "Asia/Shanghai")
    await staffing.load()
    services = WebServices(accounts, calls, check, tickets, OutboxAdmin(db), db, seats,
                           ScreenPops(calls, tickets), ListenInService(db, calls),
                           CallbackRequests(db, calls),
                           LiveView(db, "hotline", "Asia/Shanghai", staffing), staffing)
    client = TestClient(TestServer(build_web_app(services), host="127.0.0.1"))
    await client.start_server()
    yield client, calls, health
    await client.close()


async def login(client, user="op1", password="operator-pass"):
    response = await client.post("/api/login", json={"user": user, "password": password})
    assert response.status == 200, await response.text()
    return (await response.json())["token"]


async def test_health_names_what_is_down(api):
    client, _calls, health = api
    response = await client.get("/api/health")
    assert response.status == 200
    # speech switched off is not a failure
    assert await response.json() == {"asterisk": "up", "ami": "up", "agi": "up", "db": "up",
                                     "asr": "off"}
    health["ami"] = "down"
    response = await client.get("/api/health")
    assert response.status == 503
    assert (await response.json())["ami"] == "down"


async def test_everything_but_health_needs_a_login(api):
    client, _calls, _ = api
    for path in ("/api/calls", "/api/calls/1.1", "/api/me"):
        response = await client.get(path)
        assert response.status == 401, path
    bad = await client.get("/api/calls", headers={"Authorization": "Bearer forged"})
    assert bad.status == 401


async def test_login_gives_a_token_and_a_cookie(api):
    client, _calls, _ = api
    response = await client.post("/api/login", json={"user": "op1", "password": "operator-pass"})
    body = await response.json()
    assert body["role"] == "operator" and body["seat"] == "1001" and body["token"]
    assert "hotline_session" in response.cookies
    # the cookie alone authenticates a browser
    me = await client.get("/api/me")
    assert (await me.json())["user"] == "op1"
    # and the bearer token works without it
    client.session.cookie_jar.clear()
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status == 200
    await client.post("/api/logout", headers={"Authorization": f"Bearer {body['token']}"})
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status == 401


@pytest.mark.parametrize("body, status, field", [
    ({"user": "op1", "password": "wrong-pass"}, 401, None),
    ({"user": "nobody", "password": "operator-pass"}, 401, None),
    ({"user": "op1"}, 422, "password"),
    ({"user": 7, "password": "x"}, 422, "user"),
    ([1, 2], 400, "body"),
])
async def test_bad_logins(api, body, status, field):
    client, _calls, _ = api
    response = await client.post("/api/login", json=body)
    assert response.status == status
    if field:
        assert (await response.json())["field"] == field


async def test_broken_json_is_400_not_500(api):
    client, _calls, _ = api
    response = await client.post("/api/login", data=b"{not json",
                                 headers={"Content-Type": "application/json"})
    assert response.status == 400


async def test_calls_list_and_detail(api):
    client, calls, _ = api
    await calls.call_arrived("9.1", "13800000000")
    await calls.menu_left("9.1", "13800000000", ["timeout", "help"], "queue", "help")
    await calls.call_arrived("9.2", "13900000000")
    token = await login(client)
    auth = {"Authorization": f"Bearer {token}"}
    response = await client.get("/api/calls", params={"caller": "13800000000"}, headers=auth)
    body = await response.json()
    assert body["total"] == 1
    item = body["items"][0]
    for field in ("id", "caller", "started", "answered", "ended", "ivr_path", "queue",
                  "wait_seconds", "seat", "transfers", "outcome", "recording", "transcript",
                  "ticket_id"):
        assert field in item, field
    assert item["ivr_path"] == ["timeout", "help"]
    detail = await client.get("/api/calls/9.1", headers=auth)
    assert (await detail.json())["request_kind"] == "help"
    missing = await client.get("/api/calls/0.0", headers=auth)
    assert missing.status == 404
    page = await (await client.get("/api/calls", params={"limit": "1"}, headers=auth)).json()
    assert page["total"] == 2 and len(page["items"]) == 1


@pytest.mark.parametrize("params, field", [
    ({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"), ({"offset": "-1"}, "offset"),
    ({"since": "yesterday"}, "since"), ({"active": "maybe"}, "active"),
])
async def test_bad_query_parameters_name_the_field(api, params, field):
    client, _calls, _ = api
    token = await login(client)
    response = await client.get("/api/calls", params=params,
                                headers={"Authorization": f"Bearer {token}"})
    assert response.status == 422
    assert (await response.json())["field"] == field


async def test_staffed_hours_are_read_by_staff_and_edited_by_supervisors(api, tmp_path):
    client, _calls, _ = api
    operator = {"Authorization": f"Bearer {await login(client)}"}
    shown = await (await client.get("/api/schedule", headers=operator)).json()
    assert shown["schedule"]["workday_hours"] == ["08:30-12:00", "14:00-17:30"], "兰溪 preset"
    refused = await client.put("/api/schedule", json={"override": "night"}, headers=operator)
    assert refused.status == 403

    lead = {"Authorization": f"Bearer {await login(client, 'lead', 'supervisor-pass')}"}
    bad = await client.put("/api/schedule", headers=lead,
                           json={"always_staffed": False, "workday_hours": ["18:00-09:00"]})
    assert bad.status == 422 and (await bad.json())["field"] == "workday_hours"
    assert not (tmp_path / "schedule.toml").exists(), "a refused edit writes nothing"

    done = await client.put("/api/schedule", headers=lead,
                            json={"always_staffed": False, "workday_hours": ["08:00-20:00"],
                                  "override": "night"})
    body = await done.json()
    assert done.status == 200 and body["staffed"] is False and body["mode_label"] == "夜间值班"
    assert 'workday_hours = ["08:00-20:00"]' in (tmp_path / "schedule.toml").read_text()
    state = await (await client.get("/api/supervisor/state", headers=lead)).json()
    assert state["staffing"]["staffed"] is False
