"""Query encoding on one thread: ONNX Runtime (what search uses) vs the NumPy BERT and sentence-transformers.

    .venv/bin/python benchmarks/bench_encoder.py [--repeat 3]

All three run single-threaded (torch.set_num_threads(1), BLAS limited to one
thread, ORT intra_op_num_threads=1) and are timed interleaved, query by query,
in the same run; ratios compare those figures. Also prints 1 - cosine against
sentence-transformers.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from common import eval_queries, percentiles, report, timed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import torch
    from numpy_bert import NumpyBertEncoder
    from threadpoolctl import threadpool_limits

    from search.model import DEFAULT_MODEL_ID, default_model_path, load_sentence_transformer
    from search.onnx_encoder import encoder_for_index, ensure_export, onnx_path_for

    torch.set_num_threads(1)
    threadpool_limits(1)
    path = default_model_path()
    db = Path(tempfile.mkdtemp()) / "kb.db"
    ensure_export(DEFAULT_MODEL_ID, path, 384, onnx_path_for(db))
    encoders = {
        "onnx": encoder_for_index(db, DEFAULT_MODEL_ID, 384, path).encode,
        "numpy": NumpyBertEncoder(path).encode,
        "sentence-transformers": lambda t: load_sentence_transformer(path).encode(
            t, normalize_embeddings=True, show_progress_bar=False
        ),
    }
    queries = eval_queries()
    for q in queries[:5]:
        for enc in encoders.values():
            enc([q])
    times = {name: [] for name in encoders}
    for _ in range(args.repeat):
        for q in queries:
            for name, enc in encoders.items():
                times[name].append(timed(enc, [q])[0])
    ref = encoders["sentence-transformers"](queries)
    p = {name: percentiles(t) for name, t in times.items()}
    rows = []
    for name in encoders:
        gap = float(np.max(1 - (np.asarray(encoders[name](queries)) * ref).sum(1)))
        ratio = p[name]["p50"] / p["numpy"]["p50"]
        rows.append(
            (name, f"p50 {p[name]['p50']:.2f} ms  p95 {p[name]['p95']:.2f} ms  {ratio:.2f}x numpy  max 1-cos {gap:.1e}")
        )
    report(f"Query encoding, one thread, interleaved ({len(queries)} queries x {args.repeat})", rows)


if __name__ == "__main__":
    main()
