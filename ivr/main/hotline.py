"""The running hotline: Asterisk plus the service around it, built and wired (the web
app's routes: ivr/main/web_app.py)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import signal
from pathlib import Path

from aiohttp import web

from agi_scripts.callback_request import CallbackServices, callback_request
from agi_scripts.main_menu import MainMenuServices, main_menu
from agi_scripts.message_left import MessageServices, message_left
from ivr.accounts.service import Accounts
from ivr.callback_requests.service import CallbackRequests
from ivr.calls.call_log import CallLog
from ivr.calls.tracker import CallTracker
from ivr.conf.admin import ConfAdmin, unit_numbers
from ivr.conf.asterisk_live import AsteriskSide
from ivr.conf.directory import read_seats, read_units, sync_directory
from ivr.conf.live import LiveConf
from ivr.conf.store import ConfStore
from ivr.errors import AsteriskError
from ivr.listen_in.service import ListenInService
from ivr.live_view.service import LiveView
from ivr.main.web_app import WebServices, build_web_app
from ivr.menu.flow import TicketStatus
from ivr.menu.prompts import build_prompts, load_catalog
from ivr.metrics.service import HotlineMetrics, MetricSources
from ivr.schedule.hours import preset_for
from ivr.schedule.staffing import Staffing
from ivr.screen_pops.service import ScreenPops
from ivr.seats.service import SeatService
from ivr.settings import Settings
from ivr.speech.parts import speech_parts
from ivr.telephony.agi_server import FastAgiServer
from ivr.telephony.ami_client import AmiClient, Message
from ivr.telephony.asterisk_config import (
    AMI_USER,
    AsteriskLayout,
    ami_secret,
    ari_password,
    prepare_data_dir,
    render_all,
    template_values,
    with_overrides,
    write_config,
)
from ivr.telephony.asterisk_process import AsteriskInstall, AsteriskProcess
from ivr.telephony.loop_watchdog import LoopWatchdog
from ivr.telephony.resync import Resync
from ivr.transfers.control import TransferControl
from ivr.transfers.service import TransferService
from store.db import Database
from store.tasks import cancel_and_wait
from store.transactions import writers_for
from tickets.calendar import WorkCalendar
from tickets.errors import TicketError
from tickets.outbox import OutboxAdmin, OutboxWorker
from tickets.rules import rules_for
from tickets.service import TicketService
from tickets.writes import TicketWrites

log = logging.getLogger(__name__)


class Hotline:
    """Asterisk plus the service around it: FastAGI, AMI tracking, web API, database."""

    def __init__(self, settings: Settings, *, bench_dialplan: bool = False) -> None:
        self.settings = settings
        self._bench_dialplan = bench_dialplan
        self.db = Database(settings.db_url)
        # The AMI client first: the services that steer Asterisk are given it. Reading
        # the secret here is one small file, before the service takes any request.
        self._ami_secret = ami_secret(settings)
        self.ami = AmiClient(settings.local_host, settings.ami_port, AMI_USER, self._ami_secret)
        self.call_log = CallLog(self.db, str(settings.recordings_dir))
        self.tracker = CallTracker(self.call_log, self.ami)
        self.accounts = Accounts(self.db)
        self.tickets = build_ticket_service(self.db, settings)
        self.outbox: OutboxWorker | None = None
        self.pops = ScreenPops(self.call_log, self.tickets)
        self.listen_in = ListenInService(self.db, self.call_log, self.ami)
        self.callbacks = CallbackRequests(self.db, self.call_log)
        self.seats = SeatService(self.db, settings.asterisk_dir / "etc", settings.local_host,
                                 settings.queue_name, settings.night_queue_name,
                                 ami=self.ami, apply_config=self._reload_pjsip)
        self.staffing = Staffing(settings.schedule_path, preset_for(settings.city),
                                 self.tickets.calendar, settings.timezone, ami=self.ami)
        self.transfers = TransferService(
            self.call_log, self.tickets.unit_to_call, TransferControl(self.ami),
            ring_seconds=settings.transfer_ring_seconds,
            hold_limit_seconds=settings.transfer_hold_limit_seconds, publish=self.pops.notify,
            ticket_kind=self.tickets.kind_of)
        speech = speech_parts(settings, self.call_log, self.pops.notify)
        self.speech, self.ari, self.audiosocket = speech.service, speech.ari, speech.audiosocket
        # The admin's configuration ($HOTLINE_HOME/conf/): the menu each new call gets,
        # and the speech grammar of its phrases, swapped when a change is applied; the
        # units and seats it declares, synced into the database.
        self.conf = LiveConf(ConfStore(settings.conf_dir),
                             on_menu=lambda tree: self.speech.set_menu_phrases(tree.phrases()),
                             on_version=self._sync_directory)
        self.resync = Resync({"calls": self.tracker.resync, "seats": self.seats.resync,
                              "schedule": self.staffing.apply,
                              "transfers": self.transfers.resync})
        self.live_view = LiveView(self.db, settings.queue_name, settings.timezone,
                                  self.staffing, self.speech.counts)
        self.outbox_admin = OutboxAdmin(self.db)
        self.metrics = HotlineMetrics(MetricSources(
            self.call_log.live_by_stage, self.live_view.queue_today,
            self.tickets.count_by_status, self.outbox_admin.backlog,
            lambda: self.ami.connections, lambda: self.ami.connected, self.speech.counts,
            self.conf.counts))
        self.transfers.on_leg_ended = self.metrics.transfer_leg_ended
        self.tracker.subscribers.append(self.pops.on_fact)
        self.tracker.subscribers.append(self.speech.on_fact)
        self.tracker.subscribers.append(self.metrics.on_fact)
        self.ami.on_event = self._on_ami_event
        self.ami.on_connected = self.resync.run
        self.ami.on_disconnected = self.resync.reset
        self.agi: FastAgiServer | None = None
        self.watchdog: LoopWatchdog | None = None
        self.asterisk: AsteriskProcess | None = None
        self._web: web.AppRunner | None = None
        self._asterisk_keeper: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        s = self.settings
        await self.db.migrate()
        await self.staffing.load()
        await self.conf.start()
        await build_prompts(s.sounds_dir, s.recorded_prompts_dir,
                            {**await asyncio.to_thread(load_catalog),
                             **self.conf.menu.prompt_texts})
        install, layout, changed_config = await asyncio.to_thread(self._prepare_asterisk)
        await self.seats.write_config()

        # The AGI server listens before Asterisk takes its first call.
        menu = MainMenuServices(
            self.call_log, s.sounds_dir, lambda: self.conf.menu, self._ticket_status,
            unit_number=self._unit_number,
            hear=self.speech.hear if s.vosk_model is not None else None)
        # The route budget outlasts the dialplan's timeout by a little: Asterisk tells the
        # route first (HANGUP), and only a route that does not listen is cut off.
        routes = {
            "main_menu": functools.partial(main_menu, services=menu),
            "callback_request": functools.partial(
                callback_request, services=CallbackServices(self.callbacks, s.sounds_dir)),
            "message_left": functools.partial(
                message_left, services=MessageServices(self.callbacks)),
        }
        self.agi = FastAgiServer(routes, s.bind, s.agi_port,
                                 route_budget=s.ivr_max_seconds + 1,
                                 on_route_failed=self.metrics.agi_route_failed)
        await self.agi.start()
        self.watchdog = LoopWatchdog(self.agi.abort_all, s.loop_stall_seconds)
        await self.watchdog.start()

        await self.speech.start()
        if self.audiosocket is not None:
            await self.audiosocket.start()
        await self.tickets.start()
        if s.downstream_url:
            self.outbox = OutboxWorker(self.db, s.downstream_url)
            self.tickets.on_event = self.outbox.wake
            await self.outbox.start()

        self._web = web.AppRunner(build_web_app(WebServices(
            self.accounts, self.call_log, self.health, self.tickets, self.outbox_admin,
            self.db, self.seats, self.pops, self.listen_in, self.callbacks,
            self.live_view, self.staffing, self.transfers, self.metrics,
            ConfAdmin(s, functools.partial(unit_numbers, self.tickets),
                      self.speech.missing_words_check,
                      AsteriskSide(s)))),
            access_log=None)
        await self._web.setup()
        await web.TCPSite(self._web, s.bind, s.web_port).start()

        self.asterisk = AsteriskProcess(install, layout)
        # An Asterisk left running by a service that died keeps its callers: adopt it,
        # unless the configuration it runs on is no longer the one just written.
        if changed_config:
            log.info("asterisk configuration changed: %s", ", ".join(sorted(changed_config)))
        await self.asterisk.start(adopt=not changed_config)
        self._asterisk_keeper = asyncio.create_task(self._keep_asterisk_running(),
                                                    name="asterisk-keeper")

        await self.tracker.start()
        await self.transfers.start()
        await self.ami.start()
        await self.ami.wait_connected(15)
        if self.ari is not None:
            await self.ari.start()  # reconnects by itself; calls go on untapped meanwhile
        await self.staffing.start()
        freeze_startup_heap()
        log.info("hotline ready: SIP %s:%s, web http://%s:%s", s.bind, s.sip_port, s.bind,
                 s.web_port)

    def _prepare_asterisk(self) -> tuple[AsteriskInstall, AsteriskLayout, set[str]]:
        """Locate Asterisk, write its configuration and data directory: file work, run in a
        thread so the event loop never waits on the disk. Also returns which configuration
        files changed."""
        s = self.settings
        s.recordings_dir.mkdir(parents=True, exist_ok=True)
        install = AsteriskInstall.locate(s.asterisk_root)
        layout = install.layout(s.asterisk_dir)
        values = template_values(s, layout, self._ami_secret,
                                 bench_dialplan=self._bench_dialplan,
                                 staffed=self.staffing.staffed(), ari_password=ari_password(s))
        # The templates, and the admin's own Asterisk files of the live configuration.
        changed = write_config(layout, with_overrides(render_all(values),
                                                      self.conf.asterisk_overrides(), values))
        prepare_data_dir(layout, s.sounds_dir)
        return install, layout, changed

    async def stop(self) -> None:
        self._stopping = True
        await cancel_and_wait(self._asterisk_keeper)
        await self.staffing.stop()
        await self.conf.stop()
        if self.watchdog:
            await self.watchdog.stop()
        if self.agi:  # callers still in the menu are handed to the queue first
            await self.agi.stop()
        if self.asterisk:
            await self.asterisk.stop()
        # Let the hang-ups Asterisk reported on its way down reach the call records.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.tracker.idle(), 5)
        await self.ami.stop()
        await self.tracker.stop()
        await self.transfers.stop()
        await self.pops.stop()
        if self._web:
            await self._web.cleanup()
        await self.tickets.stop()
        if self.outbox:
            await self.outbox.stop()
        if self.ari is not None:
            await self.ari.stop()
        if self.audiosocket is not None:
            await self.audiosocket.stop()
        await self.speech.stop()
        await self.db.close()

    def _on_ami_event(self, message: Message) -> None:
        self.tracker.on_event(message)
        self.transfers.on_event(message)
        self.speech.on_event(message)

    async def _sync_directory(self, version_dir: Path) -> str:
        """The units and seats a configuration version declares, into the database."""
        units, findings = await asyncio.to_thread(read_units, version_dir / "units.toml")
        seats, seat_findings = await asyncio.to_thread(read_seats, version_dir / "seats.toml")
        if findings or seat_findings:  # checked at apply: only a hand-edited version
            return "单位和坐席未写入数据库：" + "；".join(
                str(f) for f in [*findings, *seat_findings])
        return await sync_directory(units, seats, self.tickets, self.seats)

    async def _reload_pjsip(self) -> None:
        if self.asterisk is not None and self.asterisk.is_running():
            await self.asterisk.rx("module reload res_pjsip.so")

    async def _ticket_status(self, number: str) -> TicketStatus | None:
        """IVR menu 5: what a caller hears for a ticket number (status only, no identity)."""
        status = await self.tickets.status_of(number)
        return TicketStatus(number, f"ticket_status_{status}") if status else None

    async def _unit_number(self, code: str) -> str | None:
        """A menu key straight to a unit: the number to phone it on now."""
        try:
            _unit, number = await self.tickets.unit_to_call(code)
        except TicketError:  # unknown, or no number staffed now: the caller gets an operator
            return None
        return number

    async def health(self) -> dict[str, str]:
        """What is up, with what is coming back named too: "seats": "restoring" until
        every signed-in seat is in its queue again after a (re)connect, "tickets":
        "restarting" while a dead ticket writer is replaced (both only while so)."""
        def up(ok: bool) -> str:
            return "up" if ok else "down"

        ami_up = self.ami.connected
        state = {
            "asterisk": up(self.asterisk is not None and self.asterisk.is_running()),
            "ami": up(ami_up),
            "agi": up(self.agi is not None and self.agi.serving),
            "db": up(await self.db.ping()),
        }
        if not ami_up or "seats" in self.resync.pending:
            state["seats"] = "restoring"
        if not self.tickets.writing:
            state["tickets"] = "restarting"
        state["asr"] = self.speech.state  # "off" (not configured) is not a failure
        return state

    async def _keep_asterisk_running(self) -> None:
        """Asterisk died under us: start it again; the AMI client reconnects and resyncs."""
        assert self.asterisk is not None
        while not self._stopping:
            code = await self.asterisk.wait()
            if self._stopping:
                return
            log.error("asterisk exited with %s; restarting it", code)
            await asyncio.sleep(1)
            try:
                await self.asterisk.start()
            except AsteriskError:
                log.exception("asterisk restart failed; trying again")


def freeze_startup_heap() -> None:
    """Hide what start-up built (modules, SQLAlchemy's metadata and compiled statements,
    the services) from the garbage collector: it lives as long as the process, and a full
    collection walking it paused everything for 63 ms under ticket load (4 ms after)."""
    gc.collect()
    gc.freeze()


def build_ticket_service(db: Database, settings: Settings) -> TicketService:
    writes = TicketWrites(rules_for(settings.city), WorkCalendar.from_file(settings.calendar_file),
                          settings.timezone)
    return TicketService(db, writers_for(db, writes, name="ticket-writer"))


async def run(settings: Settings, *, bench_dialplan: bool = False) -> None:
    """`make run`: everything in the foreground until Ctrl-C or SIGTERM."""
    hotline = Hotline(settings, bench_dialplan=bench_dialplan)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await hotline.start()
        await stop.wait()
        log.info("stopping")
    finally:
        await hotline.stop()
