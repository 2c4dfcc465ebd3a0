"""Keyword search: a safe FTS5 query built from what the user typed, ranked by BM25.

The user's text is never passed to FTS5 as syntax. It is split into words,
stopwords and question filler are dropped, and each remaining word becomes a
quoted FTS5 string, so `"`, `*`, NEAR, AND, parentheses and `-` are just
characters. Words are OR-ed (a leader's question rarely repeats every word
of the claim) and BM25 does the weighting; long words also match a shortened prefix, which
catches forms the porter stemmer keeps apart ("prioritise"/"priorities").
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from dataclasses import dataclass

# English function words plus the filler of questions ("is there evidence
# that...", "what does research say about..."): they match almost every claim.
STOPWORDS = frozenset(
    """
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
""".split()
)

# Column weights for bm25(), by FTS column name; unknown columns get 1.0.
# Equal weights measured best: favouring the statement or the keywords
# (benchmarks/tune_search.py) changed hybrid results by at most one query.
COLUMN_WEIGHTS: dict[str, float] = {}
MAX_TERMS = 32
FTS_STYLE = "prefix"
PREFIX_MIN_WORD = 7
# Most postings (claim matches summed over words) one keyword query may
# touch on a large collection; see analyse(). 10,000 keeps FTS5 at ~13 ms on
# 100k synthetic claims (benchmarks/bench_query.py).
POSTINGS_BUDGET = 10_000
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


def document_frequencies(conn: sqlite3.Connection, terms: list[str], cap: int) -> list[int]:
    """For each query word, how many claims match it, counted up to `cap`.

    FTS5 tokenizes (and stems) the quoted word itself, and stops reading the
    word's postings at the cap, so a very common word costs no more than
    the budget allows.
    """
    return _match_counts(conn, [_quoted(t) for t in terms], cap)


def _match_counts(conn: sqlite3.Connection, expressions: list[str], cap: int) -> list[int]:
    sql = "select count(*) from (select 1 from claims_fts where claims_fts match ? limit ?)"
    return [conn.execute(sql, [e, cap]).fetchone()[0] for e in expressions]


def collection_size(conn: sqlite3.Connection) -> int:
    # max(rowid) is an index lookup where count(*) scans; claims are inserted
    # once, so the two agree.
    return conn.execute("select coalesce(max(rowid), 0) from claims").fetchone()[0]


@dataclass
class KeywordQuery:
    terms: list[str]  # the words searched for, after stopwords and very common words are dropped
    overlap: float  # share of the query's words that occur in the claims at all
    expression: str | None  # the FTS5 MATCH expression


def analyse(conn: sqlite3.Connection, query: str, style: str | None = None, *, always: bool = True) -> KeywordQuery:
    """Turn what the user typed into a keyword query for this collection.

    Words found in more than half the claims are dropped: BM25 gives them an
    IDF of ~0, so they cannot change the ranking, yet FTS5 would score every
    row they match. Long words also match a shortened prefix (style
    "prefix"): "prioritise" -> "priorit"* finds "priorities", a pair the
    porter stemmer keeps apart.

    FTS5 scores every row that matches any OR-ed word, so on a large
    collection the cost is the number of postings touched (~1 us each).
    Above POSTINGS_BUDGET claims, words are taken rarest first until the
    budget is spent and only words the index does not know get a prefix. If
    even the rarest word is over budget it is searched alone when `always`
    (keyword mode: the user asked for it) and skipped otherwise (hybrid: the
    vectors carry the query). The real KB is far below the budget, so there
    every word counts.

    overlap measures how much of the query the collection knows: keyword
    results for "overworked wards and uncaring nurses" rest on "nurses"
    alone and are mostly noise, for "HIV" they are exact. Hybrid search
    scales the keyword vote by it.
    """
    style = style or FTS_STYLE
    terms = query_terms(query)
    if not terms:
        return KeywordQuery([], 0.0, None)
    size = collection_size(conn)
    small = size <= POSTINGS_BUDGET
    dfs = document_frequencies(conn, terms, cap=size + 1 if small else POSTINGS_BUDGET + 1)
    overlap = sum(1 for df in dfs if df > 0) / len(terms)
    kept, spent = [], 0
    for df, term in sorted((df, t) for df, t in zip(dfs, terms) if df > 0):
        affordable = small or spent + df <= POSTINGS_BUDGET
        if (kept or not always) and (df > size / 2 or not affordable):
            break
        kept.append(term)
        spent += df
    parts = [_quoted(t) for t in terms if t in kept]
    if style == "prefix":
        widen = [t for t, df in zip(terms, dfs) if df == 0 or (small and t in kept)]
        prefixes = [_quoted(p) + "*" for p in dict.fromkeys(map(_prefix, widen)) if p]
        if not small:  # a prefix can match far more than its word ("mentally" -> "mental"*)
            counts = _match_counts(conn, prefixes, POSTINGS_BUDGET + 1)
            prefixes = [p for p, n in zip(prefixes, counts) if 0 < n and (spent := spent + n) <= POSTINGS_BUDGET]
        parts += prefixes
    return KeywordQuery([t for t in terms if t in kept], overlap, " OR ".join(parts) or None)


def _prefix(word: str) -> str | None:
    if len(word) < PREFIX_MIN_WORD or word.isdigit():
        return None
    return word[: max(PREFIX_MIN_WORD - 1, len(word) - 3)]


def vocabulary_overlap(conn: sqlite3.Connection, query: str) -> float:
    return analyse(conn, query).overlap


def _weights(conn: sqlite3.Connection, column_weights: dict | None = None) -> list[float]:
    columns = [row[1] for row in conn.execute("pragma table_info(claims_fts)")]
    weights = COLUMN_WEIGHTS if column_weights is None else column_weights
    return [float(weights.get(c, 1.0)) for c in columns]


def keyword_search(
    conn: sqlite3.Connection,
    query: str | KeywordQuery,
    limit: int,
    allowed_sql: tuple[str, list] | None = None,
    *,
    style: str | None = None,
    column_weights: dict | None = None,
) -> list[tuple[str, float]]:
    """(claim_id, bm25 score, higher is better) best first. query may be already analysed."""
    analysed = query if isinstance(query, KeywordQuery) else analyse(conn, query, style)
    if analysed.expression is None or limit <= 0:
        return []
    bm25 = f"-bm25(claims_fts, {', '.join(map(str, _weights(conn, column_weights)))})"
    if allowed_sql:
        where, params = allowed_sql
        sql = f"""
            select claims.id, {bm25} as score
            from claims_fts join claims on claims.rowid = claims_fts.rowid
            where claims_fts match ? and {where}
            order by score desc, claims.id limit ?
        """
    else:
        # Rank inside FTS5 first, then join only the survivors to claims.
        params = []
        sql = f"""
            select claims.id, f.score from (
                select rowid, {bm25} as score from claims_fts where claims_fts match ?
                order by score desc limit ?
            ) f join claims on claims.rowid = f.rowid
            order by f.score desc, claims.id
        """
    args = [analysed.expression, *params, limit] if allowed_sql else [analysed.expression, limit]
    return [(row[0], row[1]) for row in conn.execute(sql, args)]
