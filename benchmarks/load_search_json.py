"""A bounded loopback load on the KB's search JSON: N concurrent keep-alive clients for D seconds.

    .venv/bin/python benchmarks/load_search_json.py                 # starts kb serve itself
    .venv/bin/python benchmarks/load_search_json.py --url http://127.0.0.1:8001
    .venv/bin/python benchmarks/load_search_json.py --unique        # defeat the result cache
    .venv/bin/python benchmarks/load_search_json.py --unique --duration 30 --workers 2

The baseline, measured in the same run against the same server and interleaved
with the KB's rounds (baseline, KB, baseline, KB): plain Datasette answering the
same questions as a full-text table query, /kb/claims.json?_search=…&_size=k
(its own FTS5 search, no embedding, no fusion). The report gives the KB's
requests/s as a ratio to it. Memory: the resident (RSS) and proportional (PSS,
shared pages split between processes) size of every server process after the
load, from /proc, so `--workers N` shows the cost of each extra worker.

Each client sends one request, waits for the whole response, then sends the
next (a closed loop), so the load is bounded by the number of clients and
never floods the server. Queries are the labelled ones in
evidence/eval/queries.yaml, cycled; `--unique` appends a counter to every
query so each request is a cache miss (embedding + FAISS + FTS every time).

Reports p50, p95, p99 and max latency, throughput and errors (non-200
responses, malformed bodies, connection failures), and writes them as JSON to
benchmarks/out/. The goal on a 2-core machine: p50 <= 30 ms with 0 errors.
The HTTP client is a few lines over asyncio streams: a general-purpose
client would spend more CPU than the server and measure itself.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_queries() -> list[str]:
    try:
        from search.evaluate import load_queries as labelled

        return [q.query for q in labelled()]
    except Exception:  # the benchmark must run even if the eval set moves
        return ["evidence for compassion in diabetes care", "does compassion save money", "staff recovery from work"]


async def read_response(reader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length, chunked = None, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        body = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
        return status, bytes(body)
    return status, await reader.readexactly(length or 0)


def kb_search_path(prefix: str, query: str, k: int) -> str:
    return prefix + "?" + urllib.parse.urlencode({"q": query, "k": k})


def datasette_search_path(query: str, k: int) -> str:
    return "/kb/claims.json?" + urllib.parse.urlencode({"_search": query, "_size": k, "_shape": "array"})


async def client(host, port, queries, offset, deadline, path_for, unique, stats) -> None:
    reader = writer = None
    i = offset
    while time.perf_counter() < deadline:
        query = queries[i % len(queries)]
        i += 1
        if unique:
            # One counter for all clients: no two requests ever ask the same thing.
            query = f"{query} {next(stats['counter'])}"
        path = path_for(query)
        request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: keep-alive\r\n\r\n".encode()
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            await writer.drain()
            status, body = await read_response(reader)
            elapsed = time.perf_counter() - started
            if status != 200:
                stats["errors"].append(f"HTTP {status}")
            elif not isinstance(json.loads(body), list):
                stats["errors"].append("body is not a JSON array")
            else:
                stats["latencies"].append(elapsed)
        except (OSError, ValueError, asyncio.IncompleteReadError, ConnectionError) as exc:
            stats["errors"].append(f"{type(exc).__name__}: {exc}")
            if writer is not None:
                writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def run_load(host, port, clients, duration, k, unique, path_for) -> dict:
    queries = load_queries()
    stats = {"latencies": [], "errors": [], "counter": itertools.count(int(time.time() * 1000))}
    deadline = time.perf_counter() + duration
    started = time.perf_counter()
    await asyncio.gather(
        *(client(host, port, queries, n * 7, deadline, path_for, unique, stats) for n in range(clients))
    )
    wall = time.perf_counter() - started
    one = {
        "clients": clients,
        "duration_s": round(wall, 2),
        "k": k,
        "unique_queries": unique,
        "errors": len(stats["errors"]),
        "error_samples": sorted(set(stats["errors"]))[:5],
        "_latencies": stats["latencies"],
    }
    return merge([one])


def start_server(db: Path, port: int, access_log: bool, log_path: Path, workers: int = 1) -> subprocess.Popen:
    kb = Path(sys.executable).with_name("kb")
    command = [str(kb), "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)]
    command.append("--access-log" if access_log else "--no-access-log")
    if workers > 1:
        command += ["--workers", str(workers)]
    # A file, not a pipe: an access log nobody reads would fill the pipe and stall the server.
    log = open(log_path, "w")
    proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"kb serve exited: {log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("kb serve did not start within 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=ROOT / "build" / "kb.db")
    parser.add_argument("--url", help="an already running server (default: start kb serve on a free port)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of unmeasured load first")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--unique", action="store_true", help="a different query every request (no cache hits)")
    parser.add_argument("--access-log", action="store_true", help="turn uvicorn's per-request log on (off by default)")
    parser.add_argument("--workers", type=int, default=1, help="kb serve --workers N")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved baseline/KB rounds sharing --duration")
    parser.add_argument(
        "--no-baseline", dest="baseline", action="store_false", help="skip plain Datasette's _search baseline"
    )
    args = parser.parse_args()
    if not 1 <= args.clients <= 200 or not 0 < args.duration <= 300:
        parser.error("keep the load bounded: 1-200 clients, at most 300 s")

    proc = None
    out = ROOT / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    if args.url:
        parsed = urllib.parse.urlparse(args.url)
        host, port = parsed.hostname, parsed.port or 80
    else:
        if not args.db.exists():
            raise SystemExit(f"{args.db} not found: run `kb build --db {args.db}` first")
        host, port = "127.0.0.1", free_port()
        proc = start_server(args.db, port, args.access_log, out / "load_search_json.serve.log", args.workers)
    rounds = max(1, args.rounds)
    try:
        prefix = find_search_path(host, port)

        def ours(q):
            return kb_search_path(prefix, q, args.k)

        def theirs(q):
            return datasette_search_path(q, args.k)

        if args.warmup:
            asyncio.run(run_load(host, port, args.clients, args.warmup, args.k, args.unique, ours))
            asyncio.run(run_load(host, port, args.clients, args.warmup / 2, args.k, args.unique, theirs))
        kb_rounds, base_rounds = [], []
        for _ in range(rounds):
            if args.baseline:
                base_rounds.append(
                    asyncio.run(run_load(host, port, args.clients, args.duration / rounds, args.k, args.unique, theirs))
                )
            kb_rounds.append(
                asyncio.run(run_load(host, port, args.clients, args.duration / rounds, args.k, args.unique, ours))
            )
        memory = server_memory(proc.pid) if proc is not None else None
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
    report = merge(kb_rounds)
    report.pop("_latencies")
    report.update(
        {
            "url": f"http://{host}:{port}{prefix}",
            "server": "external"
            if args.url
            else f"kb serve, {args.workers} worker(s) ({'access log on' if args.access_log else 'no access log'})",
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "rounds": rounds,
        }
    )
    if base_rounds:
        base = merge(base_rounds)
        base.pop("_latencies")
        report["baseline_datasette_search"] = base
        report["throughput_ratio_vs_datasette"] = (
            round(report["throughput_rps"] / base["throughput_rps"], 2) if base["throughput_rps"] else None
        )
    if memory is not None:
        report["server_memory_mb"] = memory
    report["goal"] = ">= 2x plain Datasette's _search requests/s, 0 errors, p95 <= 150 ms"
    report["goal_met"] = bool(
        report["errors"] == 0
        and report["p95_ms"] is not None
        and report["p95_ms"] <= 150
        and (report.get("throughput_ratio_vs_datasette") or 0) >= 2
    )
    name = (
        "load_search_json"
        + ("_unique" if args.unique else "")
        + (f"_workers{args.workers}" if args.workers > 1 else "")
        + ("_access_log" if args.access_log else "")
        + ".json"
    )
    (out / name).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


def find_search_path(host: str, port: int) -> str:
    """The KB's search JSON: under the plugin's prefix, or at the older /-/search.json."""
    import urllib.request

    for path in ("/-/kb/search.json", "/-/search.json"):
        try:
            with urllib.request.urlopen(f"http://{host}:{port}{path}?q=care&k=1", timeout=30) as response:
                if response.status == 200 and response.url.endswith(path + "?q=care&k=1"):
                    return path
        except OSError:
            continue
    raise SystemExit(f"no search JSON endpoint answers on {host}:{port}")


def merge(rounds: list[dict]) -> dict:
    """Rounds of one kind as one report: latency percentiles over all their requests."""
    lat = sorted(x for r in rounds for x in r["_latencies"])
    wall = sum(r["duration_s"] for r in rounds)

    def pct(p):
        return round(1000 * lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 2) if lat else None

    first = rounds[0]
    return {
        "clients": first["clients"],
        "duration_s": round(wall, 2),
        "k": first["k"],
        "unique_queries": first["unique_queries"],
        "requests_ok": len(lat),
        "errors": sum(r["errors"] for r in rounds),
        "error_samples": sorted({e for r in rounds for e in r["error_samples"]})[:5],
        "throughput_rps": round(len(lat) / wall, 1) if wall else None,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": round(1000 * lat[-1], 2) if lat else None,
        "mean_ms": round(1000 * statistics.fmean(lat), 2) if lat else None,
        "_latencies": lat,
    }


def _tree(pid: int) -> list[int]:
    pids, i = [pid], 0
    while i < len(pids):
        try:
            children = Path(f"/proc/{pids[i]}/task/{pids[i]}/children").read_text().split()
        except OSError:
            children = []
        pids += [int(c) for c in children]
        i += 1
    return pids


def _kib(path: Path, field: str) -> int | None:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def server_memory(pid: int) -> dict:
    """RSS and PSS (MB) of the server and each of its worker processes, read from /proc (Linux)."""
    procs = []
    for p in _tree(pid):
        rss, pss = _kib(Path(f"/proc/{p}/status"), "VmRSS"), _kib(Path(f"/proc/{p}/smaps_rollup"), "Pss")
        if rss is not None:
            procs.append({"pid": p, "rss_mb": round(rss / 1024, 1), "pss_mb": round((pss or 0) / 1024, 1)})
    return {
        "processes": procs,
        "total_rss_mb": round(sum(p["rss_mb"] for p in procs), 1),
        "total_pss_mb": round(sum(p["pss_mb"] for p in procs), 1),
    }


if __name__ == "__main__":
    main()
