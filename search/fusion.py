"""Fusion of the keyword and vector rankings: reciprocal rank fusion with parameters fitted on labelled data.

Fitted, not hand-set: benchmarks/eval_trust.py grid-searches two families on the `tune`
split of evidence/eval/queries.yaml, a convex combination of normalised BM25 and cosine
(Bruch et al. 2023) and weighted RRF (Cormack et al. 2009) whose keyword vote is scaled
by the query's vocabulary overlap, and keeps the best on tune (hit@3, then hit@1 + MRR).
On this KB the RRF family won: the convex combination lost hit@1 on tune (docs/fusion.md).
"""

from __future__ import annotations

# Fitted 2026-12-01 on the tune split (76 answerable queries) by benchmarks/eval_trust.py --fit.
FITTED = {
    "method": "rrf",
    "k": 2,
    "weights": {"keyword": 0.5, "semantic": 1.0},
    # keyword weight *= overlap ** power (search.keyword.KeywordQuery.overlap)
    "overlap_power": 1,
    "fitted_on": "evidence/eval/queries.yaml split=tune",
    "date": "2026-12-01",
}
RRF_K = FITTED["k"]
WEIGHTS = dict(FITTED["weights"])


def fused_weights(overlap: float | None, weights: dict | None = None) -> dict:
    """The per-retriever weights for one query: the keyword vote shrinks when few query words are in the KB."""
    out = dict(weights or WEIGHTS)
    if overlap is not None:
        out["keyword"] = out.get("keyword", 1.0) * overlap ** FITTED["overlap_power"]
    return out


def reciprocal_rank_fusion(
    ranked: dict[str, list[str]], weights: dict[str, float] | None = None, k: int = RRF_K, limit: int | None = None
) -> list[tuple[str, float, dict]]:
    """ranked: retriever name -> claim ids best first. Returns (claim_id, score, ranks) best first.

    ranks maps every retriever to the claim's 1-based rank there, or None.
    Ties break on the best single rank, then claim id, so output is deterministic.
    limit: how many to return (search fuses 100 candidates a side and shows k).
    """
    weights = weights or WEIGHTS
    positions = {name: {} for name in ranked}
    scores: dict[str, float] = {}
    best: dict[str, int] = {}
    for name, ids in ranked.items():
        w = weights.get(name, 1.0)
        seen = positions[name]
        for rank, claim_id in enumerate(ids, 1):
            scores[claim_id] = scores.get(claim_id, 0.0) + w / (k + rank)
            seen[claim_id] = rank
            if rank < best.get(claim_id, rank + 1):
                best[claim_id] = rank
    order = sorted(scores, key=lambda cid: (-scores[cid], best[cid], cid))[:limit]
    return [(cid, scores[cid], {name: seen.get(cid) for name, seen in positions.items()}) for cid in order]


def convex_combination(
    keyword: dict[str, float], semantic: dict[str, float], alpha: float, overlap: float = 1.0
) -> list[tuple[str, float]]:
    """alpha * cosine + (1 - alpha) * overlap * BM25 / max BM25, best first: the family fusion was fitted against."""
    top = max(keyword.values(), default=0.0) or 1.0
    floor = min(semantic.values(), default=0.0)
    ids = set(keyword) | set(semantic)
    score = {c: alpha * semantic.get(c, floor) + (1 - alpha) * overlap * keyword.get(c, 0.0) / top for c in ids}
    return sorted(score.items(), key=lambda item: (-item[1], item[0]))
