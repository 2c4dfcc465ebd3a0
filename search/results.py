"""The result object: one claim as search returns it. Its to_dict() is the JSON contract
served by `kb search --json`, Datasette's /-/search.json and read by `kb cite --query`."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field

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
    # How each retriever ranked this claim (1-based; None = not retrieved). Explains a hybrid score.
    ranks: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = asdict(self)
        # source_effect / discrepancy appear only where the claim has them.
        for optional in ("source_effect", "discrepancy"):
            if data[optional] is None:
                del data[optional]
        return data


class Results(list):
    """A list of SearchResult that also carries notices (e.g. 'query truncated')."""

    def __init__(self, items=(), notices=None):
        super().__init__(items)
        self.notices: list[str] = list(notices or [])


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
       c.source_effect_source, c.source_effect_location, c.discrepancy,
       c.citations, c.source_keys, c.document_id, d.title as document_title,
       c.line_start, c.line_end, c.char_start, c.char_end, c.slide_number, c.slide_heading
from claims c left join documents d on d.id = c.document_id
where c.id in ({marks})
"""


def load_results(conn: sqlite3.Connection, scored: list[tuple[str, float, dict]]) -> list[SearchResult]:
    """SearchResults, in the given order, for (claim_id, score, ranks) triples."""
    if not scored:
        return []
    ids = [s[0] for s in scored]
    cursor = conn.execute(_CLAIM_SQL.format(marks=",".join("?" * len(ids))), ids)
    names = [d[0] for d in cursor.description]
    rows = {r[0]: dict(zip(names, r)) for r in cursor}
    keys = sorted({k for r in rows.values() for k in json_list(r["source_keys"])})
    short = {}
    if keys:
        short = dict(
            conn.execute(
                f"select key, citation_short from sources where key in ({','.join('?' * len(keys))})", keys
            ).fetchall()
        )
    results = []
    for claim_id, score, ranks in scored:
        row = rows.get(claim_id)
        if row is None:  # embeddings row for a claim that no longer exists: skip it
            continue
        source_effect = _effect(row, "source_effect")
        if source_effect is not None:
            source_effect["source"] = row["source_effect_source"]
            source_effect["location"] = row["source_effect_location"]
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
                citations=[{"key": k, "short": short.get(k)} for k in json_list(row["source_keys"])],
                citation=row["citations"],
                document={"id": row["document_id"], "title": row["document_title"]},
                location={
                    k: row[k]
                    for k in ("line_start", "line_end", "char_start", "char_end", "slide_number", "slide_heading")
                },
                source_effect=source_effect,
                discrepancy=row["discrepancy"],
                ranks=ranks,
            )
        )
    return results
