"""search(): validate the query, run keyword and/or vector retrieval, fuse, load results."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import unicodedata
from contextlib import contextmanager
from pathlib import Path

from ingest.db import connect
from ingest.vocabulary import KINDS, STUDY_DESIGNS

from .errors import DatabaseNotFound, InvalidQuery, NoEmbeddings, SearchError
from .fusion import RRF_K, fused_weights, reciprocal_rank_fusion
from .keyword import analyse, keyword_search
from .match import capped, grade, unknown_words, unknown_words_notice, word_overlaps
from .paths import resolved_path
from .results import Results, load_results

MODES = ("hybrid", "semantic", "keyword")
# Longer queries are cut (at a word boundary) with a notice: the model reads
# at most 256 word pieces anyway, and FTS5 gains nothing from a page of text.
MAX_QUERY_CHARS = 500
MAX_K = 1000
# How deep each retriever looks before fusion: ranks beyond this add < 1% to an RRF score.
CANDIDATES = 100
FILTERS = ("topic", "kind", "study_design", "has_effect", "year_min", "year_max")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_query(query) -> tuple[str, list[str]]:
    """The query to search for and any notices; raises InvalidQuery for nothing to search."""
    if query is None:
        raise InvalidQuery("the query is empty; type some words to search for")
    if not isinstance(query, str):
        raise InvalidQuery(f"the query must be text, not {type(query).__name__}")
    # Lone surrogates (undecodable bytes on a command line) cannot be encoded for SQLite.
    query = query.encode("utf-8", "replace").decode("utf-8")
    query = _CONTROL.sub(" ", unicodedata.normalize("NFC", query))
    query = " ".join(query.split())
    if not query:
        raise InvalidQuery("the query is empty; type some words to search for")
    notices = []
    if len(query) > MAX_QUERY_CHARS:
        cut = query[:MAX_QUERY_CHARS]
        cut = cut.rsplit(" ", 1)[0] if " " in cut else cut
        notices.append(f"query truncated to its first {len(cut)} of {len(query)} characters")
        query = cut
    return query, notices


def _as_list(value) -> list:
    if value is None or value == () or value == []:
        return []
    return [value] if isinstance(value, (str, int)) else list(value)


def filter_sql(conn: sqlite3.Connection, filters: dict) -> tuple[str, list] | None:
    """A SQL condition on `claims` for the filters, validated; None when there are none."""
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise InvalidQuery(f"unknown filter {', '.join(sorted(unknown))}; filters are {', '.join(FILTERS)}")
    clauses, params = [], []
    topics = _as_list(filters.get("topic"))
    if topics:
        known = {r[0] for r in conn.execute("select id from topics")}
        bad = [t for t in topics if t not in known]
        if bad:
            raise InvalidQuery(f"unknown topic {', '.join(map(repr, bad))}; known topics: {', '.join(sorted(known))}")
        clauses.append(
            f"claims.id in (select claim_id from claim_topics where topic_id in ({','.join('?' * len(topics))}))"
        )
        params += topics
    for name, column, allowed in (("kind", "kind", KINDS), ("study_design", "study_design", STUDY_DESIGNS)):
        values = _as_list(filters.get(name))
        if not values:
            continue
        bad = [v for v in values if v not in allowed]
        if bad:
            raise InvalidQuery(
                f"unknown {name.replace('_', ' ')} {', '.join(map(repr, bad))}; use one of {', '.join(allowed)}"
            )
        clauses.append(f"claims.{column} in ({','.join('?' * len(values))})")
        params += values
    has_effect = filters.get("has_effect")
    if has_effect is not None:
        clauses.append("claims.effect_metric is " + ("not null" if has_effect else "null"))
    for name, op in (("year_min", ">="), ("year_max", "<=")):
        value = filters.get(name)
        if value is None:
            continue
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise InvalidQuery(f"{name} must be a year, not {value!r}") from None
        clauses.append(f"claims.year {op} ?")
        params.append(value)
    if not clauses:
        return None
    return " and ".join(clauses), params


_local = threading.local()


@contextmanager
def _connect(db):
    """A connection for db: a path (opened read-only), a sqlite3.Connection or a sqlite-utils Database.

    Read-only connections to a path are kept per thread and reopened when the
    file changes (kb build replaces it), so repeated searches skip opening the
    database and parsing its schema.
    """
    if isinstance(db, sqlite3.Connection):
        yield db, _path_of(db)
        return
    if hasattr(db, "conn") and isinstance(db.conn, sqlite3.Connection):
        yield db.conn, _path_of(db.conn)
        return
    path = Path(os.fspath(db))
    try:
        st = path.stat()
    except OSError:
        st = None
    if st is None or not path.is_file():
        raise DatabaseNotFound(f"database {path} not found; run `kb build --db {path}` first")
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    cache = _local.__dict__.setdefault("connections", {})
    key = resolved_path(path)
    cached = cache.get(key)
    if cached and cached[0] == stamp:
        yield cached[1], path
        return
    if cached:
        cached[1].close()
    # Autocommit: a cached connection must never sit in a transaction holding a read lock.
    conn = connect(path, check_same_thread=False)
    cache[key] = (stamp, conn)
    yield conn, path


def _path_of(conn: sqlite3.Connection) -> Path | None:
    for _, name, file in conn.execute("pragma database_list"):
        if name == "main" and file:
            return Path(file)
    return None


def search(
    db,
    query: str,
    k: int = 10,
    mode: str = "hybrid",
    *,
    model: str | None = None,
    weights: dict | None = None,
    query_vector=None,
    **filters,
) -> Results:
    """Search the claims in db. Returns Results (a list of SearchResult, best first, plus .notices).

    Filters (each optional; a list means any of): topic, kind, study_design,
    has_effect (bool), year_min, year_max. Raises SearchError subclasses with
    a message fit to show a user. query_vector: the cleaned query already embedded
    by query_encoder(db) (a server batches concurrent queries); None embeds it here.
    """
    if mode not in MODES:
        raise InvalidQuery(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if isinstance(k, bool) or not isinstance(k, int):
        raise InvalidQuery(f"k must be a whole number, not {k!r}")
    if k < 1:
        raise InvalidQuery(f"k must be at least 1, not {k}")
    query, notices = clean_query(query)
    if k > MAX_K:
        notices.append(f"k capped at {MAX_K}")
        k = MAX_K
    with _connect(db) as (conn, path):
        try:
            _check_schema(conn, path)
            return _search(conn, path, query, k, mode, model, weights, filters, notices, query_vector)
        except sqlite3.DatabaseError as exc:
            raise SearchError(f"cannot search {path}: {exc}") from exc


def _check_schema(conn: sqlite3.Connection, path) -> None:
    names = {r[0] for r in conn.execute("select name from sqlite_master where name in ('claims', 'claims_fts')")}
    if names != {"claims", "claims_fts"}:
        raise SearchError(
            f"{path} is not an Evidence KB database (no claims or claims_fts table); build one with `kb build`"
        )


def _search(conn, path, query, k, mode, model, weights, filters, notices, query_vector=None) -> Results:
    depth = max(k, CANDIDATES)
    condition = filter_sql(conn, filters)
    ranked: dict[str, list[str]] = {}
    scores: dict[str, dict[str, float]] = {}
    pending = None
    # Analysed before the embedding starts: its short statements (one per word) each give up the GIL and must
    # win it back, which beside the encoder thread cost ~2 ms at p50 (1M claims); alone it takes ~0.2 ms.
    analysed = analyse(conn, query, always=mode == "keyword") if mode in ("hybrid", "keyword") else None
    # Hybrid with no keyword work (every word over its budget, or none searchable) is the vectors alone.
    fuses = mode == "hybrid" and analysed.expression is not None
    # Without keyword work to overlap, the query is embedded on this thread below: a hand-off to the
    # worker would only add its wake-up to the wait.
    if fuses and query_vector is None:
        # Embed the query on a worker thread while SQLite runs the keyword
        # search here: both release the GIL, so on 2 cores the keyword search
        # is nearly free (numpy BLAS and sqlite3_step run without the GIL).
        # The worker never touches the connection (it may be bound to this thread).
        index = _vector_index(conn, path, model)
        if index is not None:
            pending = (index, _executor().submit(_embed_query, index, query))
    if analysed is not None:
        hits = keyword_search(conn, analysed, depth, condition)
        ranked["keyword"] = [h[0] for h in hits]
        scores["keyword"] = dict(hits)
        if not hits and mode == "keyword" and not _has_terms(query):
            notices.append("the query has no searchable words for keyword search")
    if mode in ("hybrid", "semantic"):
        # Fusion needs the vectors' deeper ranks only beside a keyword ranking; alone, their top k is the answer
        # (the same k: HNSW explores efSearch >= 256 either way), and fetching 100 cost ~0.7 ms at 1M claims.
        hits = semantic_search(
            conn, path, query, depth if fuses else k, condition, model=model, pending=pending, vector=query_vector
        )
        ranked["semantic"] = [h[0] for h in hits]
        scores["semantic"] = dict(hits)
    if mode == "hybrid":
        weights = fused_weights(analysed.overlap if ranked["keyword"] else None, weights)
        scored = reciprocal_rank_fusion(ranked, weights, RRF_K, limit=k)
    else:
        scored = [(cid, scores[mode][cid], {mode: i}) for i, cid in enumerate(ranked[mode][:k], 1)]
    unknown = unknown_words(conn, query, analysed.frequencies if analysed else None) if scored else []
    if unknown:
        notices.append(unknown_words_notice(unknown))
    grades = _grades(conn, query, scored, scores.get("semantic"), unknown)
    return Results(load_results(conn, scored, grades), notices, unknown_words=unknown)


def _grades(conn, query: str, scored, similarities: dict | None, unknown=()) -> dict[str, tuple[str, float | None]]:
    """claim id -> (match grade, rounded cosine or None when the vector search did not score it)."""
    ids = [s[0] for s in scored]
    overlaps = word_overlaps(conn, query, ids)
    out = {}
    for cid in ids:
        similarity = (similarities or {}).get(cid)
        level = capped(grade(similarity, overlaps[cid]), unknown)
        out[cid] = (level, None if similarity is None else round(float(similarity), 4))
    return out


def _has_terms(query: str) -> bool:
    from .keyword import query_terms

    return bool(query_terms(query))


_pool = None


def _executor():
    global _pool
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor

        _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kb-embed")
    return _pool


def _vector_index(conn, path, model: str | None):
    from .index import load_index
    from .model import resolve_model

    if path is None:
        raise SearchError("semantic search needs a database file (an in-memory database has no index)")
    try:
        return load_index(conn, path, resolve_model(model).id if model else None)
    except NoEmbeddings:
        # A KB whose documents have no accepted claims yet has nothing to embed: no hits, not an error.
        if conn.execute("select 1 from claims limit 1").fetchone() is None:
            return None
        raise


def _embed_query(index, query: str):
    """The query's vector, with the model the index was built with. Touches no database."""
    from .model import ModelUnavailable

    try:
        return index.encoder().encode([query])[0]
    except ModelUnavailable as exc:
        raise SearchError(str(exc)) from exc


