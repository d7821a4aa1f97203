"""The hotline as a user runs it (`hotline run`), shared by the end-to-end tests."""

import pytest

from tests.support.stack import ADMIN, ADMIN_PASSWORD, Stack, stack_env


@pytest.fixture(scope="session")
def running_stack(tmp_path_factory):
    stack = Stack(stack_env(tmp_path_factory.mktemp("hotline-e2e")))
    stack.start()
    added = stack.cli("users", "add", ADMIN, "--role", "admin", "--password", ADMIN_PASSWORD)
    assert added.returncode == 0, added.stderr
    yield stack
    stack.stop()


@pytest.fixture
async def stack(running_stack):
    await running_stack.login()
    return running_stack
