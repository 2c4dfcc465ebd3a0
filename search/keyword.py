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
from dataclasses import dataclass, field

from ingest.db import connect

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
# Hybrid spends a share of it: its keyword search runs beside the query
# encoder and should end by the time the vector does (~5 ms; ~1 us per
# posting), or the search waits for it. At 1M synthetic claims half the budget
# cut hybrid's p95 from 25 to 16 ms (benchmarks/bench_query.py, docs/search.md).
HYBRID_BUDGET_SHARE = 0.5
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


TERM_COUNTS = "claims_fts_terms"
# Most rows one over-budget keyword query scores (keyword mode searching a
# very common word alone): FTS5 BM25 has no top-k early exit, so without a cap
# a word in half of 1M claims is scored 500k times. See keyword_search().
CANDIDATE_LIMIT = 20_000


def write_term_counts(db_path) -> None:
    """Store, once at build, how many claims hold each indexed term (FTS5's own vocabulary).

    The served database is immutable, so counting a query word's postings on
    every request is repeated work: a B-tree lookup in this table replaces it.
    A real table, not an fts5vocab view: fts5vocab counts by walking postings.
    """
    conn = connect(db_path, read_only=False)
    try:
        with conn:
            conn.execute("create virtual table temp.claims_fts_vocab using fts5vocab(main, claims_fts, row)")
            conn.execute(f"drop table if exists {TERM_COUNTS}")
            conn.execute(f"create table {TERM_COUNTS} (term text primary key, doc integer not null) without rowid")
            conn.execute(f"insert into {TERM_COUNTS} select term, doc from temp.claims_fts_vocab")
            conn.execute("drop table temp.claims_fts_vocab")
    finally:
        conn.close()


