"""The result object: one claim as search returns it. Its to_dict() is the JSON contract
served by `kb search --json`, Datasette's /-/search.json and read by `kb cite --query`."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from ingest.schema import json_list


@dataclass
class SearchResult:
    id: str
    rank: int
    score: float
    statement: str
    quote: str
    kind: str
    topics: list[str]
    certainty: str | None
    effect: dict | None
    study_design: str | None
    year: int | None
    citations: list[dict]
    citation: str | None
    document: dict
    location: dict
    source_effect: dict | None = None
    discrepancy: str | None = None
    # The figure to show first: {figure, from: source | deck, qualifier} (see headline()).
    headline: dict | None = None
    # Claims of other documents that state the same finding (relation `restates`, either way).
    also_stated_in: list = field(default_factory=list)
    # How each retriever ranked this claim (1-based; None = not retrieved). Explains a hybrid score.
    ranks: dict = field(default_factory=dict)
    # How well the claim answers the query (search.match): strong | partial | weak, and the raw cosine behind it.
    match: str = "weak"
    similarity: float | None = None
    # The claim's certainty in one line: its certainty_note shortened, or a sentence from the rating rules.
    certainty_reason: str | None = None

    def to_dict(self) -> dict:
        """A new top-level dict whose nested values (effect, citations, document, ...) are the result's own:
        read them, do not change them. dataclasses.asdict deep-copied every one, which measured 2.8 ms
        of a 17 ms /-/kb/search.json request (k=10)."""
        data = {name: getattr(self, name) for name in _FIELD_NAMES}
        # source_effect / discrepancy / also_stated_in / headline appear only where the claim has them.
        for optional in ("source_effect", "discrepancy", "also_stated_in", "headline"):
            if not data[optional]:
                del data[optional]
        return data


_FIELD_NAMES = tuple(f.name for f in fields(SearchResult))


def headline_effect(claim: Mapping) -> tuple[str | None, str | None]:
    """(figure to lead with, qualifier in words) for a `claims` row, issue 10.3: a discrepant claim leads
    with the source's figure (its short `summary` where curated, else its words) and shows the deck's as
    "the deck says …"; an unchecked one says so next to the number. One rule for search results, pages,
    cards and exports; effect_status is the build's (ingest.claims.effect_status)."""
    deck, status = claim.get("effect_text"), claim.get("effect_status")
    source_figure = claim.get("source_effect_summary") or claim.get("source_effect_text")
    if status == "discrepant" and source_figure:
        return source_figure, (f"the deck says \u201c{deck}\u201d" if deck else None)
    if status == "unchecked" and deck:
        what = "comparison" if claim.get("effect_metric") == "comparison" else "figure"
        return deck, f"the deck's {what}, not yet checked against the source"
    return deck, None


def headline(claim: Mapping) -> dict | None:
    """{figure, from: source | deck, qualifier} as results and pages show it, or None with no figure at all."""
    figure, qualifier = headline_effect(claim)
    if not figure:
        return None
    from_source = claim.get("effect_status") == "discrepant" and (
        claim.get("source_effect_summary") or claim.get("source_effect_text")
    )
    leads = "source" if from_source else "deck"
    return {"figure": figure, "from": leads, "qualifier": qualifier}


class Results(list):
    """A list of SearchResult that also carries notices (e.g. 'query truncated') and no_good_match."""

    def __init__(self, items=(), notices=None, unknown_words=()):
        super().__init__(items)
        self.notices: list[str] = list(notices or [])
        # The query's words no claim contains (search.match.unknown_words): no result can answer them.
        self.unknown_words: list[str] = list(unknown_words)

    @property
    def no_good_match(self) -> bool:
        """True when no result is better than a weak match: the KB probably cannot answer the query."""
        return all(r.match == "weak" for r in self)


# When a claim has no certainty_note: the level's meaning from docs/certainty.md, in one line.
RULE_REASONS = {
    "high": "randomised evidence with no serious concern",
    "moderate": "randomised evidence with one serious concern",
    "low": "observational evidence, or randomised evidence with two serious concerns",
    "very_low": "weak or unverified support; treat the statement as unconfirmed",
    "not_assessed": "not an empirical claim (framework, list, context or quote), so it has no rating",
}
REASON_CHARS = 160


