"""Which attached database is the Evidence KB, decided once per Datasette instance.

Datasette names a database after its file (build/kb.db -> "kb"), so nothing
here assumes the name: the KB is the database named in the plugin
configuration, else the first one holding the KB's core tables.
"""

from __future__ import annotations

import sqlite3
import uuid
import weakref
from dataclasses import dataclass, field

from .rebuilds import Watch

PLUGIN_NAME = "evidence-kb"
# Static files are mounted under the distribution name; Datasette also mounts
# the underscore spelling, which is valid whichever way pip normalises it.
STATIC_NAME = "evidence_kb"
CORE_TABLES = ("claims", "sources", "claim_sources", "topics")


@dataclass
class KBState:
    """Per-instance facts the hooks share, found at startup."""

    database: str | None = None
    # Where the plugin's pages live (links.pages_prefix).
    prefix: str | None = None
    # The loader answering the KB's database-specific template names (templates.py), filled at startup.
    templates: object | None = None
    # Why semantic search is unavailable (no embeddings, no index, no model), if it is.
    semantic_unavailable: str | None = None
    topics: list[dict] = field(default_factory=list)
    # For render_cell: which values in views and query results are claim ids or source keys.
    claim_ids: frozenset = frozenset()
    source_keys: frozenset = frozenset()
    views: frozenset = frozenset()
    # The served file's identity at startup: a rebuild under the server is refused, never mixed.
    watch: Watch = field(default_factory=Watch)
    # Names this instance in process-wide caches; id() could be reused by a later instance.
    cache_scope: str = field(default_factory=lambda: uuid.uuid4().hex)


_STATES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def state(datasette) -> KBState:
    found = _STATES.get(datasette)
    if found is None:
        found = _STATES[datasette] = KBState()
    return found


def is_kb_connection(conn: sqlite3.Connection) -> bool:
    marks = ",".join("?" * len(CORE_TABLES))
    row = conn.execute(
        f"select count(*) from sqlite_master where type = 'table' and name in ({marks})", CORE_TABLES
    ).fetchone()
    return row[0] == len(CORE_TABLES)


async def find_kb_database(datasette) -> str | None:
    configured = (datasette.plugin_config(PLUGIN_NAME) or {}).get("database")
    if configured:
        return configured if configured in datasette.databases else None
    for name, db in datasette.databases.items():
        if name == "_internal" or db.is_memory:
            continue
        if await db.execute_fn(is_kb_connection):
            return name
    return None


def kb_database(datasette):
    """The KB's Database object, or None when no KB is attached."""
    name = state(datasette).database
    return datasette.databases.get(name) if name else None


def is_kb(datasette, database: str | None) -> bool:
    return database is not None and database == state(datasette).database


def link_targets(conn: sqlite3.Connection) -> tuple[frozenset, frozenset, frozenset]:
    """Every claim id and source key, and the view names: looked up once, the KB is immutable."""
    claims = frozenset(r[0] for r in conn.execute("select id from claims"))
    sources = frozenset(r[0] for r in conn.execute("select key from sources"))
    views = frozenset(r[0] for r in conn.execute("select name from sqlite_master where type = 'view'"))
    return claims, sources, views
