"""How the service's log lines look (HOTLINE_LOG_FORMAT=text|json) and which call each is about.

The call a piece of work is for is kept in a context variable, set where that work starts:
the AGI route of a call (ivr/telephony/agi_server.py), the AMI events of a call
(ivr/telephony/ami_events.py), a live audio stream (ivr/speech/service.py), a web request
about one call (ivr/web/app.py). asyncio copies the context into every task and timer
started from there, so the lines logged by whatever that work calls or spawns carry the call
id without passing it along. A filter on the handler copies it onto each record.

At the bottom of the layers (it imports nothing of the service), because the protocol
adapters must set it and may not import a feature slice.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(call)s: %(message)s"

_CALL_ID: ContextVar[str | None] = ContextVar("hotline_call_id", default=None)


def current_call() -> str | None:
    """The call the running work is for, if any."""
    return _CALL_ID.get()


def bind_call(call_id: str) -> None:
    """The rest of the current task is about this call: for a task that serves one call
    and nothing else (an AGI connection, an audio stream's connection)."""
    _CALL_ID.set(call_id or None)


@contextmanager
def call_context(call_id: str | None) -> Iterator[None]:
    """The lines logged inside the block (and by tasks started in it) are about this call;
    for work that goes on to other calls afterwards (an event worker, a web connection)."""
    token = _CALL_ID.set(call_id or None)
    try:
        yield
    finally:
        _CALL_ID.reset(token)


class CallIdFilter(logging.Filter):
    """Puts `call_id` on every record (None when the work is about no call)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.call_id = _CALL_ID.get()
        return True


class TextFormatter(logging.Formatter):
    """Today's text lines, with `[call ID]` after the logger's name when there is one."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        call_id = getattr(record, "call_id", None)
        record.call = f" [call {call_id}]" if call_id else ""
        return super().format(record)


class JsonLineFormatter(JsonFormatter):
    """One JSON object a line: time (ISO 8601, UTC), level, logger, message, call_id when
    the line is about a call, exception (the traceback) when one was logged. Chinese text
    stays readable (no \\u escapes)."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
            timestamp="time", json_ensure_ascii=False)

    def add_fields(self, log_data: dict[str, object], record: logging.LogRecord,
                   message_dict: dict[str, object]) -> None:
        super().add_fields(log_data, record, message_dict)
        # In the order a reader scans a line; a line about no call has no call_id (the
        # library writes every attribute the filter set, None too).
        fields = dict(log_data)
        log_data.clear()
        for key in ("time", "level", "logger", "message", "call_id"):
            if fields.get(key) is not None:
                log_data[key] = fields[key]
            fields.pop(key, None)
        log_data.update(fields)  # the exception; anything a caller passed as extra=


def formatter_for(log_format: LogFormat) -> logging.Formatter:
    return JsonLineFormatter() if log_format == "json" else TextFormatter()


def setup_logging(level: str, log_format: LogFormat) -> None:
    """The service's one handler, on stderr (`hotline up` sends it to
    $HOTLINE_HOME/log/hotline.log)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CallIdFilter())
    handler.setFormatter(formatter_for(log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
