"""Query encoding on one thread: ONNX Runtime (what search uses) vs the NumPy BERT and sentence-transformers.

    .venv/bin/python benchmarks/bench_encoder.py [--rounds 5]

Encoders: the fused ONNX export search uses (search/onnx_encoder.py); the traced,
unfused export it is made from (what the fusion wins); the NumPy BERT
(benchmarks/numpy_bert.py, the encoder search used before); sentence-transformers
on torch. Every one runs on one thread: torch.set_num_threads(1) and
set_num_interop_threads(1), threadpoolctl holding BLAS and OpenMP to one thread,
ONNX Runtime with intra- and inter-op threads 1; the thread counts are printed.

They are timed interleaved in the same run, two ways. The headline takes turns
of 10 queries: each encoder runs 10 labelled queries, then the next, the order
rotated each turn, so every encoder's weights are warm through its turn (as in a
server, which runs one encoder only) and a turn is short enough (~10-130 ms) for
drift in the machine's load to fall on all alike. Query by query (every encoder
in turn on each query) shows the cold-cache case: each starts on caches the
others filled. A round is every labelled query once; each round gives p50/p95
and the ratio to the NumPy BERT's p50, and the figures reported are the medians
over rounds (the machine is shared, so any one round is noisy). Also prints the
largest 1 - cosine against sentence-transformers, every encoder timed alone back to back
(weights left in the CPU caches), and where search's encoder spends
its time (tokenizer, session.run, pooling), timed apart on the same queries.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np
from common import cpu_summary, eval_queries, percentiles, report, timed


def single_threaded() -> dict:
    """Hold every library this process loads to one thread; returns what each now uses."""
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    torch.set_num_threads(1)
    if torch.get_num_interop_threads() != 1:  # settable once only, before torch's first parallel work
        torch.set_num_interop_threads(1)
    threadpool_limits(1)
    pools = {f"{p['internal_api']} ({Path(p['filepath']).name})": p["num_threads"] for p in threadpool_info()}
    return {"torch intra-op": torch.get_num_threads(), "torch inter-op": torch.get_num_interop_threads(), **pools}


def make_encoders(workdir: Path) -> dict:
    from numpy_bert import NumpyBertEncoder

    from search.model import DEFAULT_MODEL_ID, default_model_path, load_sentence_transformer
    from search.onnx_encoder import (
        OnnxQueryEncoder,
        _trace,
        encoder_for_index,
        ensure_export,
        export_fingerprint,
        onnx_path_for,
    )

    path = default_model_path()
    db = workdir / "kb.db"
    ensure_export(DEFAULT_MODEL_ID, path, 384, onnx_path_for(db))
    traced = workdir / "traced.onnx"
    _trace(path, traced)
    fingerprint = export_fingerprint(DEFAULT_MODEL_ID, path, 384)
    model = load_sentence_transformer(path)
    return {
        "onnx (fused, search's)": encoder_for_index(db, DEFAULT_MODEL_ID, 384, path).encode,
        "onnx (traced, unfused)": OnnxQueryEncoder(traced, path, fingerprint).encode,
        "numpy BERT": NumpyBertEncoder(path).encode,
        "sentence-transformers": lambda texts: model.encode(texts, normalize_embeddings=True, show_progress_bar=False),
    }


def run_round(encoders: dict, queries: list[str], offset: int, block: int = 1) -> dict[str, list[float]]:
    """Every query once through every encoder, taking turns every `block` queries (order rotated each turn).

    block=1 swaps encoder on every query, so each starts on caches the others filled; a larger block keeps
    an encoder's weights warm through its turn, as in a server that runs only one, while the turns stay short
    enough (~10-130 ms) that drift in the machine's load still falls on every encoder alike.
    """
    names = list(encoders)
    times = {name: [] for name in names}
    for turn, first in enumerate(range(0, len(queries), block)):
        chunk = queries[first : first + block]
        start = (turn + offset) % len(names)
        for name in names[start:] + names[:start]:
            times[name] += [timed(encoders[name], [q])[0] for q in chunk]
    return times


def interleaved(encoders: dict, queries: list[str], rounds: int, block: int, baseline: str) -> list[tuple[str, str]]:
    """Rows of p50/p95 (median over rounds) and the median ratio of p50 to the baseline's, per encoder."""
    per_round: dict[str, list[dict]] = {name: [] for name in encoders}
    for r in range(rounds):
        for name, samples in run_round(encoders, queries, r, block).items():
            per_round[name].append(percentiles(samples))
        print(
            f"blocks of {block}, round {r + 1}: "
            + "  ".join(
                f"{name} {per_round[name][-1]['p50']:.2f} ms "
                f"({per_round[name][-1]['p50'] / per_round[baseline][-1]['p50']:.2f}x)"
                for name in encoders
            ),
            flush=True,
        )
    rows = []
    for name, samples in per_round.items():
        p50 = statistics.median(p["p50"] for p in samples)
        p95 = statistics.median(p["p95"] for p in samples)
        ratio = statistics.median(p["p50"] / b["p50"] for p, b in zip(samples, per_round[baseline]))
        rows.append((name, f"p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  {ratio:.2f}x {baseline}"))
    return rows


