"""The ticket service as the tests build it: Mengcheng's rules, the built-in calendar."""

from collections.abc import Callable
from datetime import datetime

from store.db import Database, utcnow
from store.transactions import Writers, writers_for
from tickets.calendar import WorkCalendar
from tickets.rules import rules_for
from tickets.service import TicketService
from tickets.writes import TicketWrites


def ticket_service(db: Database, *, clock: Callable[[], datetime] = utcnow,
                   as_the_hotline_runs: bool = False) -> TicketService:
    """Its writes on db's own writer; as_the_hotline_runs: placed by the app's wiring
    (store.transactions.writers_for: on an SQLite file, in a writer process once the
    service has started)."""
    writes = TicketWrites(rules_for("mengcheng"), WorkCalendar())
    writers = writers_for(db, writes) if as_the_hotline_runs else Writers(db.writer, writes)
    return TicketService(db, writers, clock=clock)
