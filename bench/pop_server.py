"""The screen-pop path of the service (AMI client → call tracker → screen pops → websocket)
with the real web app, for bench/screen_pop_latency.py; Asterisk's side is the bench's AMI
peer. Prints "ready" once the AMI login succeeded and the seats' users exist."""

import asyncio
import sys

from aiohttp import web

from ivr.accounts.service import Accounts
from ivr.callback_requests.service import CallbackRequests
from ivr.calls.call_log import CallLog
from ivr.calls.tracker import CallTracker
from ivr.listen_in.service import ListenInService
from ivr.live_view.service import LiveView
from ivr.main import WebServices, build_ticket_service, build_web_app
from ivr.screen_pops.service import ScreenPops
from ivr.seats.service import SeatService
from ivr.settings import Settings
from ivr.telephony.ami_client import AmiClient
from store.db import Database
from tickets.outbox import OutboxAdmin


async def main(db_url: str, web_port: int, ami_port: int, seats: int) -> None:
    settings = Settings.from_env({"HOTLINE_DB_URL": db_url})
    db = Database(db_url)
    await db.migrate()
    accounts = Accounts(db)
    for n in range(seats):
        await accounts.add_user(f"op{n}", "operator", "bench-password", seat=str(2000 + n))
    calls = CallLog(db)
    tickets = build_ticket_service(db, settings)
    pops = ScreenPops(calls, tickets)
    ami = AmiClient("127.0.0.1", ami_port, "bench", "x", ping_interval=30)
    tracker = CallTracker(calls, ami)
    tracker.subscribers.append(pops.on_fact)
    ami.on_event = tracker.on_event
    services = WebServices(accounts, calls, _health, tickets, OutboxAdmin(db), db,
                           SeatService(db, settings.asterisk_dir / "etc", "127.0.0.1", "q",
                                       "q-night"),
                           pops, ListenInService(db, calls), CallbackRequests(db, calls),
                           LiveView(db, "hotline", "Asia/Shanghai"))
    runner = web.AppRunner(build_web_app(services), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", web_port).start()
    await tracker.start()
    await ami.start()
    await ami.wait_connected(10)
    print("ready", flush=True)
    await asyncio.Event().wait()


async def _health() -> dict[str, str]:
    return {}


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
