"""Reciprocal rank fusion (Cormack et al., 2009), weighted per retriever.

RRF uses ranks, not scores, so BM25 (unbounded) and cosine similarity
(-1..1) combine without calibration. The weights and the constant were
chosen on the tuning split of evidence/eval/queries.yaml (docs/search.md).
"""

from __future__ import annotations

RRF_K = 10
# The vector ranking is the stronger retriever on leaders' paraphrased
# questions; keyword search adds exact terms (HIV, RAIN, statins). Hybrid
# search further scales the keyword weight by the query's vocabulary overlap
# with the claims (search.keyword.vocabulary_overlap).
WEIGHTS = {"keyword": 0.3, "semantic": 1.0}


def reciprocal_rank_fusion(
    ranked: dict[str, list[str]], weights: dict[str, float] | None = None, k: int = RRF_K
) -> list[tuple[str, float, dict]]:
    """ranked: retriever name -> claim ids best first. Returns (claim_id, score, ranks) best first.

    ranks maps every retriever to the claim's 1-based rank there, or None.
    Ties break on the best single rank, then claim id, so output is deterministic.
    """
    weights = weights or WEIGHTS
    scores: dict[str, float] = {}
    ranks: dict[str, dict] = {}
    for name, ids in ranked.items():
        w = weights.get(name, 1.0)
        for rank, claim_id in enumerate(ids, 1):
            scores[claim_id] = scores.get(claim_id, 0.0) + w / (k + rank)
            ranks.setdefault(claim_id, dict.fromkeys(ranked))[name] = rank
    best = {cid: min(r for r in ranks[cid].values() if r is not None) for cid in scores}
    order = sorted(scores, key=lambda cid: (-scores[cid], best[cid], cid))
    return [(cid, scores[cid], ranks[cid]) for cid in order]
