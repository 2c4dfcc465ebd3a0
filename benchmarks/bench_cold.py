"""Cold start: a whole `kb search` process vs just importing sentence-transformers.

    .venv/bin/python benchmarks/bench_cold.py [--runs 5]

Each command runs in a fresh process; medians of --runs, peak RSS from the OS.
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


def measure(cmd: list[str], runs: int) -> tuple[float, float]:
    results = [
        subprocess.run([sys.executable, "-c", PROBE, *cmd], capture_output=True, text=True, check=True).stdout.split()
        for _ in range(runs)
    ]
    return statistics.median(float(r[0]) for r in results), max(float(r[1]) for r in results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    db = real_db()
    kb = str(Path(sys.executable).parent / "kb")
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import sentence_transformers"': [sys.executable, "-c", "import sentence_transformers"],
        "kb search QUERY --json -k 3 (hybrid)": [
            kb,
            "search",
            "evidence for compassion in diabetes care",
            "--db",
            str(db),
            "--json",
            "-k",
            "3",
        ],
        "kb search QUERY --mode keyword": [
            kb,
            "search",
            "evidence for compassion in diabetes care",
            "--db",
            str(db),
            "--mode",
            "keyword",
        ],
    }
    rows = []
    timings = {}
    for label, cmd in commands.items():
        wall, rss = measure(cmd, args.runs if "sentence" not in label else max(2, args.runs // 2))
        timings[label] = wall
        rows.append((label, f"{wall:5.2f} s wall (median), peak RSS {rss:,.0f} MB"))
    base = timings['python -c "import sentence_transformers"']
    hybrid = timings["kb search QUERY --json -k 3 (hybrid)"]
    rows.append(("ratio kb search / import sentence_transformers", f"{hybrid / base:.2f}x"))
    report("Cold start (fresh process each run)", rows)


if __name__ == "__main__":
    main()
