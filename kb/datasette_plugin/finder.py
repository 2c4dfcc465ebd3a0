"""The one way the plugin searches: bounded parameters in, search.search() out, cached.

The search page, /-/search.json and the kb_search() SQL function all come
through here, so they validate the same way and return the same objects as
`kb search --json`.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import sys
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

import search
from search import IndexUnavailable, SearchError
from search.batching import QueryBatcher
from search.retrieve import MAX_QUERY_CHARS, clean_query, query_encoder

from .kbdb import kb_database, state
from .limits import (
    MAX_PAGE_K,
    MAX_VALUES_PER_PARAM,
    BadParameter,
    bounded_text,
    parse_k,
)

MODES = tuple(search.MODES)
# Filters search.search() understands that a URL may repeat (any of several values).
LIST_FILTERS = ("topic", "kind", "study_design")
YEAR_FILTERS = ("year_min", "year_max")


@dataclass(frozen=True)
class SearchRequest:
    query: str
    k: int = 10
    mode: str = "hybrid"
    # Sorted (name, value) pairs; values of list filters are tuples. Hashable: it is the cache key.
    filters: tuple = ()
    notices: tuple = field(default=(), compare=False)

    def filter_kwargs(self) -> dict:
        return {name: list(value) if isinstance(value, tuple) else value for name, value in self.filters}


def parse_request(args, default_mode: str = "hybrid") -> SearchRequest:
    """A SearchRequest from Datasette's request.args (a MultiParams); raises BadParameter."""
    query = bounded_text(args.get("q"), "q", MAX_QUERY_CHARS)
    raw_k = bounded_text(args.get("k"), "k", 12)
    k = parse_k(raw_k)
    notices = []
    if raw_k and raw_k.isdigit() and int(raw_k) > MAX_PAGE_K:
        notices.append(f"k capped at {MAX_PAGE_K}")
    mode = bounded_text(args.get("mode"), "mode") or default_mode
    if mode not in MODES:
        raise BadParameter(f"mode must be one of {', '.join(MODES)}")
    filters = []
    for name in LIST_FILTERS:
        values = [bounded_text(v, name) for v in args.getlist(name)]
        values = tuple(dict.fromkeys(v for v in values if v))
        if len(values) > MAX_VALUES_PER_PARAM:
            raise BadParameter(f"at most {MAX_VALUES_PER_PARAM} values of {name}")
        if values:
            filters.append((name, values))
    has_effect = bounded_text(args.get("has_effect"), "has_effect", 5).lower()
    if has_effect:
        if has_effect not in ("1", "0", "true", "false", "yes", "no", "on"):
            raise BadParameter("has_effect must be 1 or 0")
        filters.append(("has_effect", has_effect in ("1", "true", "yes", "on")))
    for name in YEAR_FILTERS:
        value = bounded_text(args.get(name), name, 4)
        if value:
            if not value.isdigit():
                raise BadParameter(f"{name} must be a year")
            filters.append((name, int(value)))
    return SearchRequest(query, k, mode, tuple(sorted(filters)), tuple(notices))


class _LRU:
    """A small thread-safe LRU: search runs in Datasette's SQL threads."""

    def __init__(self, maxsize: int = 1024):
        self.maxsize = maxsize
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)


@dataclass
class Outcome:
    """What a search produced, ready to serve: the results, their JSON and the notices."""

    results: list
    notices: list[str]
    mode: str
    _json: bytes | None = None

    @property
    def no_good_match(self) -> bool:
        # Same rule as search.Results.no_good_match (the list here may be a plain copy of it).
        return all(r.match == "weak" for r in self.results)

    def dicts(self) -> list[dict]:
        return [r.to_dict() for r in self.results]

    def json_bytes(self) -> bytes:
        # The same objects as `kb search --json`, without its indentation: json's C encoder does not indent,
        # and the pure-Python one it falls back to cost 1.8 ms a request. Cached with the results.
        if self._json is None:
            self._json = json.dumps(self.dicts(), ensure_ascii=False).encode("utf-8")
        return self._json


_cache = _LRU()


def _cache_key(req: SearchRequest, scope: str) -> tuple:
    return (scope, req.query, req.k, req.mode, req.filters)


