"""Errors say their own HTTP status: a class attribute `http_status` (and, for errors that
name a request field, an attribute `field`). The web app answers every error by that one
mapping, so no module lists other modules' exceptions.

Classes that raise through the API declare it where they are defined, e.g.
tickets.errors.StepRefused (409), store.writer_process.WriterUnavailable (503),
ivr.errors.AmiError (503). Here: the errors of the HTTP layer itself.
"""

from __future__ import annotations

from typing import Any


class RequestInvalid(Exception):
    """A request the API refuses: names the field and why (422, or 400 for broken JSON)."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.http_status = status


class Missing(Exception):
    """What the request names is not there (404)."""

    http_status = 404


class Forbidden(Exception):
    """The logged-in user's role may not do this (403)."""

    http_status = 403


def http_answer(exc: BaseException) -> tuple[int, str, str | None] | None:
    """(status, message, field) for an error that declares its status, else None."""
    status: Any = getattr(exc, "http_status", None)
    if not isinstance(status, int):
        return None
    prefix = getattr(exc, "http_prefix", "")
    field = getattr(exc, "field", None)
    return status, f"{prefix}{exc}", field if isinstance(field, str) else None
