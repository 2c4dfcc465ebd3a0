"""The `kb` command line: a thin click layer over the Python API.

Every command lives here, as in sqlite-utils' `cli.py` over `db.py`: each opens
what it needs, calls one function of `ingest`, `search` or `kb`, and turns that
layer's typed errors into click errors. The modules a command drives are
imported inside it, so `kb search` never loads citeproc-py, python-pptx,
Datasette or torch.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ingest.errors import ValidationFailed
from ingest.paths import project_root
from search.retrieve import MODES

from . import __version__
from .cite.render import FORMATS
from .config import DEFAULT_DB
from .serve import SETTINGS

# Shared options, defined once (sqlite-utils' load_extension_option pattern).
db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    help="SQLite database file.",
)
root_option = click.option(
    "--root",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Project folder holding evidence/ and citations.bib (default: this checkout).",
)


@click.group()
@click.version_option(__version__, prog_name="kb")
def cli():
    """Evidence KB: research evidence with semantic search and citations."""


def _report_problems(exc: ValidationFailed) -> None:
    click.secho(exc.summary(), fg="red", err=True)


@cli.command()
@root_option
@db_option
def check(root, db_path):
    """Validate every curated input and report all problems at once."""
    from ingest.load import load_all

    try:
        kb = load_all(root or project_root())
    except ValidationFailed as exc:
        _report_problems(exc)
        sys.exit(1)
    click.echo(
        f"OK: {len(kb.documents)} document(s), {len(kb.claims)} claims, "
        f"{len(kb.sources)} sources, {len(kb.topics)} topics"
    )


@cli.command(name="build")
@root_option
@db_option
@click.option("--embed/--no-embed", default=True, show_default=True, help="Compute embeddings and the FAISS index.")
@click.option(
    "--model", envvar="KB_MODEL", default=None, help="sentence-transformers model name or path [env: KB_MODEL]."
)
@click.option("--index-type", type=click.Choice(["auto", "flat", "hnsw", "ivf"]), default="auto", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def build_command(root, db_path, embed, model, index_type, quiet):
    """Build the database atomically: the old one stays intact if anything fails."""
    from .build import BuildError, build_kb

    try:
        report = build_kb(
            db_path,
            root=root,
            embed=embed,
            model=model,
            progress=not quiet,
            index_type=None if index_type == "auto" else index_type,
        )
    except ValidationFailed as exc:
        _report_problems(exc)
        click.secho(f"Build aborted; {db_path} was not changed.", fg="red", err=True)
        sys.exit(1)
    except BuildError as exc:
        click.secho(f"Error: {exc}\nBuild aborted; {db_path} was not changed.", fg="red", err=True)
        sys.exit(1)
    counts = report.counts
    click.echo(
        f"Built {report.db_path}: {counts.get('claims', 0)} claims, {counts.get('sources', 0)} sources, "
        f"{counts.get('authors', 0)} authors, {counts.get('claim_relations', 0)} relations"
    )
    if report.search:
        click.echo("Search: " + ", ".join(f"{k}={v}" for k, v in report.search.items()))


@cli.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats(db_path, as_json):
    """Summarise what the database holds."""
    from .stats import collect_stats

    if not db_path.exists():
        raise click.ClickException(f"database {db_path} not found; run `kb build --db {db_path}` first")
    data = collect_stats(db_path)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"Database: {data['database']}")
    for name, count in data["tables"].items():
        click.echo(f"  {name:<18} {count:>6}")
    for label in ("claims_by_kind", "claims_by_certainty", "effect_status", "claim_source_roles", "sources_by_type"):
        pairs = ", ".join(f"{k} {v}" for k, v in data[label].items())
        click.echo(f"{label.replace('_', ' ').capitalize()}: {pairs}")
    click.echo(f"Claims without sources: {data['claims_without_sources']}")
    click.echo(f"FAISS index: {'present' if data['index']['present'] else 'missing'} ({data['index']['path']})")


@cli.command()
@root_option
@click.argument("text")
@click.option("--document", "document_id", default=None, help="Document id (default: every document).")
@click.option("--fuzzy", is_flag=True, help="Match across any whitespace and line breaks.")
def locate(root, text, document_id, fuzzy):
    """Print the offsets, line and slide of TEXT, ready to paste into a claim's quote."""
    import re

    from ingest.documents import load_documents
    from ingest.errors import Problems

    root = root or project_root()
    problems = Problems(root)
    documents = load_documents(root, problems)
    if document_id:
        if document_id not in documents:
            raise click.ClickException(f"unknown document {document_id!r}")
        documents = {document_id: documents[document_id]}
    pattern = re.compile(r"\s+".join(map(re.escape, text.split())) if fuzzy else re.escape(text))
    found = 0
    for doc in documents.values():
        for match in pattern.finditer(doc.text):
            found += 1
            line = doc.line_of(match.start())
            slide = doc.slide_at_line(line)
            snippet = {
                "document": doc.id,
                "quote": {
                    "text": match.group(0),
                    "start": match.start(),
                    "end": match.end(),
                    "line": line,
                    "slide": slide.heading if slide else None,
                },
            }
            click.echo(json.dumps(snippet, ensure_ascii=False))
    if not found:
        raise click.ClickException("text not found" + ("" if fuzzy else "; try --fuzzy to ignore line breaks"))