def run_on_connection(
    conn: sqlite3.Connection,
    req: SearchRequest,
    semantic_unavailable: str | None,
    cacheable: bool,
    cache_scope: str,
    vector=None,
) -> Outcome:
    """Search on an open connection (a Datasette read connection). Raises SearchError.

    vector: the query already embedded (by the instance's batcher); None lets search() embed it.
    """
    key = _cache_key(req, cache_scope)
    if cacheable:
        hit = _cache.get(key)
        if hit is not None:
            return hit
    mode, notices = req.mode, []
    # Hybrid degrades to keyword search when the KB was built without embeddings;
    # an explicit semantic search reports why it cannot run instead.
    if mode == "hybrid" and semantic_unavailable:
        mode = "keyword"
        notices.append(f"semantic search is unavailable, so these are keyword results only: {semantic_unavailable}")
    try:
        vector_arg = {"query_vector": vector} if vector is not None and mode != "keyword" else {}
        results = search.search(conn, req.query, k=req.k, mode=mode, **vector_arg, **req.filter_kwargs())
    except IndexUnavailable as exc:
        if mode != "hybrid":
            raise
        mode = "keyword"
        notices.append(f"semantic search is unavailable, so these are keyword results only: {exc}")
        results = search.search(conn, req.query, k=req.k, mode=mode, **req.filter_kwargs())
    outcome = Outcome(list(results), notices + list(getattr(results, "notices", [])), mode)
    if cacheable:
        _cache.put(key, outcome)
    return outcome


def _scope(datasette, database: str) -> str:
    # One cache serves every Datasette in the process, so entries name their instance and database.
    return f"{state(datasette).cache_scope}:{database}"


async def run(datasette, req: SearchRequest) -> Outcome:
    """Search the instance's KB in a Datasette SQL thread. Raises SearchError."""
    db = kb_database(datasette)
    if db is None:
        raise SearchError("no Evidence KB database is attached to this Datasette")
    cacheable = not db.is_mutable
    # An immutable KB answers a repeated question from memory, without a thread hop.
    outcome = _cache.get(_cache_key(req, _scope(datasette, db.name))) if cacheable else None
    if outcome is None:
        unavailable = state(datasette).semantic_unavailable
        vector = await _query_vector(datasette, req, unavailable)
        outcome = await db.execute_fn(
            lambda conn: run_on_connection(conn, req, unavailable, cacheable, _scope(datasette, db.name), vector)
        )
    if req.notices:
        # Notices about the request itself (k capped) are not part of the cached answer.
        outcome = dataclasses.replace(outcome, notices=[*req.notices, *outcome.notices])
    return outcome


# Datasette instance -> the QueryBatcher embedding its requests' queries (absent: search() embeds them).
_batchers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def _query_vector(datasette, req: SearchRequest, semantic_unavailable: str | None):
    """The request's query embedded together with the queries of concurrent requests, or None.

    None when the search needs no vector, or when anything goes wrong here: search() then
    embeds the query itself and reports any problem in its own words.
    """
    batcher = _batchers.get(datasette)
    if batcher is None or req.mode == "keyword" or semantic_unavailable:
        return None
    try:
        # The text search() would embed: cleaned, and cut at MAX_QUERY_CHARS.
        query, _ = clean_query(req.query)
        return await batcher.encode(query)
    except Exception:  # noqa: BLE001 - see the docstring: the search itself reports the error
        return None


async def warm_up(datasette) -> None:
    """Load the FAISS index and the query encoder now, so no visitor waits for them.

    search keeps both in process-wide caches; one real query fills them. The encoder
    also gets the instance's QueryBatcher.
    """
    db = kb_database(datasette)
    if db is None:
        return

    def probe(conn):
        try:
            search.search(conn, "compassion", k=1, mode="semantic")
            return None, query_encoder(conn)
        except SearchError as exc:
            return str(exc), None

    problem, encoder = await db.execute_fn(probe)
    state(datasette).semantic_unavailable = problem
    if problem:
        print(f"evidence-kb: semantic search disabled: {problem}", file=sys.stderr)
    if encoder is not None:
        batcher = _batchers[datasette] = QueryBatcher(encoder)
        # The batcher's threads go with the instance (tests start many).
        weakref.finalize(datasette, batcher.close)


def sql_kb_search(conn: sqlite3.Connection, datasette, database: str):
    """The kb_search(query[, k[, mode]]) SQL function for one connection.

    Returns a JSON array of {"id", "score", "match"}, best first; '[]' for an empty query
    so a canned query with a blank parameter shows nothing rather than an error.
    """
    db = datasette.databases.get(database)
    cacheable = db is not None and not db.is_mutable
    scope = _scope(datasette, database)

    def kb_search(query=None, k=None, mode="hybrid"):
        if query is None or not str(query).strip():
            return "[]"
        query = str(query)
        if len(query) > MAX_QUERY_CHARS:
            raise BadParameter(f"kb_search query longer than {MAX_QUERY_CHARS} characters")
        if mode is None or str(mode) not in MODES:
            raise BadParameter(f"kb_search mode must be one of {', '.join(MODES)}")
        req = SearchRequest(query, parse_k(k, strict=False), str(mode))
        outcome = run_on_connection(conn, req, state(datasette).semantic_unavailable, cacheable, scope)
        return json.dumps([{"id": r.id, "score": r.score, "match": r.match} for r in outcome.results])

    return kb_search
