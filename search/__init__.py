"""Hybrid (FTS5 + FAISS) search over the claims of an Evidence KB database.

    >>> from search import search
    >>> search("build/kb.db", "compassion in diabetes care", k=3)[0].to_dict()

Importing this package loads neither torch, sentence-transformers nor FAISS:
they are imported when first needed, so `kb search` starts fast.
"""

from .errors import (
    DatabaseNotFound,
    IndexMissing,
    IndexStale,
    IndexUnavailable,
    InvalidQuery,
    NoEmbeddings,
    SearchError,
)
from .results import Results, SearchResult
from .retrieve import MODES, related, search

__all__ = [
    "search",
    "related",
    "SearchResult",
    "Results",
    "MODES",
    "SearchError",
    "InvalidQuery",
    "DatabaseNotFound",
    "IndexUnavailable",
    "NoEmbeddings",
    "IndexMissing",
    "IndexStale",
]
