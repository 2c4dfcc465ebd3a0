"""Errors search raises on purpose. Each message says what is wrong and how to fix it."""

from __future__ import annotations


class SearchError(Exception):
    """Base class: the CLI turns these into a clean message and a non-zero exit."""


class InvalidQuery(SearchError, ValueError):
    """The query or an option cannot be searched (empty query, k < 1, unknown filter value...)."""


class DatabaseNotFound(SearchError):
    pass


class IndexUnavailable(SearchError):
    """Semantic search is impossible: no embeddings, or the FAISS index is missing or stale."""


class NoEmbeddings(IndexUnavailable):
    pass


class IndexMissing(IndexUnavailable):
    pass


class IndexStale(IndexUnavailable):
    pass