def semantic_search(
    conn, path, query: str, limit: int, condition=None, *, model: str | None = None, pending=None, vector=None
):
    """(claim_id, cosine) best first from the FAISS index beside path; vector: query already embedded."""
    if pending is not None:
        index, future = pending
        vector = future.result()
    else:
        index = _vector_index(conn, path, model)
        if index is None:
            return []
        if vector is None:
            vector = _embed_query(index, query)
        elif getattr(vector, "shape", None) != (int(index.fingerprint["dimension"]),):
            raise SearchError(
                f"query vector of shape {getattr(vector, 'shape', None)} for an index of dimension "
                f"{index.fingerprint['dimension']}"
            )
    allowed = None
    if condition is not None:
        where, params = condition
        allowed = {r[0] for r in conn.execute(f"select id from claims where {where}", params)}
        if not allowed:
            return []
    return index.query(vector, limit, allowed, conn)


def query_encoder(db, model: str | None = None):
    """The encoder search() embeds db's queries with (its index's model), or None when nothing is embedded.

    Raises IndexUnavailable (or SearchError) as search() would.
    """
    with _connect(db) as (conn, path):
        index = _vector_index(conn, path, model)
    return None if index is None else index.encoder()


def related(db, claim_id: str, k: int = 5) -> list[tuple[str, float]]:
    """(claim_id, cosine) of the claims nearest claim_id by embedding, best first.

    Raises IndexUnavailable (or SearchError) when the KB has no usable index.
    """
    from .embeddings import TABLE, decode_vector

    with _connect(db) as (conn, path):
        index = _vector_index(conn, path, None)
        if index is None:
            return []
        row = conn.execute(
            f"select embedding from {TABLE} where claim_id = ? and model = ?", [claim_id, index.model]
        ).fetchone()
        if row is None:
            return []
        hits = index.query(decode_vector(row[0]), k + 1, conn=conn)
    return [(cid, score) for cid, score in hits if cid != claim_id][:k]