@cli.command(name="search")
@click.argument("query", nargs=-1)
@db_option
@click.option("-k", "--limit", "k", type=int, default=10, show_default=True, help="How many results.")
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="hybrid",
    show_default=True,
    help="hybrid fuses keyword (FTS5 BM25) and semantic (FAISS) rankings.",
)
@click.option("--topic", multiple=True, help="Only claims with this topic id (repeat for any of several).")
@click.option("--kind", multiple=True, help="Only claims of this kind: finding, association, framework...")
@click.option("--design", "study_design", multiple=True, help="Only this study design, e.g. rct.")
@click.option("--has-effect", is_flag=True, default=None, help="Only claims that state an effect size.")
@click.option("--year-min", type=int, default=None, help="Only claims whose sources date from this year on.")
@click.option("--year-max", type=int, default=None, help="Only claims whose sources date up to this year.")
@click.option(
    "--model",
    default=None,
    help="Check the index was built with this model (default: the model recorded in the index).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of result objects.")
def search_command(query, db_path, k, mode, topic, kind, study_design, has_effect, year_min, year_max, model, as_json):
    """Search the evidence: kb search "do kind anaesthetists cut painkiller use"."""
    from search import InvalidQuery, SearchError, search

    from .result_text import format_result

    text = " ".join(query)
    try:
        results = search(
            db_path,
            text,
            k=k,
            mode=mode,
            model=model,
            topic=list(topic),
            kind=list(kind),
            study_design=list(study_design),
            has_effect=has_effect,
            year_min=year_min,
            year_max=year_max,
        )
    except InvalidQuery as exc:
        raise click.UsageError(str(exc)) from None
    except SearchError as exc:
        raise click.ClickException(str(exc)) from None
    for notice in results.notices:
        click.echo(f"Note: {notice}", err=True)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], indent=2, ensure_ascii=False))
        return
    if not results:
        click.echo("No results.")
        return
    click.echo("\n\n".join(format_result(r.to_dict()) for r in results))


