"""The `embeddings` table: one row per (claim, model), vector as a float32 BLOB.

The BLOB is little-endian float32, the format llm and datasette-embeddings use,
so other tools can read the vectors without this package.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable

import numpy as np

# Not "embeddings": that is the table llm (and datasette-embeddings) create, with another schema.
TABLE = "claim_embeddings"

CREATE_SQL = f"""
create table if not exists {TABLE} (
    claim_id text not null references claims(id),
    model text not null,
    content_hash text not null,
    embedding blob not null,
    primary key (claim_id, model)
)
"""


# Covers index_order (and the ivfpq load's rowids): without it, reading the index's claim ids in order visits
# every row of the table and its 1.5 KB vector (1M claims: 3.4 s warm, 19 s from disk); with it, the index alone.
ORDER_INDEX_SQL = f"create index if not exists idx_{TABLE}_order on {TABLE} (model, claim_id, content_hash)"


def encode_vector(vector) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def decode_vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def decode_matrix(blobs: list[bytes], dimension: int) -> np.ndarray:
    """Many BLOBs to one (n, dimension) float32 matrix without a Python loop per element."""
    if not blobs:
        return np.zeros((0, dimension), dtype=np.float32)
    matrix = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), -1)
    return matrix.astype(np.float32, copy=False)


def ensure_table(conn: sqlite3.Connection) -> None:
    conn.execute(CREATE_SQL)


def ensure_order_index(conn: sqlite3.Connection) -> None:
    """Index the table for index_order; made after the rows are written (a bulk insert is faster without it)."""
    conn.execute(ORDER_INDEX_SQL)


def table_exists(conn: sqlite3.Connection, schema: str = "main") -> bool:
    return (
        conn.execute(f"select 1 from {schema}.sqlite_master where type = 'table' and name = ?", [TABLE]).fetchone()
        is not None
    )


def write_rows(conn: sqlite3.Connection, rows: Iterable[tuple[str, str, str, bytes]]) -> None:
    """rows: (claim_id, model, content_hash, blob)."""
    conn.executemany(
        f"insert or replace into {TABLE} (claim_id, model, content_hash, embedding) values (?, ?, ?, ?)", rows
    )


def collection_hash(pairs: Iterable[tuple[str, str]]) -> str:
    """One hash for a whole collection: (claim_id, content_hash) pairs in index order."""
    h = hashlib.sha256()
    for claim_id, digest in pairs:
        h.update(f"{claim_id}\t{digest}\n".encode())
    return h.hexdigest()


def models_present(conn: sqlite3.Connection) -> dict[str, int]:
    if not table_exists(conn):
        return {}
    return dict(conn.execute(f"select model, count(*) from {TABLE} group by model").fetchall())


INDEX_ORDER_SQL = f"select claim_id, content_hash from {TABLE} where model = ? order by claim_id"


def index_order(conn: sqlite3.Connection, model: str) -> list[tuple[str, str]]:
    """(claim_id, content_hash) in the order the FAISS index holds the vectors."""
    return conn.execute(INDEX_ORDER_SQL, [model]).fetchall()


def read_matrix(conn: sqlite3.Connection, model: str) -> tuple[list[tuple[str, str]], np.ndarray]:
    rows = conn.execute(
        f"select claim_id, content_hash, embedding from {TABLE} where model = ? order by claim_id", [model]
    ).fetchall()
    if not rows:
        return [], np.zeros((0, 0), dtype=np.float32)
    dimension = len(rows[0][2]) // 4
    return [(r[0], r[1]) for r in rows], decode_matrix([r[2] for r in rows], dimension)
