"""Where exact search stops being good enough: IndexFlatIP vs HNSW vs IVF by collection size.

    .venv/bin/python benchmarks/bench_index.py [--sizes 10000 25000 50000 100000]

Vectors are derived from real MiniLM embeddings (benchmarks/synthetic.py,
needs benchmarks/out/base-10000.npy from bench_build.py); queries are the
labelled evaluation queries embedded for real. For each size: single-query
search latency p50 (k=10, warm), build time, and recall@10 against exact.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import OUT, eval_queries, percentiles, report


def latency(index, queries, k=10, repeat=3):
    samples = []
    for _ in range(repeat):
        for q in queries:
            start = time.perf_counter()
            index.search(q.reshape(1, -1), k)
            samples.append(time.perf_counter() - start)
    return percentiles(samples)


def recall(index, queries, exact_ids, k=10):
    _, ids = index.search(queries, k)
    return float(np.mean([len(set(a) & set(e)) / k for a, e in zip(ids, exact_ids)]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 25_000, 50_000, 100_000])
    parser.add_argument("--types", nargs="+", default=["flat", "hnsw", "ivf"])
    args = parser.parse_args()

    from synthetic import derived_vectors

    from search.index import build_index
    from search.model import query_encoder, resolve_model

    base = np.load(OUT / "base-10000.npy")
    queries = query_encoder(resolve_model(None).location).encode(eval_queries())
    rows = []
    for n in args.sizes:
        data = derived_vectors(base, n, seed=n)
        exact = build_index(data, "flat")
        _, exact_ids = exact.search(queries, 10)
        for kind in args.types:
            start = time.perf_counter()
            index = exact if kind == "flat" else build_index(data, kind)
            built = time.perf_counter() - start
            lat = latency(index, queries)
            rows.append(
                (
                    f"{n:>9,} {kind:<5}",
                    f"p50 {lat['p50']:6.2f} ms  p95 {lat['p95']:6.2f} ms  "
                    f"recall@10 {recall(index, queries, exact_ids):.3f}  build {built:6.1f} s",
                )
            )
            print(rows[-1][0], rows[-1][1], flush=True)
    report("Index type by size (single query, k=10, 2 cores)", rows)


if __name__ == "__main__":
    main()
