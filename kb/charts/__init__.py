"""Charts of the KB: the evidence map, the effect plots and the claim graphs.

One package serves the Datasette pages (inline SVG) and files for reports
(`render_map`, `render_effects`; .svg or .png by extension). Each chart is
drawn from one SQL statement in `queries`; `axes` says how claims are placed;
`slides` draws the map and the effect charts of an exported deck from its claim rows.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from ingest.db import connect

from . import axes, queries, specs
from .queries import ChartError, MapFilters
from .render import to_png, to_svg, write

__all__ = [
    "ChartError",
    "MapFilters",
    "axes",
    "map_spec",
    "effects_spec",
    "queries",
    "render_effects",
    "render_map",
    "specs",
    "to_png",
    "to_svg",
]


@contextmanager
def _connection(db):
    """An open connection as given, or a read-only one on a database file."""
    if isinstance(db, sqlite3.Connection):
        yield db
        return
    path = Path(db)
    if not path.is_file():
        raise ChartError(f"{path}: no such database (build one with `kb build`)")
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()


def map_spec(conn: sqlite3.Connection, filters: MapFilters | None = None, cell_url=None) -> dict:
    rows, cols = queries.map_axes(conn)
    return specs.evidence_map(queries.map_counts(conn, filters), rows, cols, queries.topic_labels(conn), cell_url)


def effects_spec(conn: sqlite3.Connection, claim_url=None) -> dict:
    return specs.effect_direction(queries.effect_rows(conn), claim_url)


def render_map(db: str | os.PathLike | sqlite3.Connection, path: str | os.PathLike, **filters: str) -> Path:
    """Write the evidence map to path (.svg or .png).

    filters: kind, study_design, document (a document id), year_min, year_max, topic; blank or absent = any.
    Raises ChartError for an unknown filter, a bad year, a missing database or an unsupported extension.
    """
    unknown = set(filters) - set(queries.MAP_FILTERS)
    if unknown:
        raise ChartError(
            f"unknown map filter(s): {', '.join(sorted(unknown))} (known: {', '.join(queries.MAP_FILTERS)})"
        )
    chosen = MapFilters.from_mapping({k: "" if v is None else str(v) for k, v in filters.items()})
    with _connection(db) as conn:
        return write(map_spec(conn, chosen), path)


def render_effects(db: str | os.PathLike | sqlite3.Connection, path: str | os.PathLike) -> Path:
    """Write the effect-direction plot of every claim with an effect to path (.svg or .png)."""
    with _connection(db) as conn:
        return write(effects_spec(conn), path)
