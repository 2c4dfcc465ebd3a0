"""Ordinary clients beside hostile SQL: does the server keep its latency (issue 13, "How it will be checked")?

    .venv/bin/python benchmarks/load_hostile.py --db build/kb.db            # 40 s per phase
    .venv/bin/python benchmarks/load_hostile.py --db build/kb.db --quick    # 8 s per phase

A real `kb serve` on 127.0.0.1. Phase 1 (the baseline, measured in the same
run): 20 ordinary clients, each a thread with its own httpx keep-alive client,
cycling the home page, a table page and /-/kb/search.json questions, for D
seconds. Phase 2: the same 20 plus 3 hostile clients sending, over and over,
through /kb.json?sql=…: a 1 GB printf, a doubling recursive string, and a cross
join of claims x claims x claims. Reported for the ordinary clients in each
phase: requests/s, p50, p95, errors (non-200), time-outs; the p95 ratio
hostile/baseline (goal <= 3x); what the hostile requests got back; and the
server's peak resident memory (VmHWM from /proc/<pid>/status, since psutil is
not installed). Closed loop: each client waits for its answer before the next.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, ROOT, eval_queries  # noqa: E402
from load_search_json import find_search_path, free_port, start_server  # noqa: E402

HOSTILE_SQL = {
    "printf 1 GB": "select printf('%.*c', 1000000000, 'x')",
    "recursive doubling": "with recursive c(x) as (select 'a' union all select x||x from c) select length(x) from c",
    "claims x claims x claims": "select count(*) from claims a, claims b, claims c",
}
TIMEOUT_S = 30.0


def ordinary_paths(search_path: str) -> list[str]:
    questions = eval_queries()[:30] or ["compassion in diabetes care"]
    paths = []
    for question in questions:
        paths += ["/", "/kb/claims?_size=20", f"{search_path}?q={urllib.parse.quote(question)}&k=5"]
    return paths


def ordinary_client(base, paths, offset, stop, stats) -> None:
    with httpx.Client(base_url=base, timeout=TIMEOUT_S) as client:
        for path in itertools.islice(itertools.cycle(paths), offset, None):
            if stop.is_set():
                return
            started = time.perf_counter()
            try:
                response = client.get(path)
                elapsed = time.perf_counter() - started
                stats["latencies"].append(elapsed)
                if response.status_code != 200:
                    stats["errors"] += 1
            except httpx.TimeoutException:
                stats["timeouts"] += 1
            except httpx.HTTPError:
                stats["errors"] += 1


def hostile_client(base, sql, stop, outcomes) -> None:
    path = "/kb.json?sql=" + urllib.parse.quote(sql)
    with httpx.Client(base_url=base, timeout=TIMEOUT_S) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                status = client.get(path).status_code
            except httpx.TimeoutException:
                status = "timeout"
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            outcomes.append((status, time.perf_counter() - started))


def vm_hwm_mb(pid: int) -> float | None:
    """Peak resident memory of the server and its children (uvicorn workers), from /proc."""
    total, found = 0.0, False
    for each in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
                    found = True
        except OSError:
            continue
    return round(total, 1) if found else None


def _children(pid: int) -> list[int]:
    try:
        kids = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return kids + [grandchild for kid in kids for grandchild in _children(kid)]


def phase(base, paths, clients, duration, hostile: bool) -> dict:
    stop = threading.Event()
    stats = [{"latencies": [], "errors": 0, "timeouts": 0} for _ in range(clients)]
    outcomes: dict[str, list] = {name: [] for name in HOSTILE_SQL} if hostile else {}
    threads = [
        threading.Thread(target=ordinary_client, args=(base, paths, i * 7, stop, stats[i]), daemon=True)
        for i in range(clients)
    ]
    threads += [
        threading.Thread(target=hostile_client, args=(base, sql, stop, outcomes[name]), daemon=True)
        for name, sql in HOSTILE_SQL.items()
        if hostile
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(duration)
    stop.set()
    for thread in threads:
        thread.join(TIMEOUT_S + 5)
    wall = time.perf_counter() - started
    latencies = sorted(x for s in stats for x in s["latencies"])

    def pct(p: float) -> float | None:
        if not latencies:
            return None
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

    result = {
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "max_ms": round(1000 * latencies[-1], 1) if latencies else None,
        "errors": sum(s["errors"] for s in stats),
        "timeouts": sum(s["timeouts"] for s in stats),
    }
    if hostile:
        result["hostile"] = {
            name: {
                "requests": len(got),
                "statuses": sorted({str(status) for status, _ in got}),
                "median_ms": round(1000 * statistics.median([t for _, t in got]), 1) if got else None,
            }
            for name, got in outcomes.items()
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=ROOT / "build" / "kb.db")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=40.0, help="seconds per phase")
    parser.add_argument("--quick", action="store_true", help="8 seconds per phase")
    args = parser.parse_args()
    duration = 8.0 if args.quick else args.duration
    if not args.db.is_file():
        raise SystemExit(f"{args.db} not found; run `kb build --db {args.db}` first")
    port = free_port()
    log_path = OUT / "load_hostile.server.log"
    proc = start_server(args.db, port, access_log=False, log_path=log_path)
    base = f"http://127.0.0.1:{port}"
    try:
        paths = ordinary_paths(find_search_path("127.0.0.1", port))
        with httpx.Client(base_url=base, timeout=TIMEOUT_S) as warm:
            for path in paths[:9]:
                warm.get(path)
        baseline = phase(base, paths, args.clients, duration, hostile=False)
        under_attack = phase(base, paths, args.clients, duration, hostile=True)
        peak = vm_hwm_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    ratio = (
        round(under_attack["p95_ms"] / baseline["p95_ms"], 2) if baseline["p95_ms"] and under_attack["p95_ms"] else None
    )
    result = {
        "duration_s": duration,
        "clients": args.clients,
        "hostile_clients": len(HOSTILE_SQL),
        "baseline": baseline,
        "with_hostile": under_attack,
        "p95_ratio_hostile_over_baseline": ratio,
        "goal_p95_ratio": 3.0,
        "server_peak_rss_mb": peak,
        "log_lines": len(log_path.read_text().splitlines()),
    }
    (OUT / "load_hostile.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