def _tokenize_argument(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("select sql from sqlite_master where name = 'claims_fts'").fetchone()
    match = re.search(r"tokenize\s*=\s*('(?:[^']|'')*'|\"[^\"]*\"|\w+)", row[0] if row else "", re.IGNORECASE)
    return match.group(1) if match else None


class _Stemmer:
    """The FTS5 tokenizer of claims_fts, run on an in-memory table, so query words map to indexed terms.

    Python has no copy of SQLite's porter stemmer; FTS5 itself is exact by construction.
    """

    def __init__(self, tokenize: str | None):
        import threading

        self.lock = threading.Lock()
        self.conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        option = f", tokenize={tokenize}" if tokenize else ""
        self.conn.execute(f"create virtual table t using fts5(x{option})")
        self.conn.execute("create virtual table v using fts5vocab(t, instance)")
        self.cache: dict[str, tuple[str, ...]] = {}

    def tokens(self, word: str) -> tuple[str, ...]:
        found = self.cache.get(word)
        if found is None:
            with self.lock:
                self.conn.execute("insert into t(rowid, x) values (1, ?)", [word])
                found = tuple(r[0] for r in self.conn.execute("select term from v order by offset"))
                self.conn.execute("delete from t")
            if len(self.cache) < 100_000:
                self.cache[word] = found
        return found


_stemmers: dict = {}


def _term_counts_available(conn: sqlite3.Connection) -> bool:
    # A lookup in the parsed schema SQLite keeps in memory: microseconds, no I/O.
    found = conn.execute("select 1 from sqlite_master where type = 'table' and name = ?", [TERM_COUNTS])
    return found.fetchone() is not None


def _stemmer(conn: sqlite3.Connection) -> _Stemmer:
    tokenize = _tokenize_argument(conn)
    if tokenize not in _stemmers:
        _stemmers[tokenize] = _Stemmer(tokenize)
    return _stemmers[tokenize]


def document_frequencies(conn: sqlite3.Connection, terms: list[str], cap: int) -> list[int]:
    """For each query word, how many claims match it, counted up to `cap`.

    From the build's per-term counts (TERM_COUNTS) when the database has them:
    one index lookup per word. Otherwise, and for a word the tokenizer splits
    into several terms (a phrase), FTS5 counts the matches itself and stops
    reading the postings at the cap.
    """
    if not _term_counts_available(conn):
        return _match_counts(conn, [_quoted(t) for t in terms], cap)
    stemmer = _stemmer(conn)
    out = []
    for term in terms:
        tokens = stemmer.tokens(term)
        if len(tokens) == 1:
            row = conn.execute(f"select doc from {TERM_COUNTS} where term = ?", [tokens[0]]).fetchone()
            out.append(min(row[0] if row else 0, cap))
        else:
            out += _match_counts(conn, [_quoted(term)], cap)
    return out


def _prefix_counts(conn: sqlite3.Connection, prefixes: list[str], cap: int) -> list[int]:
    """Claims matching each quoted prefix expression, at most `cap`; from TERM_COUNTS an upper bound (a claim
    holding two terms with the prefix counts twice), which only makes the budget stricter."""
    if not _term_counts_available(conn):
        return _match_counts(conn, prefixes, cap)
    sql = f"select coalesce(sum(doc), 0) from {TERM_COUNTS} where term >= ? and term < ?"
    out = []
    for expression in prefixes:
        tokens = _stemmer(conn).tokens(expression[1:-2].replace('""', '"'))
        if len(tokens) != 1:
            out += _match_counts(conn, [expression], cap)
            continue
        out.append(min(conn.execute(sql, [tokens[0], tokens[0] + "\U0010ffff"]).fetchone()[0], cap))
    return out


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
    postings: int = 0  # claims the kept words match (summed, capped): what scoring them costs
    frequencies: dict[str, int] = field(default_factory=dict)  # word -> claims holding it (capped; 0: none)


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
    budget is spent (hybrid's is HYBRID_BUDGET_SHARE of it) and only words
    the index does not know get a prefix. If
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
    budget = POSTINGS_BUDGET if always else int(POSTINGS_BUDGET * HYBRID_BUDGET_SHARE)
    dfs = document_frequencies(conn, terms, cap=size + 1 if small else POSTINGS_BUDGET + 1)
    overlap = sum(1 for df in dfs if df > 0) / len(terms)
    kept, spent = [], 0
    for df, term in sorted((df, t) for df, t in zip(dfs, terms) if df > 0):
        affordable = small or spent + df <= budget
        if (kept or not always) and (df > size / 2 or not affordable):
            break
        kept.append(term)
        spent += df
    parts = [_quoted(t) for t in terms if t in kept]
    if style == "prefix":
        widen = [t for t, df in zip(terms, dfs) if df == 0 or (small and t in kept)]
        prefixes = [_quoted(p) + "*" for p in dict.fromkeys(map(_prefix, widen)) if p]
        if not small:  # a prefix can match far more than its word ("mentally" -> "mental"*)
            affordable = []
            for p, n in zip(prefixes, _prefix_counts(conn, prefixes, budget + 1)):
                # Only a prefix that is kept is spent: a refused one must not push the query over budget.
                if 0 < n and spent + n <= budget:
                    affordable.append(p)
                    spent += n
            prefixes = affordable
        parts += prefixes
    return KeywordQuery(
        [t for t in terms if t in kept], overlap, " OR ".join(parts) or None, spent, dict(zip(terms, dfs))
    )


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
    if analysed.postings > POSTINGS_BUDGET:
        # Over budget (keyword mode searching a very common word alone): score only the first
        # CANDIDATE_LIMIT matches in rowid order, a bounded cost instead of every match.
        capped = f"select rowid, {bm25} as score from claims_fts where claims_fts match ? limit {CANDIDATE_LIMIT}"
        if allowed_sql is None:
            # Rank the capped matches first and join only the best to claims: joining all of them
            # first cost a claims lookup per match (20k random reads, ~2/3 of the query at 1M claims).
            sql = f"""
                select claims.id, f.score from (
                    select rowid, score from ({capped}) order by score desc limit ?
                ) f join claims on claims.rowid = f.rowid
                order by f.score desc, claims.id
            """
            return [(row[0], row[1]) for row in conn.execute(sql, [analysed.expression, limit])]
        where, params = allowed_sql
        sql = f"""
            select claims.id, f.score from ({capped}) f join claims on claims.rowid = f.rowid
            where {where}
            order by f.score desc, claims.id limit ?
        """
        return [(row[0], row[1]) for row in conn.execute(sql, [analysed.expression, *params, limit])]
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
