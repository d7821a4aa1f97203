"""The `hotline` console script."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

from ivr.errors import HotlineError
from ivr.log_format import setup_logging
from ivr.settings import Settings
from store.db import Database
from tickets.errors import TicketError


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.main import run

    bench_dialplan = args.bench_dialplan or settings.bench_dialplan
    asyncio.run(run(settings, bench_dialplan=bench_dialplan))
    return 0


def cmd_settings(_args: argparse.Namespace, settings: Settings) -> int:
    from ivr.settings_report import report

    print(*report(settings), sep="\n")
    return 0


def _pid_file(settings: Settings) -> Path:
    return settings.home / "hotline.pid"


def _running_pid(settings: Settings) -> int | None:
    try:
        pid = int(_pid_file(settings).read_text())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    """Running, not merely a zombie: a killed service that nobody has reaped yet (its
    parent, `hotline up`, is long gone) still answers kill(pid, 0)."""
    try:
        os.kill(pid, 0)
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _health(settings: Settings) -> tuple[int, dict[str, str] | str]:
    url = f"http://{settings.local_host}:{settings.web_port}/api/health"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except (OSError, ValueError) as exc:
        return 0, str(exc)


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    if (pid := _running_pid(settings)) is not None:
        print(f"hotline is already running (pid {pid})")
        return 0
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.log_dir / "hotline.log"
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "ivr.cli", "run"], stdin=subprocess.DEVNULL,
            stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
    _pid_file(settings).write_text(str(process.pid))
    deadline = time.monotonic() + args.timeout
    status, state = 0, "not started"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace").splitlines()[-15:]
            print(f"hotline exited with {process.returncode} while starting:", *tail, sep="\n")
            _pid_file(settings).unlink(missing_ok=True)
            return 1
        status, state = _health(settings)
        if status == 200:
            print(f"hotline is up (pid {process.pid}): http://{settings.local_host}:"
                  f"{settings.web_port}, SIP {settings.bind}:{settings.sip_port}")
            return 0
        time.sleep(0.5)
    print(f"hotline not healthy after {args.timeout:.0f}s: {state}; stopping it")
    _stop(process.pid)
    _pid_file(settings).unlink(missing_ok=True)
    return 1


def _stop(pid: int, timeout: float = 30) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def cmd_down(_args: argparse.Namespace, settings: Settings) -> int:
    pid = _running_pid(settings)
    if pid is None:
        print("hotline is not running")
    else:
        _stop(pid)
        print(f"hotline stopped (pid {pid})")
    _pid_file(settings).unlink(missing_ok=True)
    # A service that died (SIGKILL, out of memory) left its Asterisk running: stop it too.
    if (asterisk_pid := asyncio.run(_stop_left_asterisk(settings))) is not None:
        print(f"asterisk left running by the service stopped (pid {asterisk_pid})")
    return 0


async def _stop_left_asterisk(settings: Settings) -> int | None:
    from ivr.telephony.asterisk_process import AsteriskInstall, stop_instance

    try:
        install = AsteriskInstall.locate(settings.asterisk_root)
    except HotlineError:
        return None  # no Asterisk installed: none can be running
    return await stop_instance(install.layout(settings.asterisk_dir))


def _with_database(settings: Settings, work: Callable[[Database], Awaitable[str]]) -> int:
    """Run one admin command against the (migrated) database and print what it did."""

    async def run() -> str:
        db = Database(settings.db_url)
        try:
            await db.migrate()
            return await work(db)
        finally:
            await db.close()

    print(asyncio.run(run()))
    return 0


def cmd_users_add(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.accounts.service import Accounts

    async def add(db: Database) -> str:
        user = await Accounts(db).add_user(args.name, args.role, args.password,
                                           seat=args.seat, unit=args.unit)
        return f"user {user.name} ({user.role}) added"

    return _with_database(settings, add)


def cmd_units_add(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.main import build_ticket_service

    async def add(db: Database) -> str:
        unit = await build_ticket_service(db, settings).add_unit(
            args.code, args.name, args.phone, args.duty_phone, args.hours)
        return f"unit {unit['code']} ({unit['name']}) saved"

    return _with_database(settings, add)


def cmd_seats_add(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.seats.service import SeatService
    from ivr.telephony.asterisk_process import AsteriskInstall, AsteriskProcess

    async def add(db: Database) -> str:
        seats = SeatService(db, settings.asterisk_dir / "etc", settings.local_host,
                            settings.queue_name, settings.night_queue_name)
        seat = await seats.add(args.number, args.password, args.name, args.night)
        control = settings.asterisk_dir / "run" / "asterisk.ctl"
        if not control.exists():
            return f"seat {seat['seat']} saved; it is loaded when the hotline starts"
        install = AsteriskInstall.locate(settings.asterisk_root)
        layout = install.layout(settings.asterisk_dir)
        await AsteriskProcess(install, layout).rx("module reload res_pjsip.so")  # live, no restart
        return f"seat {seat['seat']} saved and live; it can register now"

    return _with_database(settings, add)


def cmd_prompts_build(_args: argparse.Namespace, settings: Settings) -> int:
    from ivr.menu.prompts import build_prompts

    count = asyncio.run(build_prompts(settings.sounds_dir, settings.recorded_prompts_dir))
    print(f"{count} prompts rebuilt in {settings.sounds_dir}")
    return 0


def cmd_transcribe(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.speech.commands import transcribe

    return transcribe(settings, args.files)


def cmd_mic_test(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.speech.commands import mic_test

    return mic_test(settings, args.seconds)


async def _unit_numbers(settings: Settings) -> dict[str, bool]:
    """Unit code → whether it has a number to call: what the menu's unit keys must match."""
    from ivr.conf.admin import unit_numbers
    from ivr.main import build_ticket_service

    logging.getLogger("alembic").setLevel(logging.WARNING)  # a check's output is its findings
    db = Database(settings.db_url)
    try:
        await db.migrate()
        return await unit_numbers(build_ticket_service(db, settings))
    finally:
        await db.close()


