"""`kb serve`: the built KB in Datasette, read-only, with the project's plugin and metadata.

Datasette is built through its Python API rather than its CLI so the
metadata can follow the database's name (Datasette names a database after its
file) and the inspected counts can be computed here, in one place.
"""

from __future__ import annotations

import asyncio
import copy
import errno
import json
import os
import socket
import sqlite3
import sys
from pathlib import Path

import click

from kb.config import DEFAULT_DB, project_root

# Read-only serving with bounded work per request. The KB is small: a query
# that needs more than a second is a mistake or an attack.
SETTINGS = {
    "sql_time_limit_ms": 1000,
    "max_returned_rows": 1000,
    "facet_time_limit_ms": 200,
    "truncate_cells_html": 300,
    "allow_download": True,
    "num_sql_threads": 3,
}
METADATA_DATABASE_KEY = "kb"


def database_name(db_path: Path) -> str:
    """The name Datasette gives a database file: its stem."""
    return Path(db_path).stem


def load_metadata(path: Path | None, db_name: str) -> dict:
    """metadata.json with its per-database section renamed to the served database's name."""
    if path is None:
        candidate = project_root() / "metadata.json"
        path = candidate if candidate.exists() else None
    if path is None:
        click.echo("Note: metadata.json not found; serving without descriptions and canned queries.", err=True)
        return {}
    try:
        metadata = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
    databases = metadata.get("databases") or {}
    if METADATA_DATABASE_KEY in databases and db_name != METADATA_DATABASE_KEY:
        metadata = copy.deepcopy(metadata)
        metadata["databases"] = {db_name: metadata["databases"].pop(METADATA_DATABASE_KEY), **metadata["databases"]}
    return metadata


def inspect_database(db_path: Path, name: str) -> dict:
    """What `datasette inspect` records: hash, size and exact row counts, so pages never count."""
    from datasette.inspect import inspect_hash

    conn = sqlite3.connect(f"file:{db_path}?mode=ro&immutable=1", uri=True)
    try:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' order by name")]
        counts = {t: conn.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()
    return {
        name: {
            "hash": inspect_hash(Path(db_path)),
            "size": db_path.stat().st_size,
            "file": str(db_path),
            "tables": {t: {"count": n} for t, n in counts.items()},
        }
    }


def make_datasette(db_path: Path, metadata_path: Path | None = None, settings: dict | None = None):
    """The Datasette instance `kb serve` runs: immutable, inspected, with metadata."""
    from datasette.app import Datasette

    db_path = Path(db_path).resolve()
    name = database_name(db_path)
    return Datasette(
        [],
        immutables=[str(db_path)],
        inspect_data=inspect_database(db_path, name),
        metadata=load_metadata(metadata_path, name),
        settings={**SETTINGS, **(settings or {})},
    )


def limit_native_threads() -> None:
    """One BLAS / OpenMP thread per request thread.

    Datasette encodes several queries at once in its SQL threads; if each
    matrix multiply also fans out over every core, the threads fight: on 2
    cores a query embedding went from ~20 ms to ~130 ms. numpy is already
    loaded by the time this runs (sqlite-utils imports it), so environment
    variables alone are too late for it; threadpoolctl resizes the loaded pools.
    """
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=int(os.environ["OPENBLAS_NUM_THREADS"]))


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} on {host} is already in use; pick another with --port"
                ) from None
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _run(coro_factory):
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(coro_factory())
    finally:
        asyncio.set_event_loop(None)
        loop.close()


@click.command(name="serve")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    help="The built database (kb build).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on. The default serves this machine only.",
)
@click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--metadata",
    "metadata_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Datasette metadata (default: the project's metadata.json).",
)
@click.option(
    "--sql-time-limit-ms",
    type=click.IntRange(10, 60_000),
    default=SETTINGS["sql_time_limit_ms"],
    show_default=True,
    help="Cancel any SQL query running longer than this.",
)
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log every request (costs about a third of the server's throughput).",
)
def serve(db_path, host, port, metadata_path, sql_time_limit_ms, access_log):
    """Serve the KB with Datasette: search, SQL, citation explorer and exports."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if not db_path.is_file():
        raise click.ClickException(f"database {db_path} not found; run `kb build --db {db_path}` first")
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"Warning: listening on {host}: other machines can reach this server.", err=True)
    _check_port(host, port)
    limit_native_threads()

    import uvicorn

    ds = make_datasette(db_path, metadata_path, {"sql_time_limit_ms": sql_time_limit_ms})
    # Plugin startup loads the search index and query model now, once, not on a visitor's request.
    _run(ds.invoke_startup)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}/"
    click.echo(f"Evidence KB: serving {db_path} at {url}  (search: {url}-/search)  Ctrl+C to stop.")
    sys.stdout.flush()
    uvicorn.run(
        ds.app(),
        host=host,
        port=port,
        log_level="info" if access_log else "warning",
        access_log=access_log,
        lifespan="on",
        workers=1,
    )
