"""The 10M-claim tier: IVF-PQ with an in-RAM SQ8 re-rank against an exact flat scan of the same vectors.

    nice -n 10 .venv/bin/python benchmarks/bench_ivfpq.py            # 10,000,000 vectors (15 GB file)
    nice -n 10 .venv/bin/python benchmarks/bench_ivfpq.py --quick    # 1,000,000
    ... --n 3000000 --nprobe 32 64 128 --baseline-queries 10 --rebuild

Vectors are derived from real MiniLM embeddings (benchmarks/synthetic.py,
benchmarks/out/base-10000.npy from bench_build.py) and written once to a raw
float32 file, benchmarks/out/ivfpq-<N>.f32. It stands in for the claim_embeddings
BLOBs: the build reads it in chunks and the re-rank reads its top candidates'
rows (os.pread, as the KB reads BLOBs by rowid), so the peak RSS printed is the
index (PQ codes plus the SQ8 re-rank copy) and its working memory, not the stored
vectors. Queries are ~200 real embeddings (the labelled evaluation queries and
real claims) plus noise; the ground truth is an exact IndexFlatIP scan over the
file in chunks.

Search runs through search.index.VectorIndex.query (the same candidate search,
SQ8 re-rank of the top IVFPQ_RERANK and exact re-score of the final k from the
stored vectors as `kb search`) on one thread. Before each measured row the
vector file is dropped from the page cache (posix_fadvise DONTNEED, this file
only; --warm skips it), so the k reads per query are cold, as at 10M where the
file does not fit in RAM beside the index. Also measured: the SQ8 re-rank
without the exact re-score (and how far its scores are from the exact ones),
PQ scores alone, and the previous scheme (the top 200 re-scored from the
stored vectors: 200 reads per query). Baseline, same run, same queries,
one thread: an exact scan of the stored vectors (streamed from the page cache in
chunks, since 15 GB cannot sit in RAM beside everything else). The built index
is cached (benchmarks/out/ivfpq-<N>.faiss) so --queries-only re-measures latency.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from common import OUT, eval_queries, peak_rss_mb, percentiles, real_db, report

CHUNK = 100_000


class StoredVectors:
    """A raw (n, d) float32 file read with pread: slices and row lists, never mapped into this process."""

    def __init__(self, path, dimension: int):
        self.path = path
        self.fd = os.open(path, os.O_RDONLY)
        self.row_bytes = dimension * 4
        self.shape = (os.fstat(self.fd).st_size // self.row_bytes, dimension)

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, slice):
            start, stop, _ = key.indices(self.shape[0])
            data = os.pread(self.fd, (stop - start) * self.row_bytes, start * self.row_bytes)
            return np.frombuffer(data, dtype="<f4").reshape(-1, self.shape[1])
        return self.rows(np.asarray(key))

    def rows(self, positions: np.ndarray) -> np.ndarray:
        size = self.row_bytes
        data = b"".join(os.pread(self.fd, size, int(p) * size) for p in positions)
        return np.frombuffer(data, dtype="<f4").reshape(len(positions), self.shape[1])

    def chunks(self, chunk: int = CHUNK):
        for start in range(0, self.shape[0], chunk):
            yield start, self[start : start + chunk]

    def evict(self) -> None:
        """Drop this file's pages from the page cache, so the next reads go to the disk."""
        os.posix_fadvise(self.fd, 0, 0, os.POSIX_FADV_DONTNEED)


