"""The web API with the real ticket service on a given database, without Asterisk: the
server side of bench/tickets_throughput.py, run as its own process."""

import asyncio
import sys

from aiohttp import web

from ivr.accounts.service import Accounts
from ivr.callback_requests.service import CallbackRequests
from ivr.calls.call_log import CallLog
from ivr.listen_in.service import ListenInService
from ivr.live_view.service import LiveView
from ivr.main import WebServices, build_ticket_service, build_web_app, freeze_startup_heap
from ivr.screen_pops.service import ScreenPops
from ivr.seats.service import SeatService
from ivr.settings import Settings
from store.db import Database
from tickets.outbox import OutboxAdmin


async def main(db_url: str, port: int) -> None:
    settings = Settings.from_env({"HOTLINE_DB_URL": db_url})
    db = Database(db_url)
    await db.migrate()
    accounts = Accounts(db)
    await accounts.add_user("bench", "operator", "bench-password", seat="1001")
    tickets = build_ticket_service(db, settings)
    await tickets.start()  # as `hotline run` does: on SQLite, its writer process
    await tickets.add_unit("water", "自来水公司", "05581234567")

    async def health() -> dict[str, str]:
        return {"db": "up"}

    seats = SeatService(db, settings.asterisk_dir / "etc", "127.0.0.1", "hotline",
                        "hotline-night")
    runner = web.AppRunner(build_web_app(WebServices(accounts, CallLog(db), health, tickets,
                                                 OutboxAdmin(db), db, seats,
                                                 ScreenPops(CallLog(db), tickets),
                                                 ListenInService(db, CallLog(db)),
                                                 CallbackRequests(db, CallLog(db)),
                                                 LiveView(db, "hotline",
                                                                "Asia/Shanghai"))),
                           access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    freeze_startup_heap()  # as `hotline run` does once started
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
