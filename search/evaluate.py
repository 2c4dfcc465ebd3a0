"""Measure retrieval quality on the labelled queries in evidence/eval/queries.yaml.

Each query lists the claim id(s) that answer it; a query counts as a hit@k
when any of them is in the top k. MRR uses the first relevant rank within
the top 10 (0 beyond). Queries carry a split: `tune` queries were looked at
while choosing the embedded text, FTS query and fusion weights; `heldout`
queries were not, and estimate how the choices generalise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ingest.db import connect
from ingest.paths import eval_queries_path

from .retrieve import MODES, search

SPLITS = ("tune", "heldout")
MRR_DEPTH = 10


@dataclass
class LabelledQuery:
    query: str
    targets: list[str]
    split: str
    note: str | None = None


def default_queries_path() -> Path:
    return eval_queries_path()


def load_queries(path: str | os.PathLike | None = None) -> list[LabelledQuery]:
    import yaml

    path = Path(path) if path else default_queries_path()
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data["queries"] if isinstance(data, dict) else data
    queries = []
    for i, item in enumerate(items, 1):
        targets = item.get("targets") or item.get("target")
        targets = [targets] if isinstance(targets, str) else list(targets or [])
        split = item.get("split", "tune")
        if not item.get("query") or not targets or split not in SPLITS:
            raise ValueError(f"{path}: query #{i} needs `query`, `targets` and a split in {SPLITS}")
        queries.append(LabelledQuery(item["query"], targets, split, item.get("note")))
    return queries


def unknown_targets(db_path, queries: list[LabelledQuery]) -> list[str]:
    """Target ids that are not claims in the database (the eval set drifted from the claims)."""

    conn = connect(db_path)
    try:
        ids = {r[0] for r in conn.execute("select id from claims")}
    finally:
        conn.close()
    return sorted({t for q in queries for t in q.targets if t not in ids})


def first_relevant_rank(result_ids: list[str], targets: list[str]) -> int | None:
    for rank, claim_id in enumerate(result_ids, 1):
        if claim_id in targets:
            return rank
    return None


def metrics(ranks: list[int | None]) -> dict:
    n = len(ranks)
    if not n:
        return {"n": 0, "hit@1": 0.0, "hit@3": 0.0, "hit@10": 0.0, "mrr": 0.0}
    hit = lambda k: sum(1 for r in ranks if r is not None and r <= k) / n  # noqa: E731
    return {
        "n": n,
        "hit@1": hit(1),
        "hit@3": hit(3),
        "hit@10": hit(10),
        "mrr": sum(1 / r for r in ranks if r is not None and r <= MRR_DEPTH) / n,
    }


def evaluate(db_path, queries: list[LabelledQuery], modes=MODES, **search_options) -> dict:
    """{mode: {"all"|split: metrics, "ranks": [rank per query]}}."""
    report = {}
    for mode in modes:
        ranks = []
        for q in queries:
            ids = [r.id for r in search(db_path, q.query, k=MRR_DEPTH, mode=mode, **search_options)]
            ranks.append(first_relevant_rank(ids, q.targets))
        entry = {"all": metrics(ranks), "ranks": ranks}
        for split in SPLITS:
            entry[split] = metrics([r for r, q in zip(ranks, queries) if q.split == split])
        report[mode] = entry
    return report


def format_table(report: dict, splits=("all", *SPLITS)) -> str:
    lines = [f"{'mode':<9} {'split':<8} {'n':>3} {'hit@1':>6} {'hit@3':>6} {'MRR':>6}"]
    for mode, entry in report.items():
        for split in splits:
            m = entry[split]
            if m["n"]:
                lines.append(f"{mode:<9} {split:<8} {m['n']:>3} {m['hit@1']:>6.3f} {m['hit@3']:>6.3f} {m['mrr']:>6.3f}")
    return "\n".join(lines)


@dataclass
class UnanswerableQuery:
    query: str
    kind: str
    split: str


def load_unanswerable(path: str | os.PathLike | None = None) -> list[UnanswerableQuery]:
    """The questions the KB cannot answer (evidence/eval/unanswerable.yaml), for calibrating `match`."""
    import yaml

    path = Path(path) if path else default_queries_path().with_name("unanswerable.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for i, item in enumerate(data["questions"] if isinstance(data, dict) else data, 1):
        if not item.get("query") or item.get("split", "tune") not in SPLITS:
            raise ValueError(f"{path}: question #{i} needs `query` and a split in {SPLITS}")
        out.append(UnanswerableQuery(item["query"], item.get("kind", "off_topic"), item.get("split", "tune")))
    return out


def match_report(db_path, answerable: list[LabelledQuery], unanswerable: list[UnanswerableQuery]) -> dict:
    """Per split: share of unanswerable questions reported as no good match, and of answerable ones wrongly so."""
    report = {}
    flagged = {q.query: search(db_path, q.query, k=MRR_DEPTH).no_good_match for q in [*answerable, *unanswerable]}
    for split in ("all", *SPLITS):
        a = [flagged[q.query] for q in answerable if split in ("all", q.split)]
        u = [flagged[q.query] for q in unanswerable if split in ("all", q.split)]
        report[split] = {
            "answerable": len(a),
            "answerable_flagged": sum(a) / len(a) if a else 0.0,
            "unanswerable": len(u),
            "unanswerable_flagged": sum(u) / len(u) if u else 0.0,
        }
    return report
