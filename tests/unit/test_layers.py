"""`make lint` refuses an import that breaks a layer: the contracts are checked against a
copy of the tree with one bad import added."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("ivr", "tickets", "store", "http_kit", "recognizer", "agi_scripts")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml")],
                          cwd=tree, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    copy = tmp_path_factory.mktemp("house")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, copy / package,
                        ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / "pyproject.toml", copy)
    return copy


def test_the_tree_as_it_is_keeps_every_contract(tree):
    result = lint(tree)
    assert result.returncode == 0, result.stdout[-2000:]


@pytest.mark.parametrize(("module", "bad_import", "contract"), [
    ("tickets/rules.py", "import ivr.calls.call_log", "knows nothing of telephony"),
    ("ivr/calls/facts.py", "import ivr.seats.service", "The service's layers"),
    ("ivr/seats/service.py", "import ivr.schedule.staffing", "The service's layers"),
    ("store/files.py", "import tickets.models", "The database layer"),
    ("ivr/live_view/service.py", "import ivr.seats.http", "registered by the composition"),
])
def test_an_import_across_a_layer_fails_the_lint(tree, module, bad_import, contract):
    path = tree / module
    original = path.read_text()
    path.write_text(original + f"\n{bad_import}  # noqa\n")
    try:
        result = lint(tree)
    finally:
        path.write_text(original)
    assert result.returncode != 0
    assert contract in result.stdout and "BROKEN" in result.stdout, result.stdout[-2000:]
