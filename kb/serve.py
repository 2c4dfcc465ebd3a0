"""What `kb serve` runs: the built KB in Datasette, read-only, with the project's plugin, metadata and configuration.

Datasette is built through its Python API rather than its CLI so the
metadata and configuration can follow the database's name (Datasette names a
database after its file) and the inspected counts can be computed here, in one place.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import json
import os
import socket
from pathlib import Path

import click

from ingest.db import connect
from ingest.paths import project_root

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
        click.echo("Note: metadata.json not found; serving without descriptions.", err=True)
        return {}
    try:
        metadata = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
    return _renamed(metadata, path, db_name)


def load_config(path: Path | None, db_name: str) -> dict:
    """datasette.yaml (canned queries, table options, plugin settings), renamed like the metadata.

    By default it is the datasette.yaml beside the metadata file (or the project's).
    """
    import yaml

    if path is None:
        path = project_root() / "datasette.yaml"
        if not path.exists():
            click.echo("Note: datasette.yaml not found; serving without canned queries and facets.", err=True)
            return {}
    try:
        config = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
    if not isinstance(config, dict):
        raise click.ClickException(f"{path}: expected a mapping at the top level, found {type(config).__name__}")
    return _renamed(config, path, db_name)


def _renamed(document: dict, path: Path, db_name: str) -> dict:
    databases = document.get("databases") or {}
    if not isinstance(databases, dict):
        raise click.ClickException(f"{path}: 'databases' must be a mapping of database name to its section")
    if METADATA_DATABASE_KEY in databases and db_name != METADATA_DATABASE_KEY:
        document = copy.deepcopy(document)
        document["databases"] = {db_name: document["databases"].pop(METADATA_DATABASE_KEY), **document["databases"]}
    return document


def metadata_and_config(metadata: dict, config: dict) -> dict:
    """Datasette(...) keyword arguments carrying both files, for the installed Datasette.

    Datasette 1.0 takes configuration (canned queries, table options, plugin settings) as
    config=, apart from metadata=. 0.65 has no config= and reads all of it from the metadata, so
    there the configuration is merged into it (the configuration's keys win).
    """
    # By version, not by inspecting __init__: Datasette 1.0's pytest plugin wraps __init__ as (*args, **kwargs).
    from datasette.version import __version__

    if int(__version__.split(".")[0]) >= 1:
        return {"metadata": metadata, "config": config}
    return {"metadata": _deep_merge(metadata, config)}


def _deep_merge(base: dict, overlay: dict) -> dict:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def inspect_database(db_path: Path, name: str) -> dict:
    """What `datasette inspect` records: hash, size and exact row counts, so pages never count."""
    from datasette.inspect import inspect_hash

    conn = connect(db_path, immutable=True)
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


def make_datasette(
    db_path: Path, metadata_path: Path | None = None, settings: dict | None = None, config_path: Path | None = None
):
    """The Datasette instance `kb serve` runs: immutable, inspected, with metadata and configuration.

    Without config_path, the configuration is the datasette.yaml beside metadata_path, else the project's.
    """
    from datasette.app import Datasette

    db_path = Path(db_path).resolve()
    name = database_name(db_path)
    if config_path is None and metadata_path is not None:
        beside = Path(metadata_path).with_name("datasette.yaml")
        config_path = beside if beside.exists() else None
    options = metadata_and_config(load_metadata(metadata_path, name), load_config(config_path, name))
    with _plugin_settings_errors(config_path):
        return Datasette(
            [],
            immutables=[str(db_path)],
            inspect_data=inspect_database(db_path, name),
            settings={**SETTINGS, **(settings or {})},
            **options,
        )


@contextlib.contextmanager
def _plugin_settings_errors(config_path: Path | None):
    """A bad plugin setting (e.g. plugins.evidence-kb.prefix) as a one-line error naming the file, not a traceback.

    Datasette 0.65 builds its routes while constructing the instance, 1.0 at startup: both are wrapped.
    """
    from kb.datasette_plugin.links import BadPrefix

    try:
        yield
    except BadPrefix as exc:
        raise click.ClickException(f"{config_path or 'the Datasette configuration'}: {exc}") from None


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


def check_port(host: str, port: int) -> None:
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


def run_startup(ds) -> None:
    """Plugin startup on a loop of its own: it loads the search index and query model now, once, not on a visitor's request."""
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        with _plugin_settings_errors(None):
            loop.run_until_complete(ds.invoke_startup())
    finally:
        asyncio.set_event_loop(None)
        loop.close()


# `kb serve --workers N`: uvicorn starts N processes, each importing the app
# afresh, so the app is built by a module-level factory whose configuration
# travels in environment variables (the only channel uvicorn passes on).
_ENV_DB, _ENV_METADATA, _ENV_SETTINGS = "KB_SERVE_DB", "KB_SERVE_METADATA", "KB_SERVE_SETTINGS"
_ENV_CONFIG = "KB_SERVE_CONFIG"


def app_from_environment():
    """uvicorn factory (`kb.serve:app_from_environment`): one worker's Datasette app, started up."""
    limit_native_threads()
    metadata, config = os.environ.get(_ENV_METADATA), os.environ.get(_ENV_CONFIG)
    ds = make_datasette(
        Path(os.environ[_ENV_DB]),
        Path(metadata) if metadata else None,
        json.loads(os.environ.get(_ENV_SETTINGS) or "{}"),
        Path(config) if config else None,
    )
    return _started_at_boot(ds, ds.app())


def _started_at_boot(ds, app):
    """The app, running the plugins' startup when uvicorn starts the worker (the ASGI lifespan event),
    so the index and query model load before the first visitor, not on their request. The factory
    itself cannot run it: uvicorn calls the factory inside its own running event loop."""

    async def asgi(scope, receive, send):
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await ds.invoke_startup()
                except Exception as exc:  # noqa: BLE001 - uvicorn reports it and stops the worker
                    await send({"type": "lifespan.startup.failed", "message": f"Evidence KB: {exc}"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    return asgi


def run_workers(
    db_path: Path,
    *,
    host: str,
    port: int,
    workers: int,
    metadata_path: Path | None = None,
    settings: dict | None = None,
    access_log: bool = False,
    config_path: Path | None = None,
) -> None:
    """Serve with `workers` uvicorn processes over the same immutable database and index files.

    Each worker maps the database, loads the FAISS index and the ONNX encoder
    itself (docs/scaling.md has the memory per worker). On 2 cores one worker
    measured as fast as two: use this on machines with more cores.
    """
    import uvicorn

    os.environ[_ENV_DB] = str(Path(db_path).resolve())
    if metadata_path is not None:
        os.environ[_ENV_METADATA] = str(Path(metadata_path).resolve())
    if config_path is not None:
        os.environ[_ENV_CONFIG] = str(Path(config_path).resolve())
    os.environ[_ENV_SETTINGS] = json.dumps(settings or {})
    uvicorn.run(
        "kb.serve:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info" if access_log else "warning",
        access_log=access_log,
        lifespan="on",
    )