def cmd_conf_check(_args: argparse.Namespace, settings: Settings) -> int:
    from ivr.conf import commands

    return commands.check(settings, lambda: _unit_numbers(settings))


def cmd_conf_apply(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.conf import commands

    return commands.apply(settings, lambda: _unit_numbers(settings), yes=args.yes,
                          dry_run=args.dry_run)


def cmd_conf_history(_args: argparse.Namespace, settings: Settings) -> int:
    from ivr.conf import commands

    return commands.history(settings)


def cmd_conf_rollback(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.conf import commands

    return commands.rollback(settings, args.version)


def cmd_asterisk_cli(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.telephony.asterisk_process import AsteriskInstall, AsteriskProcess

    install = AsteriskInstall.locate(settings.asterisk_root)
    layout = install.layout(settings.asterisk_dir)
    print(asyncio.run(AsteriskProcess(install, layout).rx(" ".join(args.command))), end="")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hotline", description="12345 hotline telephony core")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="Asterisk and the hotline service in the foreground")
    run.add_argument("--bench-dialplan", action="store_true",
                     help="also load the pure-dialplan benchmark menu (12399); "
                          "HOTLINE_BENCH_DIALPLAN=1 does the same")
    run.set_defaults(func=cmd_run)

    up = sub.add_parser("up", help="start in the background; exit 0 once healthy")
    up.add_argument("--timeout", type=float, default=120)
    up.set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop what `up` started").set_defaults(func=cmd_down)
    sub.add_parser("settings", help="the effective settings, secrets hidden").set_defaults(
        func=cmd_settings)

    users = sub.add_parser("users", help="web console users").add_subparsers(
        dest="users_command", required=True)
    add = users.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["operator", "supervisor", "admin", "unit"])
    add.add_argument("--password", required=True)
    add.add_argument("--seat")
    add.add_argument("--unit")
    add.set_defaults(func=cmd_users_add)

    units = sub.add_parser("units", help="responsible units").add_subparsers(
        dest="units_command", required=True)
    unit = units.add_parser("add", help="add or update a responsible unit")
    unit.add_argument("code")
    unit.add_argument("--name", required=True)
    unit.add_argument("--phone", required=True)
    unit.add_argument("--duty-phone", help="its 7x24 duty number")
    unit.add_argument("--hours", help="when the day number is staffed on working days, "
                      "e.g. 08:30-12:00,14:00-17:30 (default: always)")
    unit.set_defaults(func=cmd_units_add)

    seats = sub.add_parser("seats", help="operator seats").add_subparsers(
        dest="seats_command", required=True)
    seat = seats.add_parser("add", help="add a seat (a SIP phone with digest auth), live")
    seat.add_argument("number")
    seat.add_argument("--password", required=True)
    seat.add_argument("--name")
    seat.add_argument("--night", action=argparse.BooleanOptionalAction, default=None,
                      help="a night seat (answers outside staffed hours); --no-night: day")
    seat.set_defaults(func=cmd_seats_add)

    prompts = sub.add_parser("prompts", help="voice prompts").add_subparsers(
        dest="prompts_command", required=True)
    prompts.add_parser("build", help="synthesise changed prompts").set_defaults(
        func=cmd_prompts_build)

    transcribe = sub.add_parser("transcribe", help="transcribe recordings (HOTLINE_VOSK_MODEL); "
                                "a call's recording gets its transcript on the call")
    transcribe.add_argument("files", nargs="+", metavar="FILE")
    transcribe.set_defaults(func=cmd_transcribe)
    mic = sub.add_parser("mic-test", help="live transcription from the microphone, to try "
                         "a model before it takes calls")
    mic.add_argument("--seconds", type=float, help="stop after this long (default: Ctrl-C)")
    mic.set_defaults(func=cmd_mic_test)

    conf = sub.add_parser("conf", help="the menu and what else an admin configures "
                          "($HOTLINE_HOME/conf/)").add_subparsers(dest="conf_command",
                                                                  required=True)
    conf.add_parser("check", help="every mistake, as FILE:LINE: message; exit 1 if any"
                    ).set_defaults(func=cmd_conf_check)
    conf_apply = conf.add_parser("apply", help="check, show the change, put it live, verify, "
                                 "roll back on failure")
    conf_apply.add_argument("--yes", action="store_true", help="do not ask")
    conf_apply.add_argument("--dry-run", action="store_true",
                            help="check and show the change, but change nothing")
    conf_apply.set_defaults(func=cmd_conf_apply)
    conf.add_parser("history", help="every version applied: who, when, what changed"
                    ).set_defaults(func=cmd_conf_history)
    conf_rollback = conf.add_parser("rollback", help="put an earlier version live again")
    conf_rollback.add_argument("version", nargs="?", type=int,
                               help="the version (default: the one before the live one)")
    conf_rollback.set_defaults(func=cmd_conf_rollback)

    ast = sub.add_parser("asterisk", help="the running Asterisk").add_subparsers(
        dest="asterisk_command", required=True)
    cli = ast.add_parser("cli", help="run one Asterisk CLI command")
    cli.add_argument("command", nargs="+")
    cli.set_defaults(func=cmd_asterisk_cli)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        # Settings first: a bad value is refused before anything starts, and they say
        # the log level and format.
        settings = Settings.from_env()
        setup_logging(settings.log_level, settings.log_format)
        return int(args.func(args, settings))
    except (HotlineError, TicketError) as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
