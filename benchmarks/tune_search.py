"""Grid-search the search settings on the `tune` split; report the `heldout` split beside them.

    .venv/bin/python benchmarks/tune_search.py --db build/kb.db

Compares embedded-text recipes (search/text.py), FTS query styles and column
weights (search/keyword.py) and RRF weights and constant (search/fusion.py).
Rankings are computed once per setting and fused in Python, so the whole grid
takes seconds. Choose on `tune` only; `heldout` is there to show overfitting.
"""

from __future__ import annotations

import argparse
import itertools
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from search.model import use_offline_hub  # noqa: E402

use_offline_hub()

import numpy as np  # noqa: E402

from search.artifacts import claim_texts  # noqa: E402
from search.evaluate import first_relevant_rank, load_queries, metrics  # noqa: E402
from search.fusion import reciprocal_rank_fusion  # noqa: E402
from search.keyword import keyword_search, vocabulary_overlap  # noqa: E402
from search.model import encode_for_index, resolve_model  # noqa: E402
from search.text import RECIPES  # noqa: E402

COLUMN_WEIGHT_SETS = {
    "flat": {},
    "statement4-keywords3": {"statement": 4.0, "keywords": 3.0, "context": 1.5, "items_text": 1.0, "quote": 0.5},
    "keywords-heavy": {"statement": 2.0, "keywords": 4.0, "context": 1.0, "items_text": 1.0, "quote": 0.25},
    "statement-heavy": {"statement": 6.0, "keywords": 2.0, "context": 1.0, "items_text": 1.0, "quote": 0.5},
}


def score(rankings: list[list[str]], queries) -> dict:
    ranks = [first_relevant_rank(r[:10], q.targets) for r, q in zip(rankings, queries)]
    out = {"all": metrics(ranks)}
    for split in ("tune", "heldout"):
        out[split] = metrics([r for r, q in zip(ranks, queries) if q.split == split])
    return out


def fmt(m: dict) -> str:
    return f"{m['hit@1']:.3f} {m['hit@3']:.3f} {m['mrr']:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="build/kb.db")
    parser.add_argument("--queries", default=None)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--recipes", nargs="*", default=None, help="Only these embedded-text recipes.")
    parser.add_argument(
        "--show",
        nargs=5,
        default=None,
        metavar=("RECIPE", "KW", "K", "W", "SCALED"),
        help="Also print one configuration's scores.",
    )
    args = parser.parse_args()
    queries = load_queries(args.queries)
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    spec = resolve_model(None)
    qvecs = encode_for_index(spec.location, [q.query for q in queries])

    semantic = {}
    for recipe in RECIPES:
        texts = claim_texts(conn, recipe)
        ids = list(texts)
        cvecs = encode_for_index(spec.location, [texts[i] for i in ids])
        sims = qvecs @ cvecs.T
        semantic[recipe] = [[ids[j] for j in np.argsort(-row, kind="stable")[:100]] for row in sims]
    keyword = {}
    for style, (wname, weights) in itertools.product(("or", "prefix"), COLUMN_WEIGHT_SETS.items()):
        keyword[(style, wname)] = [
            [h[0] for h in keyword_search(conn, q.query, 100, style=style, column_weights=weights or {"_": 1})]
            for q in queries
        ]

    print("semantic only (hit@1 hit@3 MRR): tune | heldout")
    for recipe, rankings in semantic.items():
        s = score(rankings, queries)
        print(f"  {recipe:<34} {fmt(s['tune'])} | {fmt(s['heldout'])}")
    print("keyword only:")
    for key, rankings in keyword.items():
        s = score(rankings, queries)
        print(f"  {'/'.join(key):<34} {fmt(s['tune'])} | {fmt(s['heldout'])}")

    overlap = [vocabulary_overlap(conn, q.query) for q in queries]
    recipes = [r for r in semantic if r in (args.recipes or semantic)]
    rows = []
    grid = itertools.product(recipes, keyword, (5, 10, 20, 60), (0.2, 0.3, 0.5, 0.7, 1.0), (False, True))
    for recipe, kw_key, rrf_k, w_kw, scaled in grid:
        fused = [
            [
                c
                for c, _, _ in reciprocal_rank_fusion(
                    {"keyword": kw, "semantic": sem},
                    {"keyword": w_kw * (ov if scaled else 1.0), "semantic": 1.0},
                    rrf_k,
                )
            ]
            for kw, sem, ov in zip(keyword[kw_key], semantic[recipe], overlap)
        ]
        s = score(fused, queries)
        t = s["tune"]
        rows.append(((t["hit@3"], t["mrr"], t["hit@1"]), recipe, kw_key, rrf_k, w_kw, scaled, s))
    rows.sort(key=lambda r: r[0], reverse=True)
    print(f"\nhybrid, best {args.top} on tune (hit@1 hit@3 MRR): tune | heldout")
    for _, recipe, kw_key, rrf_k, w_kw, scaled, s in rows[: args.top]:
        print(
            f"  {recipe:<30} {'/'.join(kw_key):<27} k={rrf_k:<3} w_kw={w_kw:<4} overlap={'yes' if scaled else 'no ':<3} "
            f"{fmt(s['tune'])} | {fmt(s['heldout'])}"
        )
    if args.show:
        for _, recipe, kw_key, rrf_k, w_kw, scaled, s in rows:
            if [recipe, "/".join(kw_key), str(rrf_k), str(w_kw), str(scaled)] == args.show:
                print("chosen:", fmt(s["tune"]), "|", fmt(s["heldout"]), "| all", fmt(s["all"]))


if __name__ == "__main__":
    main()
