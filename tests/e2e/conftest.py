"""The hotline as a user runs it (`hotline run`), shared by the end-to-end tests."""

import asyncio

import pytest

from tests.support.stack import ADMIN, ADMIN_PASSWORD, Stack, stack_env


@pytest.fixture(scope="session")
def running_stack(tmp_path_factory):
    # JSON log lines, as a log collector reads them (test_observability reads a call's).
    stack = Stack(stack_env(tmp_path_factory.mktemp("hotline-e2e"), HOTLINE_LOG_FORMAT="json"))
    stack.start()
    added = stack.cli("users", "add", ADMIN, "--role", "admin", "--password", ADMIN_PASSWORD)
    assert added.returncode == 0, added.stderr
    # Daytime: a seat is logged into the queue (its phone is off the hook, so it is never
    # rung), so callers wait in the queue as they would while every operator is busy.
    # With nobody logged in at all, callers go to the message path (test_night_and_callbacks).
    assert stack.cli("seats", "add", "1999", "--password", "busy-seat-pass").returncode == 0

    async def log_in_the_busy_seat() -> None:
        await stack.login()
        await stack.post("/api/seats/1999/ready", {})

    asyncio.run(log_in_the_busy_seat())
    yield stack
    stack.stop()


@pytest.fixture
async def stack(running_stack):
    await running_stack.login()
    yield running_stack
    # Sign out the seats this test put into the queue: their phones are gone, and a later
    # test's call must not ring them first. The seat on duty (1999) stays.
    seats = await running_stack.get("/api/seats")
    for seat in seats["items"]:
        if seat["state"] != "off" and seat["seat"] != "1999":
            await running_stack.post(f"/api/seats/{seat['seat']}/logout", {})
