"""Bounds on what one SQL statement from a visitor may cost, set on every connection Datasette opens.

Datasette's `sql_time_limit_ms` interrupts a query from SQLite's progress
handler, which runs between virtual-machine steps; a single step can still run
for seconds and allocate gigabytes (`printf('%.*c', 1000000000, 'x')` builds a
1 GB string inside one call; a recursive CTE doubling a string reaches
gigabytes in thirty rows). SQLite's own per-connection limits stop both at
once with "string or blob too big": no value may exceed MAX_VALUE_BYTES, far
above anything the KB holds (its longest value, a document's text, is tens of
kilobytes). docs/datasette.md lists every limit.
"""

from __future__ import annotations

import sqlite3

MAX_VALUE_BYTES = 5 * 1024 * 1024
MAX_SQL_CHARS = 100_000
MAX_EXPR_DEPTH = 200
MAX_COMPOUND_SELECTS = 50
MAX_LIKE_PATTERN = 1_000

LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: MAX_VALUE_BYTES,
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: MAX_SQL_CHARS,
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: MAX_EXPR_DEPTH,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: MAX_COMPOUND_SELECTS,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: MAX_LIKE_PATTERN,
}


# Functions whose cost is set by an argument and runs inside one VM step, out of
# the time limit's reach: printf/format pad to any width (a 1 GB width takes
# ~2 s even when the length limit then refuses the result), zeroblob/randomblob
# allocate any size. None is needed to read evidence; `round()` and `||` format.
REFUSED_FUNCTIONS = frozenset({"printf", "format", "zeroblob", "randomblob"})


def _authorizer(action, arg1, arg2, db_name, trigger):
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def bound(conn: sqlite3.Connection) -> None:
    for category, limit in LIMITS.items():
        conn.setlimit(category, limit)
    conn.set_authorizer(_authorizer)
