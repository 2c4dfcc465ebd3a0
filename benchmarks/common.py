"""Helpers shared by the benchmark scripts: paths, timing, the real KB and base vectors."""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from search.model import use_offline_hub  # noqa: E402

use_offline_hub()
OUT = Path(os.environ.get("KB_BENCH_DIR", ROOT / "benchmarks" / "out"))
OUT.mkdir(parents=True, exist_ok=True)


_built: Path | None = None


def real_db() -> Path:
    """The real KB built into benchmarks/out/ (once per process; rebuilds reuse every unchanged vector)."""
    global _built
    if _built is None:
        from kb.build import build_kb

        _built = OUT / "real-kb.db"
        build_kb(_built, root=ROOT, progress=False)
    return _built


def eval_queries() -> list[str]:
    from search.evaluate import load_queries

    return [q.query for q in load_queries(ROOT / "evidence" / "eval" / "queries.yaml")]


def percentiles(samples_s: list[float]) -> dict:
    ms = sorted(s * 1000 for s in samples_s)
    q = statistics.quantiles(ms, n=20, method="inclusive")
    return {"p50": statistics.median(ms), "p95": q[18], "n": len(ms)}


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n## {title}")
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    sys.stdout.flush()


def cpu_summary() -> list[tuple[str, str]]:
    """The CPU and the vector instructions it offers: ONNX Runtime's and BLAS's kernels, and so every
    encoding figure, depend on them; figures from machines that differ here do not compare."""
    flags, model = set(), "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    wanted = ("avx", "fma", "avx2", "avx512f", "avx512_vnni", "amx_tile")
    return [
        ("cpu", f"{model}, {os.cpu_count()} cores"),
        ("vector instructions", " ".join(f for f in wanted if f in flags) or "none of " + ", ".join(wanted)),
    ]
