"""Cold start: a whole `kb search` process vs the imports it cannot avoid, and vs importing sentence-transformers.

    .venv/bin/python benchmarks/bench_cold.py [--runs 5]

Each command runs in a fresh process; the commands take turns (interleaved,
order rotated each round) so a busy moment on the shared machine hits all of
them alike. Medians of --runs (importing sentence-transformers, ~10 s, runs
half as often), peak RSS from the OS.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

from common import real_db, report

PROBE = """
import resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def measure_once(cmd: list[str]) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", PROBE, *cmd], capture_output=True, text=True, check=True).stdout
    wall, rss = out.split()
    return float(wall), float(rss)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    db = real_db()
    kb = str(Path(sys.executable).parent / "kb")
    query = "evidence for compassion in diabetes care"
    hybrid = "kb search QUERY --json -k 3 (hybrid)"
    st_import = 'python -c "import sentence_transformers"'
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        # What a hybrid search must load whatever the CLI does: the floor under the line below.
        'python -c "import numpy, faiss, onnxruntime, tokenizers"': [
            sys.executable,
            "-c",
            "import numpy, faiss, onnxruntime, tokenizers",
        ],
        hybrid: [kb, "search", query, "--db", str(db), "--json", "-k", "3"],
        "kb search QUERY --mode keyword": [kb, "search", query, "--db", str(db), "--mode", "keyword"],
        st_import: [sys.executable, "-c", "import sentence_transformers"],
    }
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
    labels = list(commands)
    for r in range(args.runs):
        for label in labels[r % len(labels) :] + labels[: r % len(labels)]:
            if label == st_import and r >= max(2, args.runs // 2):
                continue
            samples[label].append(measure_once(commands[label]))
    rows = []
    timings = {}
    for label, runs in samples.items():
        timings[label] = statistics.median(w for w, _ in runs)
        rss = max(m for _, m in runs)
        rows.append((label, f"{timings[label]:5.2f} s wall (median of {len(runs)}), peak RSS {rss:,.0f} MB"))
    rows.append(("ratio kb search / import sentence_transformers", f"{timings[hybrid] / timings[st_import]:.2f}x"))
    report("Cold start (fresh process each run, interleaved)", rows)


if __name__ == "__main__":
    main()
