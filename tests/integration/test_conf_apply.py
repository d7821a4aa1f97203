"""Applying the admin's menu and rolling it back, on real files, with the hotline's own
live configuration (ivr/conf/live.py) running in this process as the service runs it."""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace

import pytest

from ivr.conf import live
from ivr.conf.apply import Prompts, apply_working_copy, roll_back
from ivr.conf.check import known_world
from ivr.conf.directory import read_seats, read_units, sync_directory
from ivr.conf.live import LiveConf, read_running
from ivr.conf.store import ConfStore
from ivr.seats.service import SeatService
from tests.support.tickets import ticket_service

NEW_KEY = '"6" = { queue = "hotline", kind = "praise", say = ["ack_praise", "to_operator"] }\n'


async def yes(_diff: str) -> bool:
    return True


@pytest.fixture
def conf(tmp_path, monkeypatch):
    monkeypatch.setattr(live, "WATCH_SECONDS", 0.1)
    store = ConfStore(tmp_path / "conf")
    world = known_world(tmp_path / "prompts", {"hotline"})
    prompts = Prompts(tmp_path / "sounds", tmp_path / "prompts")
    return store, world, prompts


def add_praise_key(store: ConfStore) -> None:
    menu = store.working_file("menu.toml")
    text = menu.read_text(encoding="utf-8").replace('"9" = { repeat = true }\n',
                                                    '"9" = { repeat = true }\n' + NEW_KEY)
    menu.write_text(text.replace("[prompts]\n", '[prompts]\nack_praise = "您选择了表扬。"\n'),
                    encoding="utf-8")


async def test_an_applied_menu_reaches_the_running_hotline_and_rolls_back(conf):
    store, world, prompts = conf
    running = LiveConf(store)
    await running.start()
    try:
        assert running.version == 1 and "6" not in running.menu.nodes["main"].keys
        before = running.menu
        add_praise_key(store)
        result = await apply_working_copy(store, world, prompts, None, by="admin", confirm=yes)
        assert (result.outcome, result.version) == ("applied", 2), result.message
        assert "+" + NEW_KEY.strip() in result.diff
        assert running.menu.nodes["main"].keys["6"].request_kind == "praise"
        assert before.nodes["main"].keys.get("6") is None  # a call in the menu keeps its tree
        assert (prompts.sounds_dir / "ack_praise.wav").stat().st_size > 1000  # synthesised
        again = await apply_working_copy(store, world, prompts, None, by="admin", confirm=yes)
        assert again.outcome == "unchanged"

        back = await roll_back(store, None, None, by="admin")
        assert (back.outcome, back.version) == ("applied", 3), back.message
        assert "6" not in running.menu.nodes["main"].keys
        assert NEW_KEY not in store.working_file("menu.toml").read_text(encoding="utf-8")
        history = [(v.number, v.by, v.outcome, v.rolled_back_to) for v in store.versions()]
        assert history == [(1, "hotline", "applied", None), (2, "admin", "live", None),
                           (3, "admin", "live", 1)]
        assert store.live_version() == 3
    finally:
        await running.stop()


async def test_a_broken_menu_is_refused_and_nothing_changes(conf):
    store, world, prompts = conf
    store.ensure()
    menu = store.working_file("menu.toml")
    menu.write_text(menu.read_text(encoding="utf-8").replace(
        '"8" = { menu = "emergency" }', '"8" = { menu = "emergncy" }'), encoding="utf-8")
    result = await apply_working_copy(store, world, prompts, None, by="admin", confirm=yes)
    assert result.outcome == "refused" and not result.ok
    assert [f.message.split(" — ")[0] for f in result.findings] == [
        "按键 8 指向的节点 'emergncy' 不存在",
        "节点 'emergency' 没有任何按键能到达"]
    assert store.live_version() == 1 and len(store.versions()) == 1


