"""The fast path for hot statements on SQLite: compiled by SQLAlchemy, run straight on the
sqlite3 connection. (Nothing is prepared here: sqlite3 keeps its own statement cache.)

Why: filing and dispatching a ticket runs about nine statements in the writer thread, and
SQLAlchemy's execution machinery (context, events, result objects) costs 20-55 µs around
each of them, several times what SQLite itself spends: loading a ticket took 70 µs through
`Connection.execute` and 13 µs on the sqlite3 cursor (measured on this machine). That
machinery was most of what kept the service from filing 1,000 tickets a second.

Nothing about the statement changes: SQLAlchemy compiles it (once per set of parameter
names), its parameters go through the same bind processors and its rows through the same
result processors as `Connection.execute` would use, so the models stay the one description
of the types. Only a pysqlite connection takes this path; PostgreSQL and aiosqlite
connections run the statement through `Connection.execute` as before. Statements that need
SQLAlchemy's Python-side column defaults are refused here: give every value explicitly.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]


class _Compiled:
    """A statement's SQL with what it takes to bind parameters and read rows, arranged so
    that the per-call work is C-speed lookups plus only the type processors that exist."""

    def __init__(self, sql: SQLCompiler, given: tuple[str, ...], selected: Sequence[Any],
                 dialect: Dialect) -> None:
        self.sql = sql.string
        names = list(sql.positiontup or ())
        self._given = [n for n in names if n in given]
        self._get = itemgetter(*self._given) if self._given else None
        self._literals: list[tuple[int, Any]] = []  # values written in the statement itself
        self._binds: list[tuple[int, Processor]] = []
        for i, name in enumerate(names):
            bind = sql.binds[name]
            if name not in given:
                if bind.required:
                    raise KeyError(f"a value is required for bind parameter {name!r}")
                self._literals.append((i, bind.effective_value))
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self._binds.append((i, process))
        self.columns = tuple(column.name for column in selected)
        self._results = [(i, process) for i, column in enumerate(selected)
                         if (process := column.type.dialect_impl(dialect)
                             .result_processor(dialect, None)) is not None]

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        if self._get is None:
            out: list[Any] = []
        elif len(self._given) == 1:
            out = [self._get(values)]
        else:
            out = list(self._get(values))
        for i, literal in self._literals:  # ascending, so each lands at its place
            out.insert(i, literal)
        for i, process in self._binds:
            out[i] = process(out[i])
        return out

    def row(self, raw: Sequence[Any]) -> dict[str, Any]:
        values = list(raw)
        for i, process in self._results:
            values[i] = process(values[i])
        return dict(zip(self.columns, values, strict=True))


# Keyed by the statement's identity; the statement is kept with its compilation, so the id
# cannot be reused by another object. Hot statements are module constants, built once.
_cache: dict[tuple[int, tuple[str, ...]], tuple[Executable, _Compiled]] = {}


def _compile(statement: Executable, names: tuple[str, ...], dialect: Dialect) -> _Compiled:
    key = (id(statement), names)
    cached = _cache.get(key)
    if cached is not None:
        return cached[1]
    sql = statement.compile(dialect=dialect, column_keys=list(names))
    assert isinstance(sql, SQLCompiler)
    if sql.insert_prefetch or sql.update_prefetch:
        raise ValueError("statement needs SQLAlchemy's column defaults: "
                         f"give {[c.key for c in sql.insert_prefetch + sql.update_prefetch]}")
    # A SELECT's columns, or the RETURNING columns of an INSERT, UPDATE or DELETE.
    selected = list(getattr(statement, "exported_columns", ()))
    compiled = _Compiled(sql, names, selected, dialect)
    _cache[key] = (statement, compiled)
    return compiled


def _sqlite(conn: Connection) -> sqlite3.Connection | None:
    raw = conn.connection.dbapi_connection
    return raw if isinstance(raw, sqlite3.Connection) else None


def fetch_all(conn: Connection, statement: Executable,
              params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The statement's rows as dicts of column name to value."""
    raw = _sqlite(conn)
    if raw is None:
        return [dict(row) for row in conn.execute(statement, dict(params)).mappings()]
    compiled = _compile(statement, tuple(params), conn.dialect)
    return [compiled.row(row) for row in raw.execute(compiled.sql,
                                                      compiled.parameters(params))]


def fetch_first(conn: Connection, statement: Executable,
                params: Mapping[str, Any]) -> dict[str, Any] | None:
    rows = fetch_all(conn, statement, params)
    return rows[0] if rows else None


def execute(conn: Connection, statement: Executable, params: Mapping[str, Any]) -> None:
    """Execute a statement that returns no rows."""
    raw = _sqlite(conn)
    if raw is None:
        conn.execute(statement, dict(params))
        return
    compiled = _compile(statement, tuple(params), conn.dialect)
    raw.execute(compiled.sql, compiled.parameters(params))


def execute_many(conn: Connection, statement: Executable,
             rows: Iterable[Mapping[str, Any]]) -> None:
    """Execute one statement for many rows, all with the same keys (executemany)."""
    rows = list(rows)
    if not rows:
        return
    raw = _sqlite(conn)
    if raw is None:
        conn.execute(statement, [dict(row) for row in rows])
        return
    compiled = _compile(statement, tuple(rows[0]), conn.dialect)
    raw.executemany(compiled.sql, [compiled.parameters(row) for row in rows])
