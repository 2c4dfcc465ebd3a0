"""Loading the index at 1M claims, as a server's first query does: load_index() vs faiss reading the file alone.

    .venv/bin/python benchmarks/bench_load.py [--n 1000000] [--runs 3] [--root OTHER_CHECKOUT]

Each measurement is a fresh process (benchmarks/bench_query.py's cached KB of
--n claims). The baseline, measured in the same run and interleaved with it
(order rotated each round), is faiss.read_index() of the same file: the floor
for any load. load_index() also reads every claim id in index order from the
database, checks their hash against the fingerprint and the file's sha256
against the one the build recorded.

"warm": the files are in the page cache. "cold": the page cache is dropped
before each process (/proc/sys/vm/drop_caches; needs root, else the row says
it was skipped), as after a reboot or when the KB is bigger than free RAM.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

from common import ROOT, report

BARE = """
import sys, time
start = time.perf_counter()
import faiss
faiss.read_index(sys.argv[1])
print(time.perf_counter() - start)
"""

LOAD = """
import sqlite3, sys, time
sys.path.insert(0, sys.argv[2])
start = time.perf_counter()
from search.index import load_index
load_index(sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True), sys.argv[1])
print(time.perf_counter() - start)
"""


def drop_page_cache() -> bool:
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("1\n")
        return True
    except OSError:
        return False


def timed_process(code: str, *args: str) -> float:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root", default=str(ROOT), help="load with another checkout's code (before/after)")
    args = parser.parse_args()
    from bench_query import prepare

    from search.index import index_path_for

    db = prepare(args.n)
    index_file = str(index_path_for(db))
    tasks = {
        "faiss.read_index (baseline)": (BARE, index_file),
        "load_index": (LOAD, db, args.root),
    }
    rows = []
    for cache in ("warm", "cold"):
        if cache == "cold" and not drop_page_cache():
            rows.append(("cold", "skipped: cannot drop the page cache (not root)"))
            continue
        if cache == "warm":
            timed_process(*tasks["load_index"])  # bring every file into the page cache
        times: dict[str, list[float]] = {name: [] for name in tasks}
        names = list(tasks)
        for r in range(args.runs):
            for name in names[r % 2 :] + names[: r % 2]:
                if cache == "cold":
                    drop_page_cache()
                times[name].append(timed_process(*tasks[name]))
        base = statistics.median(times[names[0]])
        for name, samples in times.items():
            median = statistics.median(samples)
            rows.append((f"{cache}: {name}", f"median {median:6.2f} s  ({median / base:.2f}x baseline)"))
    report(f"Index load, {args.n:,} claims, fresh process each, median of {args.runs}", rows)


if __name__ == "__main__":
    main()
