"""Warm query latency at 1k, 100k and 1M claims, beside a raw single-query encode; ANN recall at scale.

    .venv/bin/python benchmarks/bench_query.py [--sizes 1000 100000 1000000]

Each size is a synthetic KB (benchmarks/synthetic.py) searched through the
public API, search.search(), with the labelled evaluation queries. 1k uses
real embeddings; 100k and 1M use vectors derived from the real embeddings
of bench_build.py (benchmarks/out/base-10000.npy), because embedding 1M
texts on 2 cores takes hours. Baseline, measured in the same run: raw
sentence-transformers model.encode() of one query. "retrieval" is the search
time minus the query's own encode time (FTS5 + FAISS + fusion + loading rows).
Databases are cached in benchmarks/out/ between runs.
"""

from __future__ import annotations

import argparse
import json
import sqlite3

import numpy as np
from common import OUT, eval_queries, peak_rss_mb, percentiles, real_db, report, timed


def prepare(n: int) -> str:
    from synthetic import derive_embeddings, make_database

    from search.artifacts import build_search_artifacts

    db = OUT / f"q-{n}.db"
    fingerprint = OUT / f"q-{n}.db.faiss.json"
    if fingerprint.exists() and json.loads(fingerprint.read_text())["count"] == n:
        return str(db)
    seconds, _ = timed(make_database, db, n, real_db())
    print(f"[{n:,}] synthetic KB written in {seconds:.0f} s", flush=True)
    if n > 10_000:
        seconds, _ = timed(derive_embeddings, db, np.load(OUT / "base-10000.npy"))
        print(f"[{n:,}] derived vectors written in {seconds:.0f} s", flush=True)
    seconds, stats = timed(build_search_artifacts, db, str(db) + ".faiss", progress=False)
    print(f"[{n:,}] search artifacts in {seconds:.0f} s: {stats}", flush=True)
    return str(db)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import search
    from search.index import load_index
    from search.model import load_sentence_transformer, query_encoder, resolve_model

    queries = eval_queries()
    spec = resolve_model(None)
    st_model = load_sentence_transformer(spec.location)
    encoder = query_encoder(spec.location)
    for q in queries[:5]:
        st_model.encode([q]), encoder.encode([q])

    raw, ours = [], {}
    for _ in range(args.repeat):
        for q in queries:
            raw.append(timed(st_model.encode, [q], show_progress_bar=False)[0])
            ours[q] = min(ours.get(q, 1e9), timed(encoder.encode, [q])[0])
    raw_p = percentiles(raw)
    enc_p = percentiles(list(ours.values()))
    report(
        "Baselines (same run, one query at a time)",
        [
            ("raw sentence-transformers model.encode", f"p50 {raw_p['p50']:.1f} ms  p95 {raw_p['p95']:.1f} ms"),
            ("query encoder used by search (NumPy)", f"p50 {enc_p['p50']:.1f} ms  p95 {enc_p['p95']:.1f} ms"),
        ],
    )

    for n in args.sizes:
        db = prepare(n)
        rows = []
        for mode in ("hybrid", "semantic", "keyword"):
            search.search(db, queries[0], k=10, mode=mode)  # load index, warm caches
            total, retrieval = [], []
            for _ in range(args.repeat):
                for q in queries:
                    seconds, _ = timed(search.search, db, q, k=10, mode=mode)
                    total.append(seconds)
                    retrieval.append(max(0.0, seconds - (ours[q] if mode != "keyword" else 0.0)))
            t, r = percentiles(total), percentiles(retrieval)
            ratio = t["p50"] / raw_p["p50"]
            rows.append(
                (
                    f"{mode}",
                    f"p50 {t['p50']:7.1f} ms  p95 {t['p95']:7.1f} ms  ({ratio:.2f}x raw encode)  "
                    f"retrieval p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms",
                )
            )
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        index = load_index(conn, db)
        rows.append(("index", f"{index.fingerprint['index_type']}, {index.count:,} vectors"))
        if index.fingerprint["index_type"] != "flat":
            rows.append(("recall@10 vs exact", f"{ann_recall(conn, index, encoder.encode(queries)):.3f}"))
            vectors = encoder.encode(queries)
            lat = []
            for _ in range(args.repeat):
                for v in vectors:
                    lat.append(timed(index.query, v, 10)[0])
            p = percentiles(lat)
            rows.append(("vector search only", f"p50 {p['p50']:.2f} ms  p95 {p['p95']:.2f} ms"))
        rows.append(("peak RSS so far", f"{peak_rss_mb():,.0f} MB"))
        report(f"Warm query latency, {n:,} claims (k=10, {len(queries)} queries x {args.repeat})", rows)


def ann_recall(conn, index, vectors, k=10) -> float:
    from search import embeddings as emb

    _, matrix = emb.read_matrix(conn, index.model)
    hits = []
    for v in vectors:
        exact = {index.claim_ids[i] for i in np.argpartition(-(matrix @ v), k)[:k]}
        hits.append(len(exact & {cid for cid, _ in index.query(v, k)}) / k)
    return float(np.mean(hits))


if __name__ == "__main__":
    main()
