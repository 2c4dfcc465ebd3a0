"""Claims already in the KB that say the same thing as new text (for `kb ingest`'s candidates).

A candidate statement is embedded with the model the index was built with and
compared with every claim. Similarity alone over-links (two findings about
compassion and diabetes sound alike); a figure both state is strong evidence
that they report the same finding, so matching numbers raise the score and
decide the suggested relation:

- `restates`: the same finding stated in another document (cosine ≥ 0.80, or
  ≥ 0.65 with a shared figure);
- `contrasts_with`: a shared metric with the opposite direction;
- `supports`: related evidence (cosine ≥ 0.65);
- otherwise listed without a relation (a curator may still link it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ingest.db import DatabaseNotFound, connect

from .errors import SearchError

MIN_SCORE = 0.55
RESTATES = 0.80
RELATED = 0.65


@dataclass(frozen=True)
class Figure:
    """A statistic a text states: enough to compare it with a claim's effect."""

    metric: str | None
    value: float
    direction: str | None


def similar_claims(
    db, statements: list[str], figures: list[list[Figure]] | None = None, *, k: int = 3
) -> list[list[dict]]:
    """For each statement, up to k `{id, score, relation}` best first (score = cosine, rounded)."""
    if not statements:
        return []
    from .index import load_index

    try:
        conn = connect(db)
    except DatabaseNotFound as exc:
        raise SearchError(str(exc)) from None
    try:
        index = load_index(conn, db)
        vectors = index.encoder().encode(list(statements))
        effects = {
            row[0]: row[1:]
            for row in conn.execute(
                "select id, effect_metric, effect_value, effect_direction, source_effect_metric,"
                " source_effect_value, source_effect_direction from claims"
            )
        }
        out = []
        for i, vector in enumerate(vectors):
            mine = (figures or [[]] * len(statements))[i] or []
            hits = []
            for claim_id, cosine in index.query(vector, max(k * 3, 10)):
                if cosine < MIN_SCORE:
                    continue
                relation = _relation(cosine, mine, effects.get(claim_id) or ())
                hits.append({"id": claim_id, "score": round(float(cosine), 4), "relation": relation})
            out.append(hits[:k])
        return out
    finally:
        conn.close()


def _relation(cosine: float, mine: list[Figure], theirs: tuple) -> str | None:
    their_figures = [
        Figure(theirs[j], theirs[j + 1], theirs[j + 2])
        for j in (0, 3)
        if len(theirs) > j + 1 and theirs[j + 1] is not None
    ]
    shared = any(_same_figure(a, b) for a in mine for b in their_figures)
    opposite = any(
        a.metric == b.metric and {a.direction, b.direction} == {"increase", "decrease"}
        for a in mine
        for b in their_figures
    )
    if cosine >= RELATED and opposite and not shared:
        return "contrasts_with"
    if cosine >= RESTATES or (cosine >= RELATED and shared):
        return "restates"
    if cosine >= RELATED:
        return "supports"
    return None


def _same_figure(a: Figure, b: Figure) -> bool:
    if a.value is None or b.value is None or not (math.isfinite(a.value) and math.isfinite(b.value)):
        return False
    return math.isclose(abs(a.value), abs(b.value), rel_tol=1e-6, abs_tol=1e-9) and a.direction == b.direction