@cli.command(name="eval")
@db_option
@click.option(
    "--queries",
    "queries_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Labelled queries (default: evidence/eval/queries.yaml).",
)
@click.option("--mode", "modes", type=click.Choice(MODES), multiple=True, help="Modes to evaluate (default: all).")
@click.option("--misses", is_flag=True, help="Also list queries whose target is not in the top 3.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def eval_command(db_path, queries_path, modes, misses, as_json):
    """Measure hit@1, hit@3 and MRR of each search mode on the labelled queries."""
    from search import SearchError
    from search.evaluate import evaluate, format_table, load_queries, unknown_targets

    if not db_path.exists():
        raise click.ClickException(f"database {db_path} not found; run `kb build --db {db_path}` first")
    try:
        queries = load_queries(queries_path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(f"cannot read the labelled queries: {exc}") from None
    unknown = unknown_targets(db_path, queries)
    if unknown:
        raise click.ClickException(f"the labelled queries name claims that do not exist: {', '.join(unknown)}")
    try:
        report = evaluate(db_path, queries, modes or MODES)
    except SearchError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({m: {s: v for s, v in e.items() if s != "ranks"} for m, e in report.items()}, indent=2))
    else:
        click.echo(format_table(report))
    if misses:
        for mode, entry in report.items():
            for q, rank in zip(queries, entry["ranks"]):
                if rank is None or rank > 3:
                    click.echo(f"miss [{mode}/{q.split}] rank={rank}: {q.query!r} -> {', '.join(q.targets)}", err=True)


def _format_help() -> str:
    return "; ".join(f"{name}: {fmt.description}" for name, fmt in FORMATS.items())


@cli.command()
@click.option("--claim", "claim_ids", multiple=True, metavar="ID", help="A claim id (repeatable).")
@click.option("--query", metavar="TEXT", help="Claims found by search for TEXT.")
@click.option(
    "-k", type=click.IntRange(min=1), default=5, show_default=True, help="How many search hits --query takes."
)
@click.option("--topic", metavar="TOPIC", help="Every claim tagged with TOPIC.")
@click.option("--all", "all_claims", is_flag=True, help="Every claim in the knowledge base.")
@click.option(
    "-f",
    "--format",
    "format_name",
    type=click.Choice(list(FORMATS)),
    default=None,
    help="Output format (default: from the -o extension, else apa). " + _format_help(),
)
@db_option
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of stdout."
)
def cite(claim_ids, query, k, topic, all_claims, format_name, db_path, output):
    """Export claims with their references: APA 7, BibTeX, RIS, CSL-JSON,
    slide-ready Markdown or PowerPoint evidence cards.

    \b
    kb cite --claim homeless-ed-compassion-return-visits
    kb cite --query "compassion in diabetes care" -k 3 --format markdown
    kb cite --topic teamwork -o teamwork.pptx
    kb cite --all --format ris -o evidence.ris
    """
    from .cite.render import FORMAT_FOR_EXTENSION, FORMATS, render
    from .cite.select import EmptySelection, SelectionError, select

    if format_name is None:
        format_name = FORMAT_FOR_EXTENSION.get(output.suffix.lower(), "apa") if output else "apa"
    fmt = FORMATS[format_name]
    if fmt.binary and output is None and sys.stdout.isatty():
        raise click.UsageError(f"{format_name} is a binary format: write it to a file with -o FILE.")
    if not (claim_ids or query or topic or all_claims):
        raise click.UsageError("Choose claims with --claim ID, --query TEXT, --topic TOPIC or --all.")
    try:
        selection = select(db_path, claim_ids=claim_ids, query=query, k=k, topic=topic, all_claims=all_claims)
    except EmptySelection as exc:
        raise click.ClickException(f"Nothing to cite. {exc}") from None
    except SelectionError as exc:
        raise click.ClickException(str(exc)) from None

    for notice in selection.notices:
        click.echo(f"Note: {notice}", err=True)
    output_value = render(format_name, selection.claims, selection.sources)
    # Missing fields do not stop the export; the trainer is told what to check.
    for warning in selection.warnings():
        click.secho(f"Warning: {warning}", fg="yellow", err=True)

    if output is None:
        if fmt.binary:
            sys.stdout.buffer.write(output_value)
            sys.stdout.buffer.flush()
        else:
            click.echo(output_value, nl=False)
        return
    if fmt.binary:
        output.write_bytes(output_value)
    else:
        # newline="" keeps RIS's CRLF line ends as they are.
        with open(output, "w", encoding="utf-8", newline="") as fp:
            fp.write(output_value)
    click.echo(
        f"Wrote {output}: {len(selection.claims)} claim(s), {len(selection.sources)} source(s), {format_name}",
        err=True,
    )


@cli.command(name="serve")
@db_option
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
    from .serve import check_port, limit_native_threads, make_datasette, run_startup

    if not db_path.is_file():
        raise click.ClickException(f"database {db_path} not found; run `kb build --db {db_path}` first")
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"Warning: listening on {host}: other machines can reach this server.", err=True)
    check_port(host, port)
    limit_native_threads()

    import uvicorn

    ds = make_datasette(db_path, metadata_path, {"sql_time_limit_ms": sql_time_limit_ms})
    # Plugin startup loads the search index and query model now, once, not on a visitor's request.
    run_startup(ds)
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
