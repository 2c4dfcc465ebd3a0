"""Write the embeddings table and the FAISS index for a freshly built database.

`kb build` calls build_search_artifacts on its temporary database before the
atomic rename. Vectors are reused from the previous database whenever the
claim id, model and content hash all match, so a rebuild with nothing changed
never loads the model; the previous index file is reused too when its
fingerprint is identical (building HNSW over a large collection is slow).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

import numpy as np

from ingest.db import connect

from . import embeddings as emb
from .index import (
    build_index,
    choose_index_type,
    index_path_for,
    make_fingerprint,
    read_fingerprint,
    write_fingerprint,
    write_index,
)
from .keyword import write_term_counts
from .model import encode_for_index, resolve_model
from .onnx_encoder import UnsupportedModel, ensure_export, onnx_path_for, record_unsupported, weights_sha256
from .text import DEFAULT_RECIPE, EMBEDDED_COLUMNS, content_hash, embedding_text


def claim_texts(conn: sqlite3.Connection, recipe: str = DEFAULT_RECIPE) -> dict[str, str]:
    """claim id -> the text embedded for it (see search/text.py)."""
    labels = dict(conn.execute("select id, label from topics").fetchall())
    cursor = conn.execute(f"select {', '.join(EMBEDDED_COLUMNS)} from claims order by id")
    names = [d[0] for d in cursor.description]
    return {row[0]: embedding_text(dict(zip(names, row)), labels, recipe) for row in cursor}


def _previous_vectors(conn: sqlite3.Connection, previous_db, model: str, wanted: dict[str, str]) -> dict[str, bytes]:
    """Reusable BLOBs: from this database (a re-run) and from the previous one, when id+model+hash match."""
    found: dict[str, bytes] = {}
    sources = ["main"]
    if previous_db and Path(previous_db).exists() and Path(previous_db).resolve() != _db_file(conn):
        try:
            conn.execute("attach database ? as previous", [f"file:{Path(previous_db)}?mode=ro"])
            conn.execute("select count(*) from previous.sqlite_master").fetchone()
            sources.append("previous")
        except sqlite3.DatabaseError:  # not a database any more: nothing to reuse, embed afresh
            if any(row[1] == "previous" for row in conn.execute("pragma database_list")):
                conn.execute("detach database previous")
    try:
        for schema in sources:
            if not emb.table_exists(conn, schema):
                continue
            rows = conn.execute(
                f"select claim_id, content_hash, embedding from {schema}.{emb.TABLE} where model = ?", [model]
            )
            for claim_id, digest, blob in rows:
                if wanted.get(claim_id) == digest and claim_id not in found:
                    found[claim_id] = blob
    finally:
        if "previous" in sources:
            conn.execute("detach database previous")
    return found


def _db_file(conn: sqlite3.Connection) -> Path | None:
    path = conn.execute("pragma database_list").fetchone()[2]
    return Path(path).resolve() if path else None


def build_search_artifacts(
    db_path: str | os.PathLike,
    index_path: str | os.PathLike,
    *,
    previous_db: str | os.PathLike | None = None,
    model: str | None = None,
    progress: bool = True,
    index_type: str | None = None,
) -> dict:
    """Fill db_path's embeddings table, write index_path and index_path + '.json'.

    Also writes the ONNX query encoder (db_path + '.onnx', reused when its fingerprint
    matches) and the keyword side's per-word claim counts (keyword.write_term_counts).
    Returns what happened: model, claims, embedded, reused, index_type, dimension, query_encoder, seconds.
    """
    started = time.perf_counter()
    spec = resolve_model(model)
    conn = connect(db_path, read_only=False)
    try:
        texts = claim_texts(conn)
        hashes = {cid: content_hash(text) for cid, text in texts.items()}
        weights = _weights_sha256(spec.location)
        # Same model id but other weights (a re-packaged or fine-tuned model): no old vector is valid.
        reused = (
            {}
            if _weights_changed(conn, previous_db, weights)
            else _previous_vectors(conn, previous_db, spec.id, hashes)
        )
        todo = [cid for cid in texts if cid not in reused]
        vectors = {}
        if todo:
            matrix = encode_for_index(spec.location, [texts[c] for c in todo], progress=progress)
            vectors = {cid: emb.encode_vector(v) for cid, v in zip(todo, matrix)}
        with conn:
            emb.ensure_table(conn)
            # Only the current model's vectors for current claims: anything else is stale.
            conn.execute(f"delete from {emb.TABLE}")
            emb.write_rows(
                conn, ((cid, spec.id, hashes[cid], reused.get(cid) or vectors[cid]) for cid in sorted(texts))
            )
            emb.ensure_order_index(conn)
        pairs = emb.index_order(conn, spec.id)
        dimension = _stored_dimension(conn, spec.id) if pairs else _model_dimension(spec.location)
        kind = choose_index_type(len(pairs), index_type)
        fingerprint = make_fingerprint(spec.id, dimension, pairs, kind, weights_sha256=weights)
        if not _reuse_previous_index(previous_db, fingerprint, index_path):
            index = _index_from_database(conn, spec.id, len(pairs), dimension, kind, Path(index_path))
            write_index(index, fingerprint, index_path)
    finally:
        conn.close()
    encoder = _export_query_encoder(spec, int(dimension), db_path, previous_db)
    write_term_counts(db_path)
    return {
        "model": spec.id,
        "claims": len(pairs),
        "embedded": len(todo),
        "reused": len(pairs) - len(todo),
        "index_type": kind,
        "dimension": int(dimension),
        "query_encoder": encoder,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _stored_dimension(conn: sqlite3.Connection, model: str) -> int:
    row = conn.execute(f"select length(embedding) from {emb.TABLE} where model = ? limit 1", [model]).fetchone()
    return row[0] // 4


def _index_from_database(conn: sqlite3.Connection, model: str, count: int, dimension: int, kind: str, index_path: Path):
    """The index over the stored vectors in index order.

    ivfpq is for collections too big to hold twice in RAM (10M x 384 float32 is
    15 GB): the BLOBs are spilled to a float32 file beside the index and the index is
    built from it a chunk at a time. A killed build's spill file matches
    kb.build's leftover pattern (.kb.db.*.tmp*) and is removed by the next build.
    """
    if kind != "ivfpq" or count == 0:
        _, matrix = emb.read_matrix(conn, model)
        return build_index(matrix.reshape(count, dimension), kind)
    spill = Path(str(index_path) + ".vectors")
    try:
        matrix = np.memmap(spill, dtype="<f4", mode="w+", shape=(count, dimension))
        cursor = conn.execute(f"select embedding from {emb.TABLE} where model = ? order by claim_id", [model])
        row = 0
        while batch := cursor.fetchmany(65_536):
            matrix[row : row + len(batch)] = emb.decode_matrix([b[0] for b in batch], dimension)
            row += len(batch)
        matrix.flush()
        return build_index(matrix, kind)
    finally:
        spill.unlink(missing_ok=True)


def _weights_sha256(location: str) -> str | None:
    return weights_sha256(location) if Path(location).is_dir() else None


def _weights_changed(conn: sqlite3.Connection, previous_db, weights: str | None) -> bool:
    """True when an earlier index (this database's or the previous one's) records other weights for the model."""
    for db in (_db_file(conn), previous_db):
        if db and index_path_for(db).exists():
            recorded = (read_fingerprint(index_path_for(db)) or {}).get("weights_sha256")
            if recorded and weights and recorded != weights:
                return True
    return False


def _export_query_encoder(spec, dimension: int, db_path, previous_db) -> str:
    """Write <db>.onnx for search (see search/onnx_encoder.py); returns how it was obtained."""
    target = onnx_path_for(db_path)
    if not Path(spec.location).is_dir():
        record_unsupported(target, spec.id, "the model is not a local directory; queries use sentence-transformers")
        return "sentence-transformers"
    try:
        return ensure_export(spec.id, spec.location, dimension, target, previous=previous_db)
    except UnsupportedModel as exc:
        record_unsupported(target, spec.id, f"{exc}; queries use sentence-transformers")
        return "sentence-transformers"


def _model_dimension(location: str) -> int:
    from .model import embedding_dimension, load_sentence_transformer

    return embedding_dimension(load_sentence_transformer(location))


def _reuse_previous_index(previous_db, fingerprint: dict, index_path) -> bool:
    """Copy the previous database's index when its fingerprint is identical to the one we would write."""
    if not previous_db:
        return False
    old_index = index_path_for(previous_db)
    if not old_index.exists() or read_fingerprint(old_index) != fingerprint:
        return False
    if old_index.resolve() != Path(index_path).resolve():  # a re-run over the same files: already in place
        shutil.copyfile(old_index, index_path)
    write_fingerprint(fingerprint, index_path)
    return True
