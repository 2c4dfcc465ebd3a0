"""Keyword search: a safe FTS5 query built from what the user typed, ranked by BM25.

The user's text is never passed to FTS5 as syntax. It is split into words,
stopwords and question filler are dropped, and each remaining word becomes a
quoted FTS5 string, so `"`, `*`, NEAR, AND, parentheses and `-` are just
characters. Words are OR-ed (a leader's question rarely repeats every word
of the claim) and BM25 does the weighting, with column weights that favour
the statement and the curated keywords over the long quote.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata

# English function words plus the filler of questions ("is there evidence
# that...", "what does research say about..."): they match almost every claim.
STOPWORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
nor not of off on once only or other our ours ourselves out over own same she should so some such than that
the their theirs them themselves then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours yourself yourselves
evidence research study studies show shows shown say says said tell tells find finding findings found
does do anything something thing things much many way ways really actually get got make makes know
data proof prove proves any whether please give me us our need want looking look find show
effect effects impact impacts affect affects better worse good bad help helps lead leads
""".split())  # fmt: skip

# Column weights for bm25(), by FTS column name; unknown columns get 1.0.
COLUMN_WEIGHTS = {"statement": 4.0, "keywords": 3.0, "context": 1.5, "items_text": 1.0, "quote": 0.5}
MAX_TERMS = 32
FTS_STYLE = "prefix"
PREFIX_MIN_WORD = 7
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


def query_terms(query: str) -> list[str]:
    """The distinct searchable words of a query, lower-cased, in order, stopwords removed."""
    text = unicodedata.normalize("NFKC", query).lower()
    terms: list[str] = []
    for word in _WORD.findall(text):
        word = word.replace("’", "'")
        if word.endswith("'s"):
            word = word[:-2]
        if word in STOPWORDS or word in terms or (len(word) == 1 and not word.isdigit()):
            continue
        terms.append(word)
    return terms[:MAX_TERMS]


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def fts_expression(terms: list[str], style: str = "or") -> str | None:
    """An FTS5 MATCH expression: each term quoted (so it is never syntax), OR-ed.

    style "prefix" also matches a shortened prefix of long words, catching the
    forms the porter stemmer does not unite (prioritise/priorities,
    anaesthesia/anaesthetist).
    """
    if not terms:
        return None
    parts = []
    for t in terms:
        parts.append(_quoted(t))
        if style == "prefix" and len(t) >= PREFIX_MIN_WORD and not t.isdigit():
            parts.append(_quoted(t[: max(PREFIX_MIN_WORD - 1, len(t) - 3)]) + "*")
    return " OR ".join(parts)


def _weights(conn: sqlite3.Connection, column_weights: dict | None = None) -> list[float]:
    columns = [row[1] for row in conn.execute("pragma table_info(claims_fts)")]
    return [float((column_weights or COLUMN_WEIGHTS).get(c, 1.0)) for c in columns]


def keyword_search(conn: sqlite3.Connection, query: str, limit: int, allowed_sql: tuple[str, list] | None = None,
                   *, style: str | None = None, column_weights: dict | None = None) -> list[tuple[str, float]]:  # fmt: skip
    """(claim_id, bm25 score, higher is better) best first."""
    expression = fts_expression(query_terms(query), style or FTS_STYLE)
    if expression is None or limit <= 0:
        return []
    weights = _weights(conn, column_weights)
    where, params = allowed_sql or ("", [])
    sql = f"""
        select claims.id, -bm25(claims_fts, {", ".join(map(str, weights))}) as score
        from claims_fts join claims on claims.rowid = claims_fts.rowid
        where claims_fts match ? {("and " + where) if where else ""}
        order by score desc, claims.id
        limit ?
    """
    return [(row[0], row[1]) for row in conn.execute(sql, [expression, *params, limit])]
