"""How well a result answers the query, in words: strong, partial or weak.

A result's evidence is its cosine similarity to the query plus a small bonus for the share
of the query's content words (stemmed as FTS5 stems them) that the claim's statement,
keywords or outcome contain. The thresholds were fitted on the `tune` splits of
evidence/eval/queries.yaml (answerable) and evidence/eval/unanswerable.yaml by
benchmarks/eval_trust.py: `partial` lets through 97% of answerable questions' best
result; `strong` is above the best result of 95% of unanswerable questions.
The risk-coverage table and held-out figures are in docs/search.md.
"""

from __future__ import annotations

import functools
import sqlite3

from .keyword import _prefix, _prefix_counts, _quoted, _stemmer, document_frequencies, query_terms

# Fitted 2026-12-01 on the tune splits (76 answerable, 59 unanswerable questions).
OVERLAP_WEIGHT = 0.2
PARTIAL = 0.39
STRONG = 0.62
# Keyword mode has no similarity: the share of query words in the claim alone decides.
KEYWORD_ONLY_PARTIAL = 0.5
GRADES = ("strong", "partial", "weak")


def evidence(similarity: float | None, overlap: float) -> float | None:
    if similarity is None:
        return None
    return similarity + OVERLAP_WEIGHT * overlap


def grade(similarity: float | None, overlap: float) -> str:
    """strong | partial | weak for one result."""
    score = evidence(similarity, overlap)
    if score is None:
        return "partial" if overlap >= KEYWORD_ONLY_PARTIAL else "weak"
    if score >= STRONG:
        return "strong"
    return "partial" if score >= PARTIAL else "weak"


def _stems(stemmer, text: str) -> set[str]:
    return {token for word in query_terms(text or "") for token in stemmer.tokens(word)}


@functools.lru_cache(maxsize=16_384)
def _claim_stems(stemmer, text: str) -> frozenset[str]:
    # Keyed by the text itself, so a rebuilt KB can never see stale stems. Re-stemming the top claims'
    # words was a fifth of the GIL-held time of a /-/kb/search.json request under load (py-spy).
    return frozenset(_stems(stemmer, text))


_CLAIM_WORDS_SQL = "select id, statement, keywords, outcome from claims where id in ({marks})"


def word_overlaps(conn: sqlite3.Connection, query: str, claim_ids: list[str]) -> dict[str, float]:
    """claim id -> share of the query's content words the claim's statement, keywords or outcome hold."""
    if not claim_ids:
        return {}
    stemmer = _stemmer(conn)
    wanted = _stems(stemmer, query)
    if not wanted:
        return dict.fromkeys(claim_ids, 0.0)
    rows = conn.execute(_CLAIM_WORDS_SQL.format(marks=",".join("?" * len(claim_ids))), claim_ids)
    found = {cid: " ".join(str(part) for part in parts if part) for cid, *parts in rows}
    return {cid: len(wanted & _claim_stems(stemmer, found.get(cid, ""))) / len(wanted) for cid in claim_ids}


def unknown_words(conn: sqlite3.Connection, query: str, frequencies: dict[str, int] | None = None) -> list[str]:
    """The query's words that no claim contains, as keyword search sees them (stem, or prefix for long words).

    Shown to the reader ("no claim mentions 'dementia'") because the sentence model cannot say it: a near
    miss such as "compassion in dementia care" sits as close to a care-home claim as a real match does
    (docs/search.md, "Match quality"). One lookup per word in the build's term counts, skipped for the
    words in `frequencies` (keyword.analyse's counts for the same query).
    """
    terms = [t for t in query_terms(query) if len(t) >= 3 and not t.isdigit()]
    if not terms:
        return []
    known = frequencies or {}
    lookups = [t for t in terms if t not in known]
    looked_up = iter(document_frequencies(conn, lookups, cap=1) if lookups else [])
    missing = [t for t in terms if (known[t] if t in known else next(looked_up)) == 0]
    prefixes = {t: _prefix(t) for t in missing}
    widened = [p for p in dict.fromkeys(prefixes.values()) if p]
    found = {p for p, n in zip(widened, _prefix_counts(conn, [_quoted(p) + "*" for p in widened], 1)) if n}
    return [t for t in missing if prefixes[t] not in found]


def capped(grade_: str, unknown: list[str]) -> str:
    """A result cannot be a strong answer to a question with words no claim contains: at most partial."""
    return "partial" if grade_ == "strong" and unknown else grade_


def unknown_words_notice(unknown: list[str]) -> str:
    return "no claim in the knowledge base mentions " + ", ".join(f"'{w}'" for w in unknown)
