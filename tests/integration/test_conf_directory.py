"""units.toml and seats.toml synced into a real SQLite database by the ticket and seat
services: created, updated, left alone when unchanged, a seat's password never touched."""

from __future__ import annotations

import pytest

from ivr.conf.directory import SeatEntry, UnitEntry, sync_directory
from ivr.seats.models import Seat
from ivr.seats.service import SeatService, password_digest
from tests.support.tickets import ticket_service

ZJJ = UnitEntry("zjj", "住建局", "0558-1234567", None, "08:30-12:00,14:00-17:30")
SW = UnitEntry("sw", "水务局", "13900000001", "13900000002", None)


@pytest.fixture
def services(db, tmp_path):
    applied: list[str] = []

    async def apply_config() -> None:
        applied.append("pjsip reload")

    seats = SeatService(db, tmp_path / "etc", "127.0.0.1", "hotline", "hotline-night",
                        apply_config=apply_config)
    return ticket_service(db), seats, applied


async def stored_seat(db, number: str) -> Seat | None:
    async with db.session() as session:
        return await session.get(Seat, number)


async def test_sync_creates_then_a_second_sync_changes_nothing(services):
    tickets, seats, applied = services
    summary = await sync_directory([ZJJ, SW], [SeatEntry("8001", "张敏", False)], tickets, seats)
    assert summary == ("单位：新增 2，更新 0；坐席：新增 1，更新 0"
                       "（请用 hotline seats add 8001 --password … 设置密码）")
    assert [(u["code"], u["name"], u["phone"], u["duty_phone"], u["hours"])
            for u in await tickets.units()] == [
        ("sw", "水务局", "13900000001", "13900000002", None),
        ("zjj", "住建局", "0558-1234567", None, "08:30-12:00,14:00-17:30")]
    assert [(s["seat"], s["name"], s["night"]) for s in await seats.list()] == [
        ("8001", "张敏", False)]
    assert applied == ["pjsip reload"]

    assert await sync_directory([ZJJ, SW], [SeatEntry("8001", "张敏", False)], tickets,
                                seats) == "单位：无变化；坐席：无变化"
    assert applied == ["pjsip reload"], "nothing changed, nothing reloaded"


async def test_an_edited_phone_updates_the_unit(services):
    tickets, seats, _applied = services
    await sync_directory([ZJJ], [], tickets, seats)
    moved = UnitEntry("zjj", "住建局", "0558-7654321", "13900000009", None)
    assert await sync_directory([moved, SW], [], tickets, seats) == \
        "单位：新增 1，更新 1；坐席：无变化"
    [zjj] = [u for u in await tickets.units() if u["code"] == "zjj"]
    assert (zjj["phone"], zjj["duty_phone"], zjj["hours"]) == ("0558-7654321", "13900000009",
                                                               None)


async def test_an_existing_seat_keeps_its_password(services, db, tmp_path):
    tickets, seats, _applied = services
    await seats.add("8001", "the-seat-password", "旧名")
    before = await stored_seat(db, "8001")
    assert before is not None
    summary = await sync_directory([], [SeatEntry("8001", "张敏", True)], tickets, seats)
    assert summary == "单位：无变化；坐席：新增 0，更新 1"
    after = await stored_seat(db, "8001")
    assert after is not None
    assert after.password_digest == before.password_digest \
        == password_digest("8001", "the-seat-password")
    assert (after.name, after.night) == ("张敏", True)
    # The endpoint's caller id follows the new name.
    assert '"张敏" <8001>' in (tmp_path / "etc" / "pjsip_seats.conf").read_text()


async def test_new_seats_get_a_password_no_one_knows_and_are_named(services, db):
    tickets, seats, _applied = services
    await seats.add("8001", "the-seat-password", "张敏")
    summary = await sync_directory(
        [], [SeatEntry("8001", "张敏", False), SeatEntry("8002", "李华", True),
             SeatEntry("8003", None, False)], tickets, seats)
    assert summary == ("单位：无变化；坐席：新增 2，更新 0（请为 8002、8003 分别用 hotline seats "
                       "add 号码 --password … 设置密码）")
    new = await stored_seat(db, "8002")
    assert new is not None and (new.name, new.night, new.in_queue) == ("李华", True, False)
    assert len(new.password_digest) == 32  # an MD5 digest of a random password
    third = await stored_seat(db, "8003")
    assert third is not None and third.password_digest != new.password_digest
    # The admin then sets the real password the usual way; the next sync keeps it.
    await seats.add("8002", "a-chosen-password")
    await sync_directory([], [SeatEntry("8002", "李华", True)], tickets, seats)
    kept = await stored_seat(db, "8002")
    assert kept is not None and kept.password_digest == password_digest("8002",
                                                                        "a-chosen-password")


async def test_what_the_file_does_not_list_is_left_alone(services):
    tickets, seats, _applied = services
    await tickets.add_unit("gt", "国土局", "110")
    await seats.add("9001", "the-seat-password", "值班")
    assert await sync_directory([ZJJ], [SeatEntry("8001", None, False)], tickets, seats) == \
        ("单位：新增 1，更新 0；坐席：新增 1，更新 0"
         "（请用 hotline seats add 8001 --password … 设置密码）")
    assert [u["code"] for u in await tickets.units()] == ["gt", "zjj"]
    assert [s["seat"] for s in await seats.list()] == ["8001", "9001"]