async def test_dry_run_and_no_change_leave_the_live_version(conf):
    store, world, prompts = conf
    store.ensure()
    add_praise_key(store)
    result = await apply_working_copy(store, world, prompts, None, by="admin", confirm=yes,
                                      dry_run=True)
    assert result.outcome == "dry_run" and NEW_KEY.strip() in result.diff
    declined = await apply_working_copy(store, world, prompts, None, by="admin",
                                        confirm=lambda _d: asyncio.sleep(0, False))
    assert declined.outcome == "declined"
    assert store.live_version() == 1


async def test_a_version_the_hotline_refuses_is_put_back(conf, monkeypatch):
    """The check passed, but the running hotline could not load what went live (here: a
    file broken after it was kept): the version before it is live again, and says so."""
    store, world, prompts = conf
    running = LiveConf(store)
    await running.start()
    try:
        add_praise_key(store)
        original = store.snapshot

        def broken_snapshot(*args, **kwargs):
            version = original(*args, **kwargs)
            (store.version_dir(version.number) / "menu.toml").write_text("[nodes\n")
            return version

        monkeypatch.setattr(store, "snapshot", broken_snapshot)
        result = await apply_working_copy(store, world, prompts, None, by="admin", confirm=yes)
        assert result.outcome == "rolled_back", result.message
        assert "热线服务拒绝了它" in result.message
        assert store.live_version() == 1 and running.version == 1
        assert store.versions()[-1].outcome.startswith("refused: 热线服务拒绝了它")
        noted = read_running(store.dir)
        assert noted is not None and (noted.version, noted.refused, noted.pid) == (
            1, 2, os.getpid())
    finally:
        await running.stop()


async def test_with_no_hotline_running_the_version_waits_for_its_start(conf):
    store, world, prompts = conf
    store.ensure()
    add_praise_key(store)
    result = await apply_working_copy(store, world, prompts, None, by="admin", confirm=yes)
    assert result.outcome == "not_running" and result.ok
    assert store.live_version() == 2
    assert (await roll_back(store, None, 7, by="admin")).outcome == "refused"


async def test_a_unit_declared_with_its_menu_key_goes_live_into_the_database(conf, db):
    """One change declares a unit in units.toml and a menu key that phones it: the check
    takes the declared unit as known, and the hotline taking the version syncs it."""
    store, world, prompts = conf
    tickets = ticket_service(db)
    seats = SeatService(db, store.dir.parent / "etc", "127.0.0.1", "hotline", "hotline-night")

    async def sync(version_dir):
        units, _ = read_units(version_dir / "units.toml")
        declared, _ = read_seats(version_dir / "seats.toml")
        return await sync_directory(units, declared, tickets, seats)

    world = replace(world, units={})  # the database has no unit yet
    running = LiveConf(store, on_version=sync)
    await running.start()
    try:
        menu = store.working_file("menu.toml")
        menu.write_text(menu.read_text(encoding="utf-8").replace(
            '"9" = { repeat = true }\n', '"9" = { repeat = true }\n"6" = { unit = "sw" }\n'),
            encoding="utf-8")
        refused = await apply_working_copy(store, world, prompts, None, by="admin", confirm=yes)
        assert refused.outcome == "refused", "a key to a unit nobody declared"
        assert "'sw'" in refused.findings[0].message
        store.working_file("units.toml").write_text(
            '[[unit]]\ncode = "sw"\nname = "市水务局"\nphone = "13900000001"\n',
            encoding="utf-8")
        store.working_file("seats.toml").write_text(
            '[[seat]]\nnumber = "8101"\nname = "张敏"\n', encoding="utf-8")
        result = await apply_working_copy(store, world, prompts, None, by="admin", confirm=yes)
        assert result.outcome == "applied", result.message
        assert "单位：新增 1" in result.message and "hotline seats add 8101" in result.message
        assert [(u["code"], u["name"]) for u in await tickets.units()] == [("sw", "市水务局")]
        assert [s["seat"] for s in await seats.list()] == ["8101"]
        assert running.menu.nodes["main"].keys["6"].target == "sw"
    finally:
        await running.stop()
