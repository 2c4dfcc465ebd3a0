"""Warm query latency at 1k, 100k and 1M claims, beside a raw single-query encode; ANN recall at scale.

    .venv/bin/python benchmarks/bench_query.py [--sizes 1000 100000 1000000] [--repeat 2]

Each size is a synthetic KB (benchmarks/synthetic.py) searched through the
public API, search.search(), with the labelled evaluation queries. 1k uses
real embeddings; 100k and 1M use vectors derived from the real embeddings
of bench_build.py (benchmarks/out/base-10000.npy), because embedding 1M
texts on 2 cores takes hours. Databases are cached in benchmarks/out/.

Everything runs on one thread, as `kb serve` runs each request: torch
(set_num_threads(1), set_num_interop_threads(1)), FAISS (omp_set_num_threads(1)),
BLAS/OpenMP pools (threadpoolctl) and ONNX Runtime (intra/inter-op 1); the
counts are printed. Baselines, measured in the same run and interleaved with
the searches query by query (order rotated each query): raw sentence-transformers
model.encode() of one query, and the ONNX query encoder search uses.
"retrieval" is the search time minus that query's own fastest encode time
(FTS5 + FAISS + fusion + loading rows).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

import numpy as np
from common import OUT, cpu_summary, eval_queries, peak_rss_mb, percentiles, real_db, report, timed


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


def single_threaded() -> dict:
    """One thread for every native pool loaded by now (call it after torch, FAISS and numpy are imported)."""
    import faiss
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    torch.set_num_threads(1)
    if torch.get_num_interop_threads() != 1:  # settable once only, before torch's first parallel work
        torch.set_num_interop_threads(1)
    faiss.omp_set_num_threads(1)
    threadpool_limits(1)
    pools = {f"{p['internal_api']} ({Path(p['filepath']).name})": p["num_threads"] for p in threadpool_info()}
    return {"torch intra-op": torch.get_num_threads(), "torch inter-op": torch.get_num_interop_threads(), **pools}


MODES = ("hybrid", "semantic", "keyword")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import search
    from search.index import load_index
    from search.keyword import analyse
    from search.model import load_sentence_transformer, resolve_model

    queries = eval_queries()
    st_model = load_sentence_transformer(resolve_model(None).location)
    threads = single_threaded()
    report("Threads", [(name, str(n)) for name, n in threads.items()])
    report("Machine", cpu_summary())

    for n in args.sizes:
        db = prepare(n)
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        index = load_index(conn, db)
        encoder = index.encoder()  # the ONNX export beside the index: what search.search() embeds with
        tasks = {
            "raw sentence-transformers encode": lambda q: st_model.encode([q], show_progress_bar=False),
            "ONNX query encoder (search's)": lambda q, encoder=encoder: encoder.encode([q]),
        }
        tasks.update({mode: (lambda q, mode=mode, db=db: search.search(db, q, k=10, mode=mode)) for mode in MODES})
        for q in queries[:5]:  # load the index, warm caches
            for task in tasks.values():
                task(q)
        if n == args.sizes[0]:
            # FAISS and ONNX Runtime are loaded now: hold any pool they brought to one thread as well.
            report("Threads after loading the index", [(k, str(v)) for k, v in single_threaded().items()])
        times = {name: [] for name in tasks}
        fastest_encode: dict[str, float] = {}
        names = list(tasks)
        for r in range(args.repeat):
            for i, q in enumerate(queries):
                start = (i + r) % len(names)
                for name in names[start:] + names[:start]:
                    seconds, _ = timed(tasks[name], q)
                    times[name].append((q, seconds))
                    if name == "ONNX query encoder (search's)":
                        fastest_encode[q] = min(fastest_encode.get(q, 1e9), seconds)
        p = {name: percentiles([s for _, s in samples]) for name, samples in times.items()}
        raw = p["raw sentence-transformers encode"]["p50"]
        onnx = p["ONNX query encoder (search's)"]["p50"]
        rows = [
            (name, f"p50 {p[name]['p50']:7.2f} ms  p95 {p[name]['p95']:7.2f} ms")
            for name in ("raw sentence-transformers encode", "ONNX query encoder (search's)")
        ]
        for mode in MODES:
            retrieval = percentiles(
                [max(0.0, s - (fastest_encode[q] if mode != "keyword" else 0.0)) for q, s in times[mode]]
            )
            rows.append(
                (
                    mode,
                    f"p50 {p[mode]['p50']:7.2f} ms  p95 {p[mode]['p95']:7.2f} ms  "
                    f"({p[mode]['p50'] / raw:.2f}x raw encode, {p[mode]['p50'] / onnx:.2f}x ONNX encode)  "
                    f"retrieval p50 {retrieval['p50']:6.2f} ms  p95 {retrieval['p95']:6.2f} ms",
                )
            )
        # Each mode alone, back to back, as a server that only searches runs it: interleaved above, the
        # sentence-transformers baseline evicts the ONNX weights (~42 MB) from the CPU caches between queries
        # (benchmarks/bench_encoder.py measures the same gap for the encoder alone).
        for mode in MODES:
            alone = percentiles([timed(tasks[mode], q)[0] for _ in range(args.repeat) for q in queries])
            rows.append((f"{mode}, alone back to back", f"p50 {alone['p50']:7.2f} ms  p95 {alone['p95']:7.2f} ms"))
        # Hybrid skips words over its postings budget; on the small synthetic vocabulary at 1M that can be
        # every word, and then hybrid is the vectors alone: say how often, so its latency reads right.
        with_keywords = sum(1 for q in queries if analyse(conn, q, always=False).expression is not None)
        rows.append(("hybrid queries with keyword work", f"{with_keywords} of {len(queries)}"))
        rows.append(("index", f"{index.fingerprint['index_type']}, {index.count:,} vectors"))
        if index.fingerprint["index_type"] != "flat":
            vectors = encoder.encode(queries)
            rows.append(("recall@10 vs exact", f"{ann_recall(conn, index, vectors):.3f}"))
            lat = []
            for _ in range(args.repeat):
                for v in vectors:
                    lat.append(timed(index.query, v, 10)[0])
            lat_p = percentiles(lat)
            rows.append(("vector search only", f"p50 {lat_p['p50']:.2f} ms  p95 {lat_p['p95']:.2f} ms"))
        rows.append(("peak RSS so far", f"{peak_rss_mb():,.0f} MB"))
        report(f"Warm query latency, {n:,} claims (k=10, {len(queries)} queries x {args.repeat}, interleaved)", rows)


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
