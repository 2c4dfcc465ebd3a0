"""Run every search benchmark and the evaluation, printing the figures docs/search.md quotes.

    .venv/bin/python benchmarks/run_all.py            # everything (1M claims: ~30 min on 2 cores)
    .venv/bin/python benchmarks/run_all.py --quick    # skips 1M and the 100k index sweep

Both end with bench_ivfpq.py --quick (IVF-PQ at 1M vectors); the 10M-claim
tier is measured by `nice -n 10 .venv/bin/python benchmarks/bench_ivfpq.py` alone.

Each script can also be run alone; see its docstring. Results are printed and
also written to benchmarks/out/<script>.txt. Synthetic databases are cached in
benchmarks/out/ (git-ignored), so a second run skips building them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(script: str, *args: str) -> None:
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    out = HERE / "out" / (Path(script).stem + ".txt")
    out.parent.mkdir(exist_ok=True)
    with out.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, str(HERE / script), *args],
            cwd=HERE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for line in proc.stdout:
            if "Loading weights" in line:
                continue
            sys.stdout.write(line)
            log.write(line)
        if proc.wait():
            raise SystemExit(f"{script} failed")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    run("eval_table.py")
    run("bench_build.py")
    run("bench_index.py", *(["--sizes", "10000", "25000", "50000"] if args.quick else []))
    run("bench_query.py", "--sizes", "1000", "100000", *([] if args.quick else ["1000000"]))
    run("bench_cold.py")
    if not args.quick:
        run("bench_load.py")  # loads bench_query.py's 1M-claim KB
    # The IVF-PQ tier at 1M vectors; the 10M figures take ~an hour and 15 GB of disk: run it alone.
    run("bench_ivfpq.py", "--quick")


if __name__ == "__main__":
    main()
