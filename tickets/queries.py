"""The ticket store's statements, in SQLAlchemy Core, each a function of one connection.

Filing and dispatching are the hot path (a busy hotline files a ticket for most calls), and
the ORM's unit of work cost about ten times the SQL itself here. So the writes use statements
built once, at import, with bound parameters, and on SQLite they run straight on the writer's
connection (store/sqlite_fast_path.py). A ticket travels through the service as a plain dict
of its columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, distinct, func, insert, select

from store.db import dialect_insert
from store.group_commit import insert_at_commit
from store.sqlite_fast_path import execute, execute_many, fetch_all, fetch_first
from tickets.models import OutboxMessage, Ticket, TicketEvent, TicketSequence, TicketUnit, Unit

TICKETS = Ticket.__table__
TICKET_COLUMNS = tuple(c.name for c in TICKETS.columns)
SEQUENCES = TicketSequence.__table__
UNITS = Unit.__table__
TICKET_UNITS = TicketUnit.__table__

# Both counts in one pass over the matter's index range (see migration 0006).
_FILINGS_IN_WINDOW = select(
    func.count().filter(TICKETS.c.phone == bindparam("phone")).label("earlier"),
    func.count(distinct(TICKETS.c.phone)).filter(TICKETS.c.phone != bindparam("phone"))
    .label("others"),
).where(TICKETS.c.matter_key == bindparam("key"), TICKETS.c.created_at >= bindparam("since"))
_INSERT_TICKET = insert(TICKETS)
_SAVE_TICKET = TICKETS.update().where(TICKETS.c.id == bindparam("ticket_id"))
_LOAD = select(TICKETS).where(TICKETS.c.id == bindparam("ticket_id"))
_LOAD_FOR_UPDATE = _LOAD.with_for_update()  # PostgreSQL: one writer per ticket at a time
_ASSIGNED = select(TICKET_UNITS.c.role).where(
    TICKET_UNITS.c.ticket_id == bindparam("ticket_id"), TICKET_UNITS.c.unit == bindparam("unit"))
_KNOWN_UNITS = select(UNITS.c.code).where(UNITS.c.code.in_(bindparam("codes", expanding=True)))
_CLEAR_UNITS = delete(TICKET_UNITS).where(TICKET_UNITS.c.ticket_id == bindparam("ticket_id"))
_ADD_UNITS = insert(TICKET_UNITS)
_AUDIT = insert(TicketEvent.__table__)
_OUTBOX = insert(OutboxMessage.__table__)
_BEHIND_CROWD = select(TICKETS).where(
    TICKETS.c.matter_key == bindparam("key"), TICKETS.c.created_at >= bindparam("since"),
    TICKETS.c.citizens_on_matter < bindparam("citizens"))


def _sequence_statement(dialect: str) -> Any:
    return (dialect_insert(dialect)(SEQUENCES).values(day=bindparam("day"), last=1)
            .on_conflict_do_update(index_elements=[SEQUENCES.c.day],
                                   set_={"last": SEQUENCES.c.last + 1})
            .returning(SEQUENCES.c.last))


_NEXT_SEQUENCE = {d: _sequence_statement(d) for d in ("sqlite", "postgresql")}


def filings_in_window(conn: Connection, phone: str, key: str,
                      since: datetime) -> tuple[int, int]:
    """(earlier tickets of this citizen on the matter, other citizens on the matter)."""
    row = fetch_first(conn, _FILINGS_IN_WINDOW, {"phone": phone, "key": key, "since": since})
    assert row is not None  # an aggregate always has its row
    return int(row["earlier"] or 0), int(row["others"] or 0)


def next_sequence(conn: Connection, day: str) -> int:
    row = fetch_first(conn, _NEXT_SEQUENCE[conn.dialect.name], {"day": day})
    assert row is not None  # the upsert always returns its row
    return int(row["last"])


def insert_ticket(conn: Connection, ticket: dict[str, Any]) -> None:
    """Insert with every column given (None for empty ones), so no column default of
    SQLAlchemy's is needed: the service fills in every default itself."""
    execute(conn, _INSERT_TICKET, {c: ticket[c] for c in TICKET_COLUMNS})


def load(conn: Connection, ticket_id: str, *, for_update: bool = False
         ) -> dict[str, Any] | None:
    return fetch_first(conn, _LOAD_FOR_UPDATE if for_update else _LOAD,
                       {"ticket_id": ticket_id})


def save(conn: Connection, ticket: dict[str, Any], columns: Iterable[str]) -> None:
    """Write back the given columns. Each set of columns is compiled once; a lifecycle
    step changes the same few columns every time."""
    execute(conn, _SAVE_TICKET, {"ticket_id": ticket["id"], **{c: ticket[c] for c in columns}})


def assigned(conn: Connection, ticket_id: str, unit: str | None) -> bool:
    return fetch_first(conn, _ASSIGNED, {"ticket_id": ticket_id, "unit": unit}) is not None


def known_units(conn: Connection, codes: Iterable[str]) -> set[str]:
    return set(conn.execute(_KNOWN_UNITS, {"codes": list(codes)}).scalars())


def assign_units(conn: Connection, ticket_id: str, lead: str | None,
                 co_units: Iterable[str], *, had_units: bool = True) -> None:
    """Replace the ticket's units; had_units=False skips clearing a first assignment."""
    if had_units:
        execute(conn, _CLEAR_UNITS, {"ticket_id": ticket_id})
    rows = [{"ticket_id": ticket_id, "unit": lead, "role": "lead"}] if lead else []
    rows += [{"ticket_id": ticket_id, "unit": code, "role": "co"} for code in co_units]
    execute_many(conn, _ADD_UNITS, rows)


def audit(conn: Connection, row: dict[str, Any]) -> None:
    insert_at_commit(conn, _AUDIT, row)


def enqueue(conn: Connection, row: dict[str, Any]) -> None:
    insert_at_commit(conn, _OUTBOX, row)


def behind_crowd(conn: Connection, key: str, since: datetime,
                 citizens: int) -> list[dict[str, Any]]:
    """Tickets on the matter filed before it reached `citizens` citizens."""
    return fetch_all(conn, _BEHIND_CROWD, {"key": key, "since": since, "citizens": citizens})


def put_unit(conn: Connection, unit: dict[str, Any]) -> None:
    """Add a unit, or update its name and numbers when it exists."""
    statement = dialect_insert(conn.dialect.name)(UNITS).values(**unit)
    conn.execute(statement.on_conflict_do_update(
        index_elements=[UNITS.c.code],
        set_={k: statement.excluded[k] for k in ("name", "phone", "duty_phone", "hours")}))