# Queries per turn in the headline interleaving: long enough for an encoder's weights to settle in the CPU caches.
BLOCK = 10


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    threads = single_threaded()
    report("Threads", [(name, str(n)) for name, n in threads.items()])
    report("Machine", cpu_summary())
    encoders = make_encoders(Path(tempfile.mkdtemp()))
    baseline = "numpy BERT"
    queries = eval_queries()
    for q in queries[:10]:
        for enc in encoders.values():
            enc([q])
    for block in (BLOCK, 1):
        rows = interleaved(encoders, queries, args.rounds, block, baseline)
        how = "query by query" if block == 1 else f"in turns of {block} queries each"
        report(f"Query encoding, one thread, interleaved {how}: median of {args.rounds} rounds x {len(queries)}", rows)
    reference = np.asarray(encoders["sentence-transformers"](queries))
    report(
        "Largest 1 - cosine against sentence-transformers",
        [
            (name, f"{float(np.max(1 - (np.asarray(enc(queries)) * reference).sum(1))):.1e}")
            for name, enc in encoders.items()
        ],
    )
    # Back to back, each encoder's weights stay in the CPU caches: the gap to the interleaved p50 above is
    # the cost of reloading weights (~42 MB of float32 for MiniLM) that the other encoders' work evicted.
    alone = {name: percentiles([timed(enc, [q])[0] for q in queries * 2])["p50"] for name, enc in encoders.items()}
    report(
        "Each encoder alone, back to back (every query twice)",
        [(name, f"p50 {p50:6.2f} ms  {p50 / alone[baseline]:.2f}x {baseline}") for name, p50 in alone.items()],
    )
    report("Search's encoder alone, back to back: where a query's time goes (p50)", breakdown(encoders, queries))


def breakdown(encoders: dict, queries: list[str]) -> list[tuple[str, str]]:
    """Tokenizer, session.run and pooling of search's encoder, each timed alone on every query."""
    encoder = encoders["onnx (fused, search's)"].__self__
    parts: dict[str, list[float]] = {"tokenizer": [], "session.run": [], "pooling + normalise": [], "encode()": []}
    for q in queries:
        seconds, encoding = timed(encoder.tokenizer.encode, q)
        parts["tokenizer"].append(seconds)
        ids = np.array(encoding.ids, dtype=encoder._dtype)[None]
        feed = {name: buffer[:, : ids.shape[1]] for name, buffer in encoder._fixed.items()}
        feed["input_ids"] = ids
        seconds, out = timed(encoder.session.run, encoder._outputs, feed)
        parts["session.run"].append(seconds)
        hidden = out[0][0]
        parts["pooling + normalise"].append(timed(lambda h: h.mean(0) / np.linalg.norm(h.mean(0)), hidden)[0])
        parts["encode()"].append(timed(encoder.encode, [q])[0])
    return [(name, f"{percentiles(samples)['p50']:.3f} ms") for name, samples in parts.items()]


if __name__ == "__main__":
    main()
