"""Match grades and fusion on the labelled sets: risk-coverage, held-out figures, fitted vs old RRF.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/eval_trust.py --db /tmp/trust.db

Prints (1) the risk-coverage table of the `match` grade over answerable + unanswerable
questions, (2) the share of held-out unanswerable questions reported as no good match and of
answerable ones wrongly so, (3) hit@1/hit@3/MRR of the fitted fusion against the old
hand-weighted RRF (k=10, keyword 0.3) per split, with a paired randomisation test.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from search.model import use_offline_hub  # noqa: E402

use_offline_hub()

from search import search  # noqa: E402
from search.evaluate import first_relevant_rank, load_queries, load_unanswerable, match_report, metrics  # noqa: E402
from search.match import evidence, word_overlaps  # noqa: E402
from search.retrieve import _connect  # noqa: E402

OLD_RRF = {"k": 10, "weights": {"keyword": 0.3, "semantic": 1.0}}


def paired_randomisation(a: list[float], b: list[float], rounds: int = 10_000, seed: int = 7) -> float:
    """Two-sided p-value that per-query scores a and b have the same mean (sign-flip test).

    Written here because ranx is not installed; the test is twenty lines and deterministic (fixed seed).
    """
    diffs = [x - y for x, y in zip(a, b)]
    observed = abs(sum(diffs))
    if observed == 0:
        return 1.0
    rng = random.Random(seed)
    hits = sum(abs(sum(d if rng.random() < 0.5 else -d for d in diffs)) >= observed - 1e-12 for _ in range(rounds))
    return (hits + 1) / (rounds + 1)


def old_rrf_ids(db, query: str) -> list[str]:
    import search.fusion as fusion

    saved = fusion.RRF_K
    try:
        import search.retrieve as retrieve

        retrieve.RRF_K = OLD_RRF["k"]
        return [r.id for r in search(db, query, k=10, weights=OLD_RRF["weights"])]
    finally:
        retrieve.RRF_K = saved


def best_evidence(db, query: str) -> float:
    results = search(db, query, k=10)
    with _connect(db) as (conn, _):
        overlaps = word_overlaps(conn, query, [r.id for r in results])
    scores = [evidence(r.similarity, overlaps[r.id]) for r in results]
    return max((s for s in scores if s is not None), default=0.0)


def risk_coverage(db, answerable, unanswerable, split: str) -> list[tuple[float, float, float]]:
    """(threshold, coverage = share of all questions answered, risk = share of answered that are unanswerable)."""
    rows = [(best_evidence(db, q.query), False) for q in answerable if q.split == split]
    rows += [(best_evidence(db, q.query), True) for q in unanswerable if q.split == split]
    out = []
    for threshold in (0.30, 0.35, 0.39, 0.45, 0.50, 0.55, 0.62, 0.70):
        answered = [bad for score, bad in rows if score >= threshold]
        risk = sum(answered) / len(answered) if answered else 0.0
        out.append((threshold, len(answered) / len(rows), risk))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="build/kb.db")
    args = parser.parse_args()
    answerable, unanswerable = load_queries(), load_unanswerable()
    print("risk-coverage of `match` (answered = best result at least partial)")
    for split in ("tune", "heldout"):
        print(f"  {split}: threshold coverage risk")
        for threshold, coverage, risk in risk_coverage(args.db, answerable, unanswerable, split):
            print(f"    {threshold:.2f} {coverage:.3f} {risk:.3f}")
    print("no good match:", match_report(args.db, answerable, unanswerable))
    new = [first_relevant_rank([r.id for r in search(args.db, q.query, k=10)], q.targets) for q in answerable]
    old = [first_relevant_rank(old_rrf_ids(args.db, q.query), q.targets) for q in answerable]
    for split in ("tune", "heldout"):
        pick = [i for i, q in enumerate(answerable) if q.split == split]
        m_new, m_old = metrics([new[i] for i in pick]), metrics([old[i] for i in pick])
        rr = lambda ranks: [1 / r if r else 0.0 for r in ranks]  # noqa: E731
        p = paired_randomisation(rr([new[i] for i in pick]), rr([old[i] for i in pick]))
        print(
            f"{split:<8} fitted {m_new['hit@1']:.3f}/{m_new['hit@3']:.3f}/{m_new['mrr']:.3f}"
            f"  old RRF {m_old['hit@1']:.3f}/{m_old['hit@3']:.3f}/{m_old['mrr']:.3f}  paired p(MRR) = {p:.3f}"
        )


if __name__ == "__main__":
    main()