def certainty_reason(certainty: str | None, note: str | None) -> str | None:
    """One line: the note's first sentence, cut at a word under REASON_CHARS; else the rule for the level."""
    if note and note.strip():
        text = " ".join(note.split())
        first = text.split(". ")[0].rstrip(".")
        if len(first) > REASON_CHARS:
            first = first[:REASON_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"
        return first
    return RULE_REASONS.get(certainty) if certainty else None


def _effect(row: dict, prefix: str) -> dict | None:
    text = row[f"{prefix}_text"]
    if text is None and row[f"{prefix}_value"] is None:
        return None
    return {
        "text": text,
        "metric": row[f"{prefix}_metric"],
        "value": row[f"{prefix}_value"],
        "direction": row[f"{prefix}_direction"],
    }


_CLAIM_SQL = """
select c.id, c.statement, c.quote, c.kind, c.topics, c.certainty, c.study_design, c.year,
       c.effect_text, c.effect_metric, c.effect_value, c.effect_direction,
       c.source_effect_text, c.source_effect_metric, c.source_effect_value, c.source_effect_direction,
       c.source_effect_source, c.source_effect_location, c.source_effect_summary, c.discrepancy,
       c.effect_status,
       c.citations, c.source_keys, c.certainty_note, c.document_id, d.title as document_title,
       c.line_start, c.line_end, c.char_start, c.char_end, c.slide_number, c.slide_heading
from claims c left join documents d on d.id = c.document_id
where c.id in ({marks})
"""


def load_results(
    conn: sqlite3.Connection, scored: list[tuple[str, float, dict]], grades: dict | None = None
) -> list[SearchResult]:
    """SearchResults, in the given order, for (claim_id, score, ranks) triples.

    grades: claim id -> (match, similarity) from search.match; a claim without one is weak.
    """
    grades = grades or {}
    if not scored:
        return []
    ids = [s[0] for s in scored]
    cursor = conn.execute(_CLAIM_SQL.format(marks=",".join("?" * len(ids))), ids)
    names = [d[0] for d in cursor.description]
    rows = {r[0]: dict(zip(names, r)) for r in cursor}
    source_keys = {cid: json_list(row["source_keys"]) for cid, row in rows.items()}
    keys = sorted({k for ks in source_keys.values() for k in ks})
    short = {}
    if keys:
        short = dict(
            conn.execute(
                f"select key, citation_short from sources where key in ({','.join('?' * len(keys))})", keys
            ).fetchall()
        )
    restated = _restatements(conn, ids)
    results = []
    for claim_id, score, ranks in scored:
        row = rows.get(claim_id)
        if row is None:  # embeddings row for a claim that no longer exists: skip it
            continue
        source_effect = _effect(row, "source_effect")
        if source_effect is not None:
            source_effect["source"] = row["source_effect_source"]
            source_effect["location"] = row["source_effect_location"]
            if row["source_effect_summary"]:
                source_effect["summary"] = row["source_effect_summary"]
        results.append(
            SearchResult(
                id=claim_id,
                rank=len(results) + 1,
                score=round(float(score), 6),
                statement=row["statement"],
                quote=row["quote"],
                kind=row["kind"],
                topics=json_list(row["topics"]),
                certainty=row["certainty"],
                effect=_effect(row, "effect"),
                study_design=row["study_design"],
                year=row["year"],
                citations=[{"key": k, "short": short.get(k)} for k in source_keys[claim_id]],
                citation=row["citations"],
                document={"id": row["document_id"], "title": row["document_title"]},
                location={
                    k: row[k]
                    for k in ("line_start", "line_end", "char_start", "char_end", "slide_number", "slide_heading")
                },
                source_effect=source_effect,
                discrepancy=row["discrepancy"],
                headline=headline(row),
                also_stated_in=restated.get(claim_id, []),
                ranks=ranks,
                match=grades.get(claim_id, ("weak", None))[0],
                similarity=grades.get(claim_id, ("weak", None))[1],
                certainty_reason=certainty_reason(row["certainty"], row["certainty_note"]),
            )
        )
    return results


_RESTATES_SQL = """
select r.from_claim, r.to_claim
from claim_relations r
where r.relation = 'restates' and (r.from_claim in ({marks}) or r.to_claim in ({marks}))
"""


def _restatements(conn: sqlite3.Connection, ids: list[str]) -> dict[str, list[dict]]:
    """claim id -> [{id, document_id, document_title}] of the claims that restate it (the link read both ways)."""
    marks = ",".join("?" * len(ids))
    wanted = set(ids)
    pairs = []
    for from_claim, to_claim in conn.execute(_RESTATES_SQL.format(marks=marks), ids * 2):
        pairs += [(mine, other) for mine, other in ((from_claim, to_claim), (to_claim, from_claim)) if mine in wanted]
    if not pairs:
        return {}
    others = sorted({other for _, other in pairs})
    where = {
        row[0]: {"id": row[0], "document_id": row[1], "document_title": row[2]}
        for row in conn.execute(
            "select c.id, c.document_id, d.title from claims c left join documents d on d.id = c.document_id"
            f" where c.id in ({','.join('?' * len(others))})",
            others,
        )
    }
    found: dict[str, list[dict]] = {}
    for mine, other in pairs:
        if other in where and where[other] not in found.setdefault(mine, []):
            found[mine].append(where[other])
    return found
