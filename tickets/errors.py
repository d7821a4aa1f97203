"""Errors of the ticket domain, each with the HTTP status it answers (`http_status`, read by
the web app's one error mapping; nothing here knows HTTP otherwise).

TicketError
├── InvalidField      the request is malformed; names the field         (422)
├── StepRefused       the rules forbid this step now, and say why       (409)
├── NotPermitted      this user may not do this                         (403)
├── TicketNotFound    no such ticket, or not one this user may see      (404)
└── NoSuchItem        no such outbox message, report or other item      (404)
"""


from typing import Any


class TicketError(Exception):
    pass


class InvalidField(TicketError):
    http_status = 422

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name

    def __reduce__(self) -> tuple[Any, ...]:
        # The field travels too: errors come back pickled from the writer process.
        return InvalidField, (self.field, str(self)), self.__dict__


class StepRefused(TicketError):
    http_status = 409


class NotPermitted(TicketError):
    http_status = 403


class TicketNotFound(TicketError):
    http_status = 404


class NoSuchItem(TicketError):
    http_status = 404
