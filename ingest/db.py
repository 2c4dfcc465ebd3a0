"""The one way to open a knowledge-base database, for every layer.

Modelled on sqlite-utils' `Database(filename_or_conn)`: callers hand over
whatever they hold — a path, a `sqlite3.Connection` (Datasette's read
connections) or a `sqlite_utils.Database` — and get a `sqlite_utils.Database`.
A path is opened read-only unless the caller writes: a reader can then never
change the built file, and a missing file is an error rather than a new empty
database. `immutable=True` (for the served, never-changing file) also tells
SQLite to skip locking.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils


class DatabaseNotFound(FileNotFoundError):
    """No database file at the path; the message says how to make one."""


def database_uri(path: str | os.PathLike, *, read_only: bool = True, immutable: bool = False) -> str:
    # as_uri() percent-encodes "?", "#" and spaces, which a bare "file:" + path would misread.
    uri = Path(path).resolve().as_uri()
    params = (["mode=ro"] if read_only else []) + (["immutable=1"] if immutable else [])
    return uri + ("?" + "&".join(params) if params else "")


def connect(
    path: str | os.PathLike, *, read_only: bool = True, immutable: bool = False, check_same_thread: bool = True
) -> sqlite3.Connection:
    """A raw sqlite3 connection to path (read-only by default); raises DatabaseNotFound."""
    path = Path(os.fspath(path))
    if read_only and not path.is_file():
        raise DatabaseNotFound(f"database {path} not found; run `kb build --db {path}` first")
    # Read-only connections are autocommit: a cached one must never sit in a transaction holding a read lock.
    return sqlite3.connect(
        database_uri(path, read_only=read_only, immutable=immutable),
        uri=True,
        check_same_thread=check_same_thread,
        isolation_level=None if read_only else "",
    )


def open_database(db, *, read_only: bool = True, immutable: bool = False) -> sqlite_utils.Database:
    """A sqlite_utils.Database for a path, a sqlite3.Connection or a Database (returned as it is)."""
    import sqlite_utils

    if isinstance(db, sqlite_utils.Database):
        return db
    if isinstance(db, sqlite3.Connection):
        return sqlite_utils.Database(db, execute_plugins=False)
    conn = connect(db, read_only=read_only, immutable=immutable)
    return sqlite_utils.Database(conn, execute_plugins=False)


# SQLite's header byte 18 is the "file format write version": 1 (rollback
# journal) or 2 (WAL). Any larger value tells every SQLite library to open the
# file read-only, whoever the user is (root included, which file permissions
# do not stop). A built KB is never written after its build, so sealing it
# keeps other tools (llm, sqlite-utils, a stray `datasette --create`) from
# adding tables to it: they get "attempt to write a readonly database".
WRITE_VERSION_OFFSET = 18
SEALED_WRITE_VERSION = 3


def seal(path: str | os.PathLike) -> None:
    """Mark a finished database read-only for every SQLite client (see above)."""
    with open(path, "r+b") as handle:
        handle.seek(WRITE_VERSION_OFFSET)
        handle.write(bytes([SEALED_WRITE_VERSION]))


def unseal(path: str | os.PathLike) -> None:
    """Make a sealed copy writable again (rollback-journal format), e.g. to edit a copy in a test."""
    with open(path, "r+b") as handle:
        handle.seek(WRITE_VERSION_OFFSET)
        handle.write(bytes([1]))


def is_sealed(path: str | os.PathLike) -> bool:
    with open(path, "rb") as handle:
        handle.seek(WRITE_VERSION_OFFSET)
        return handle.read(1) == bytes([SEALED_WRITE_VERSION])