def reset_peak_rss() -> bool:
    """Start ru_maxrss afresh (Linux clear_refs 5), so preparing vectors and ground truth is not counted."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def rss_now_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def prepare_vectors(n: int, base: np.ndarray) -> tuple[StoredVectors, float]:
    from synthetic import write_derived_vectors

    path = OUT / f"ivfpq-{n}.f32"
    if not (path.exists() and path.stat().st_size == n * base.shape[1] * 4):
        start = time.perf_counter()
        write_derived_vectors(path, base, n, seed=n)
        print(f"[{n:,}] derived vectors written to {path} in {time.perf_counter() - start:.0f} s", flush=True)
    return StoredVectors(path, base.shape[1]), path.stat().st_size / 2**30


def query_vectors(base: np.ndarray, count: int) -> np.ndarray:
    """Real embeddings perturbed: the labelled evaluation queries (encoded for real) and real claims."""
    from synthetic import perturbed_queries

    from ingest.db import connect
    from search.index import load_index

    db = real_db()
    encoder = load_index(connect(db), db).encoder()
    labelled = encoder.encode(eval_queries())
    half = count // 2
    return np.vstack([perturbed_queries(labelled, half, seed=1), perturbed_queries(base, count - half, seed=2)])


def ground_truth(vectors: StoredVectors, queries: np.ndarray, k: int = 10) -> np.ndarray:
    """Exact top-k ids: IndexFlatIP over each chunk of the stored vectors, merged (cached per N)."""
    import faiss

    path = OUT / f"ivfpq-{vectors.shape[0]}-truth.npz"
    if path.exists():
        cached = np.load(path)
        if np.array_equal(cached["queries"], queries):
            return cached["ids"]
    start = time.perf_counter()
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.full((len(queries), k), -1, dtype=np.int64)
    for offset, chunk in vectors.chunks(4 * CHUNK):
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(chunk)
        s, i = flat.search(queries, k)
        scores, ids = np.hstack([best_s, s]), np.hstack([best_i, i + offset])
        order = np.argsort(-scores, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(scores, order, 1), np.take_along_axis(ids, order, 1)
    np.savez(path, queries=queries, ids=best_i)
    print(f"[{vectors.shape[0]:,}] ground truth in {time.perf_counter() - start:.0f} s", flush=True)
    return best_i


def build_or_load(vectors: StoredVectors, rebuild: bool) -> tuple[object, dict]:
    """The ivfpq index exactly as search.index builds it, timed by phase; cached with its timings."""
    import faiss

    from search.index import add_in_chunks, ivfpq_factory, new_ivfpq, train_ivfpq, tune_ivfpq

    n, d = vectors.shape
    path, meta_path = OUT / f"ivfpq-{n}.faiss", OUT / f"ivfpq-{n}.faiss.json"
    spec = ivfpq_factory(n, d)
    if not rebuild and path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("spec") == spec:
            start = time.perf_counter()
            index = faiss.read_index(str(path))
            tune_ivfpq(index)
            meta["cached"] = f"read from {path.name} in {time.perf_counter() - start:.1f} s"
            return index, meta
    index = new_ivfpq(n, d)
    start = time.perf_counter()
    train_ivfpq(index, vectors)
    trained = time.perf_counter()
    meta = {"spec": spec, "train_s": trained - start, "rss_after_train_mb": rss_now_mb()}
    print(f"[{n:,}] {spec}: trained in {meta['train_s']:.0f} s", flush=True)
    add_in_chunks(index, vectors)
    tune_ivfpq(index)
    meta.update(add_s=time.perf_counter() - trained, rss_after_add_mb=rss_now_mb(), peak_rss_build_mb=peak_rss_mb())
    print(f"[{n:,}] added in {meta['add_s']:.0f} s", flush=True)
    faiss.write_index(index, str(path))
    meta["index_bytes"] = path.stat().st_size
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return index, meta


def file_backed(index, vectors: StoredVectors, n: int):
    """A VectorIndex whose re-rank reads the stored-vector file instead of claim_embeddings."""
    from search.index import VectorIndex, make_fingerprint

    class FileBacked(VectorIndex):
        def stored_vectors(self, positions, conn=None):
            return vectors.rows(positions)

    fingerprint = make_fingerprint("bench", vectors.shape[1], [], "ivfpq")
    # range(n) for claim ids: position i is claim i, without 10M Python strings in the RSS figure.
    return FileBacked(index, range(n), fingerprint, str(vectors.path))


def measure(search, queries, truth, k: int = 10, warm: int = 20) -> tuple[dict, float]:
    for q in queries[:warm]:
        search(q)
    samples, hits = [], []
    for q, exact in zip(queries, truth):
        start = time.perf_counter()
        found = search(q)
        samples.append(time.perf_counter() - start)
        hits.append(len(set(found[:k]) & set(exact.tolist())) / k)
    return percentiles(samples), float(np.mean(hits))


def flat_scan(vectors: StoredVectors, query: np.ndarray, k: int = 10) -> list[int]:
    """The baseline: an exact scan of every stored vector (one thread: faiss.omp_set_num_threads(1))."""
    import faiss

    best_s, best_i = [], []
    for offset, chunk in vectors.chunks():
        s, i = faiss.knn(query.reshape(1, -1), chunk, k, metric=faiss.METRIC_INNER_PRODUCT)
        best_s.append(s[0])
        best_i.append(i[0] + offset)
    scores, ids = np.concatenate(best_s), np.concatenate(best_i)
    return ids[np.argsort(-scores)[:k]].tolist()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--quick", action="store_true", help="1,000,000 vectors")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--baseline-queries", type=int, default=20, help="queries for the exact scan (slow at 10M)")
    parser.add_argument("--nprobe", type=int, nargs="*", default=[], help="also measure these nprobe values")
    parser.add_argument("--rerank", type=int, nargs="*", default=[], help="also measure these re-rank depths")
    parser.add_argument("--rebuild", action="store_true", help="ignore the cached index")
    parser.add_argument("--keep-vectors", action="store_true", help="keep the vector file (15 GB at 10M)")
    parser.add_argument(
        "--rescore", type=int, nargs="*", default=[1], help="also measure these IVFPQ_RESCORE_FACTOR values"
    )
    parser.add_argument("--warm", action="store_true", help="leave the vector file in the page cache")
    args = parser.parse_args()
    n = 1_000_000 if args.quick else args.n

    import faiss

    import search.index
    from search.index import IVFPQ_RERANK, IVFPQ_RESCORE_FACTOR, ivfpq_base, ivfpq_nprobe, tune_ivfpq

    base = np.load(OUT / "base-10000.npy")
    vectors, gib = prepare_vectors(n, base)
    queries = query_vectors(base, args.queries)
    truth = ground_truth(vectors, queries)
    rss_before_index = rss_now_mb()
    peak_reset = reset_peak_rss()
    index, meta = build_or_load(vectors, args.rebuild)
    ivf = faiss.extract_index_ivf(index)
    default_nprobe = ivfpq_nprobe(ivf.nlist)

    faiss.omp_set_num_threads(1)
    searcher = file_backed(index, vectors, n)
    base_index = ivfpq_base(index)
    cold = not args.warm
    rows, results = [], {}

    def row(label: str, lat: dict, recall: float, note: str = "") -> None:
        rows.append((label, f"recall@10 {recall:.3f}  p50 {lat['p50']:6.2f} ms  p95 {lat['p95']:6.2f} ms{note}"))
        print(rows[-1][0], rows[-1][1], flush=True)

    default = (default_nprobe, IVFPQ_RERANK, IVFPQ_RESCORE_FACTOR)
    for factor in sorted({IVFPQ_RESCORE_FACTOR, *args.rescore}):
        search.index.IVFPQ_RESCORE_FACTOR = factor  # VectorIndex.query reads both per call
        for depth in sorted({IVFPQ_RERANK, *args.rerank}):
            search.index.IVFPQ_RERANK = depth
            for nprobe in sorted({default_nprobe, *args.nprobe}):
                tune_ivfpq(index, nprobe)
                if cold:
                    vectors.evict()
                lat, recall = measure(lambda q: [p for p, _ in searcher.query(q, 10)], queries, truth)
                results[nprobe, depth, factor] = (lat, recall)
                mark = "  <- default" if (nprobe, depth, factor) == default else ""
                label = f"nprobe {nprobe:>4} + SQ8 re-rank {depth} + exact {10 * factor}"
                row(label, lat, recall, mark)
    search.index.IVFPQ_RERANK = IVFPQ_RERANK
    search.index.IVFPQ_RESCORE_FACTOR = IVFPQ_RESCORE_FACTOR
    tune_ivfpq(index, default_nprobe)

    def candidates(q: np.ndarray) -> np.ndarray:
        positions = base_index.search(q.reshape(1, -1), IVFPQ_RERANK)[1][0]
        return positions[positions >= 0]

    # How far SQ8's scores of the chosen 10 are from their exact cosines (untimed: it reads the rows).
    errors = []
    for q in queries:
        chosen, approx = searcher.refine_candidates(q, candidates(q), 10)
        errors.append(np.abs(approx - vectors.rows(chosen) @ q))
    error = np.concatenate(errors)
    sq_lat, sq_recall = measure(lambda q: searcher.refine_candidates(q, candidates(q), 10)[0].tolist(), queries, truth)
    row(
        f"nprobe {default_nprobe:>4} + SQ8 re-rank {IVFPQ_RERANK}, no exact re-score",
        sq_lat,
        sq_recall,
        f"  (|SQ8 - exact| score: max {error.max():.1e}, p99 {np.quantile(error, 0.99):.1e})",
    )
    pq_lat, pq_recall = measure(lambda q: base_index.search(q.reshape(1, -1), 10)[1][0].tolist(), queries, truth)
    row(f"nprobe {default_nprobe:>4}, PQ scores only", pq_lat, pq_recall, "  (no re-rank)")
    peak_queries = peak_rss_mb()

    def stored_rerank(q: np.ndarray) -> list[int]:
        positions = candidates(q)
        scores = vectors.rows(positions) @ q
        return positions[np.argsort(-scores)[:10]].tolist()

    if cold:
        vectors.evict()
    old_lat, old_recall = measure(stored_rerank, queries, truth)
    row(
        f"nprobe {default_nprobe:>4} + re-rank {IVFPQ_RERANK} from stored vectors",
        old_lat,
        old_recall,
        "  (the previous scheme: 200 reads per query)",
    )

    flat_lat, flat_recall = measure(lambda q: flat_scan(vectors, q), queries[: args.baseline_queries], truth, warm=2)
    lat = results[default][0]
    rows.append(
        (
            "baseline: exact flat scan",
            f"recall@10 {flat_recall:.3f}  p50 {flat_lat['p50']:6.1f} ms  p95 {flat_lat['p95']:6.1f} ms  "
            f"({flat_lat['n']} queries)",
        )
    )
    rows.append(
        (
            "ratio ivfpq / flat",
            f"p50 {lat['p50'] / flat_lat['p50']:.4f}x  p95 {lat['p95'] / flat_lat['p95']:.4f}x",
        )
    )
    built = meta.get("cached") or f"train {meta['train_s']:.0f} s + add {meta['add_s']:.0f} s"
    summary = [
        ("vectors", f"{n:,} x {vectors.shape[1]} float32, {gib:.1f} GiB file (stands in for claim_embeddings)"),
        (
            "index",
            f"{meta['spec']}, nlist {ivf.nlist}, nprobe {default_nprobe}, SQ8 re-rank top {IVFPQ_RERANK}, "
            f"exact re-score of SQ8's best {10 * IVFPQ_RESCORE_FACTOR} ({'cold' if cold else 'warm'} page cache)",
        ),
        ("build", f"{built}; training sample {min(n, max(39 * ivf.nlist, 64 * 256)):,} vectors"),
        ("index on disk", f"{meta['index_bytes'] / 2**20:,.0f} MB"),
        ("RSS before the index", f"{rss_before_index:,.0f} MB (queries, ground truth, Python, faiss)"),
        ("peak RSS counted from", "here (clear_refs)" if peak_reset else "process start (clear_refs refused)"),
    ]
    if "peak_rss_build_mb" in meta:
        summary += [
            ("RSS after train / add", f"{meta['rss_after_train_mb']:,.0f} / {meta['rss_after_add_mb']:,.0f} MB"),
            ("peak RSS, build", f"{meta['peak_rss_build_mb']:,.0f} MB (ru_maxrss)"),
        ]
    # A cached index was read, not built, in this process: its peak is what a server holds.
    phases = "load + queries" if "cached" in meta else "build + queries"
    summary.append((f"peak RSS, {phases}", f"{peak_queries:,.0f} MB (ru_maxrss; stored vectors not mapped)"))
    report(f"IVF-PQ tier, {n:,} vectors derived from real embeddings (one thread per query)", summary)
    report(f"Vector search, {len(queries)} queries, k=10, ground truth exact IndexFlatIP", rows)
    if not args.keep_vectors and n >= 5_000_000:
        vectors.path.unlink()
        print(f"removed {vectors.path} (--keep-vectors keeps it)")


if __name__ == "__main__":
    main()
