"""The `kb` command line: a thin click layer over the Python API.

Every command lives here, as in sqlite-utils' `cli.py` over `db.py`: each opens
what it needs, calls one function of `ingest`, `search` or `kb`, and turns that
layer's typed errors into click errors. The modules a command drives are
imported inside it, so `kb search` never loads citeproc-py, python-pptx,
Datasette or torch.
"""

from __future__ import annotations

import json
import os
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
@click.option(
    "--index-type", type=click.Choice(["auto", "flat", "hnsw", "ivf", "ivfpq"]), default="auto", show_default=True
)
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
    for label in (
        "claims_by_document",
        "claims_by_kind",
        "claims_by_certainty",
        "effect_status",
        "claim_source_roles",
        "sources_by_type",
    ):
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
    # One query needs no BLAS threads, and OpenBLAS starts a pool per core as numpy loads
    # (measured 20-65 ms of a cold search); set before search imports numpy.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from search import InvalidQuery, SearchError, search

    from .result_text import format_results

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
    click.echo(format_results([r.to_dict() for r in results]))


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
    slide-ready Markdown, PowerPoint evidence cards or a Word handout.

    \b
    kb cite --claim homeless-ed-compassion-return-visits
    kb cite --query "compassion in diabetes care" -k 3 --format markdown
    kb cite --topic teamwork -o teamwork.pptx
    kb cite --topic teamwork -o teamwork.docx
    kb cite --all --format ris -o evidence.ris
    """
    from .cite.render import FORMATS, UnwritableExtension, format_for_output, render
    from .cite.select import EmptySelection, SelectionError, select

    try:
        format_name = format_for_output(output, format_name)
    except UnwritableExtension as exc:
        raise click.UsageError(str(exc)) from None
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
    output_value = render(format_name, selection.claims, selection.sources, selection.topic_labels)
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
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Datasette configuration: canned queries, facets, plugin settings (default: the datasette.yaml "
    "beside --metadata, else the project's).",
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
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes over the same read-only KB; more than 1 helps only with more than 2 cores.",
)
def serve(db_path, host, port, metadata_path, config_path, sql_time_limit_ms, access_log, workers):
    """Serve the KB with Datasette: search, SQL, citation explorer and exports."""
    from .serve import check_port, limit_native_threads, make_datasette, run_startup

    if not db_path.is_file():
        raise click.ClickException(f"database {db_path} not found; run `kb build --db {db_path}` first")
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"Warning: listening on {host}: other machines can reach this server.", err=True)
    check_port(host, port)
    limit_native_threads()
    if workers > 1:
        from .serve import run_workers

        click.echo(f"Evidence KB: serving {db_path} at http://{host}:{port}/ with {workers} workers.")
        sys.stdout.flush()
        run_workers(
            db_path,
            host=host,
            port=port,
            workers=workers,
            metadata_path=metadata_path,
            settings={"sql_time_limit_ms": sql_time_limit_ms},
            access_log=access_log,
            config_path=config_path,
        )
        return

    import uvicorn

    ds = make_datasette(db_path, metadata_path, {"sql_time_limit_ms": sql_time_limit_ms}, config_path)
    # Plugin startup loads the search index and query model now, once, not on a visitor's request.
    run_startup(ds)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}/"
    from kb.datasette_plugin.links import pages_prefix

    # The search page under the plugin's own prefix (datasette.yaml may move it), not the /-/search redirect.
    search_url = f"{url}{pages_prefix(ds).lstrip('/')}/search"
    click.echo(f"Evidence KB: serving {db_path} at {url}  (search: {search_url})  Ctrl+C to stop.")
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


# -- Curation: documents in, candidates out, decisions kept ---------------------------------


@cli.command(name="ingest")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@root_option
@db_option
@click.option("--id", "document_id", default=None, help="Document id (a slug; default: from the file name).")
@click.option("--title", default=None, help="Document title (default: what the file says, else its name).")
@click.option("--dry-run", is_flag=True, help="Propose candidates and write nothing at all.")
@click.option("--json", "as_json", is_flag=True, help="Print the candidates as a JSON array (docs/ingest.md).")
def ingest_command(file, root, db_path, document_id, title, dry_run, as_json):
    """Turn a PDF, PowerPoint, Word, HTML, Markdown or text file into candidate claims.

    \b
    kb ingest report.pdf --dry-run --json
    kb ingest deck.pptx --id team-working-deck
    """
    from ingest.intake import IngestError

    from .ingest_document import ingest_document

    try:
        plan = ingest_document(
            file, root or project_root(), db_path, document_id=document_id, title=title, dry_run=dry_run
        )
    except IngestError as exc:
        raise click.ClickException(str(exc)) from None
    for notice in plan.notices:
        click.echo(f"Note: {notice}", err=True)
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in plan.candidates], indent=2, ensure_ascii=False))
    summary = plan.summary()
    out = click.echo if not as_json else (lambda text: click.echo(text, err=True))
    kinds = ", ".join(f"{n} {kind}" for kind, n in summary["by_kind"].items()) or "none"
    out(
        f"{'Would ingest' if dry_run else 'Ingested'} {file} as {plan.document_id!r}: "
        f"{summary['candidates']} candidates ({kinds}); {summary['effects_parsed']} with an effect "
        f"({summary['statistics']} statistics); citations {summary['citations_matched']} matched, "
        f"{summary['citations_unresolved']} unresolved; {summary['with_similar_claims']} with similar claims in the KB."
    )
    if not dry_run:
        out(f"Wrote {plan.text_path}, {plan.metadata_path} and {plan.candidates_path}.")
        out("Next: `kb candidates " + plan.document_id + "`, then `kb accept ID` or `kb reject ID --reason '...'`.")


@cli.command(name="candidates")
@click.argument("document", required=False)
@root_option
@click.option(
    "--status",
    type=click.Choice(["candidate", "accepted", "rejected", "all"]),
    default="candidate",
    show_default=True,
    help="Which candidates to list.",
)
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON.")
def candidates_command(document, root, status, as_json):
    """List the candidates of every ingested document, or of DOCUMENT."""
    from ingest.candidate_files import load_candidate_files
    from ingest.errors import Problems

    root = root or project_root()
    problems = Problems(root)
    files = load_candidate_files(root, problems)
    if problems:
        click.secho("\n".join(str(p) for p in problems.items), fg="yellow", err=True)
    if document:
        files = [f for f in files if f.document_id == document]
        if not files:
            raise click.ClickException(f"no candidates for document {document!r}; ingest it with `kb ingest FILE`")
    rows = [r for f in files for r in f.candidates if status == "all" or r.status == status]
    if as_json:
        click.echo(json.dumps([r.data for r in rows], indent=2, ensure_ascii=False, default=str))
        return
    if not rows:
        click.echo(f"No {status if status != 'all' else ''} candidates.".replace("  ", " "))
        return
    for r in rows:
        data = r.data
        where = (
            f"page {data.get('page')}"
            if data.get("page")
            else f"slide {data.get('slide')}"
            if data.get("slide")
            else ""
        )
        where = ", ".join(filter(None, [where, f"line {data.get('line_start')}"]))
        effect = data.get("effect") or {}
        figure = f" · {effect.get('metric')} {effect.get('value'):g}" if effect.get("value") is not None else ""
        decided = {"accepted": f" → {data.get('claim')}", "rejected": f" ({data.get('reason')})"}.get(r.status, "")
        click.echo(f"{r.id}  [{r.status}{decided}] {data.get('kind')}{figure} · {where}")
        click.echo(f"    {data.get('statement')}")


@cli.command(name="accept")
@click.argument("candidate_id")
@root_option
@click.option("--id", "claim_id", default=None, help="Claim id (default: a slug of the statement).")
@click.option("--topic", "topics", multiple=True, help="Topic id (repeatable; default: the suggested topics).")
@click.option("--certainty", default=None, help="high, moderate, low, very_low or not_assessed (default).")
@click.option("--edit", is_flag=True, help="Open $EDITOR on the record before it is written.")
def accept_command(candidate_id, root, claim_id, topics, certainty, edit):
    """Make a candidate a claim: its quote, offsets and place are filled in; `kb check` must pass with it."""
    from ingest.curation import CurationError, accept, draft_claim, parse_draft

    root = root or project_root()
    try:
        draft = draft_claim(root, candidate_id, claim_id=claim_id, topics=list(topics), certainty=certainty)
        record = None
        if edit:
            edited = click.edit(draft.text, extension=".yaml", require_save=True)
            if edited is None:
                raise click.ClickException("the editor closed without saving; nothing accepted")
            record = parse_draft(edited, draft)
        new_id = accept(root, draft, record)
    except CurationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Accepted {candidate_id} as claim {new_id!r} in evidence/claims/{draft.document_id}.yaml; run `kb build`."
    )


@cli.command(name="reject")
@click.argument("candidate_id")
@root_option
@click.option("--reason", required=True, help="Why it is not evidence (kept with the candidate).")
def reject_command(candidate_id, root, reason):
    """Reject a candidate; the decision and its reason stay in the candidate file."""
    from ingest.curation import CurationError, reject

    try:
        reject(root or project_root(), candidate_id, reason)
    except CurationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Rejected {candidate_id}.")


@cli.group(name="sources")
def sources_group():
    """Bibliographic sources in citations.bib."""


@sources_group.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@root_option
@click.option("--verified", is_flag=True, help="Mark new entries verified (you checked every field).")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
def sources_import_command(file, root, verified, dry_run):
    """Merge a BibTeX, RIS or CSL-JSON export (Zotero, EndNote, Mendeley) into citations.bib.

    Existing keys never change; duplicates (by DOI, or by title + year + first
    author) are not added; their differing fields are reported, never written.
    """
    from ingest.paths import bibliography_path
    from ingest.source_import import SourceImportError, import_sources

    try:
        plan = import_sources(bibliography_path(root or project_root()), file, verified=verified, dry_run=dry_run)
    except SourceImportError as exc:
        raise click.ClickException(str(exc)) from None
    verb = "Would add" if dry_run else "Added"
    click.echo(f"{verb} {len(plan.added)} source(s): {', '.join(k for k, _ in plan.added) or 'none'}")
    for label, key, how in plan.duplicates:
        click.echo(f"Duplicate of {key} ({how}): {label}")
    for key, name, ours, theirs in plan.conflicts:
        click.secho(
            f"Conflict in {key}.{name}: citations.bib has {ours!r}, the import has {theirs!r} (kept ours)", fg="yellow"
        )
    if plan.added and not verified:
        click.echo("New entries are marked `verified = {no}` until you check every field against the work.")


@cli.command(name="export-embeddings")
@db_option
@click.option(
    "--llm", "llm_path", required=True, type=click.Path(dir_okay=False, path_type=Path), help="llm database to write."
)
@click.option("--collection", default="claims", show_default=True, help="Name of the llm collection.")
def export_embeddings_command(db_path, llm_path, collection):
    """Write the claim vectors as an llm collection: `llm similar claims CLAIM_ID -d FILE`."""
    from .llm_export import ExportError, export_llm_collection

    try:
        n = export_llm_collection(db_path, llm_path, collection)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Wrote {n} claim vectors to {llm_path} as llm collection {collection!r}.")


# -- Charts for reports ------------------------------------------------------------------------

chart_output_option = click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write: .svg or .png.",
)


@cli.command(name="map")
@db_option
@chart_output_option
@click.option("--kind", default="", help="Only claims of this kind.")
@click.option("--design", "study_design", default="", help="Only this study design, e.g. rct.")
@click.option("--document", default="", help="Only claims from this document id.")
@click.option("--year-min", default="", help="Only claims whose sources date from this year on.")
@click.option("--year-max", default="", help="Only claims whose sources date up to this year.")
@click.option("--topic", default="", help="Only claims with this topic id.")
def map_command(db_path, output, kind, study_design, document, year_min, year_max, topic):
    """Draw the evidence map (interventions × outcomes, bubble = claims, colour = certainty) to SVG or PNG."""
    from .charts import ChartError, render_map

    try:
        written = render_map(
            db_path,
            output,
            kind=kind,
            study_design=study_design,
            document=document,
            year_min=year_min,
            year_max=year_max,
            topic=topic,
        )
    except ChartError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Wrote {written}")


@cli.command(name="effects")
@db_option
@chart_output_option
def effects_command(db_path, output):
    """Draw the effect-direction plot of every claim with an effect (deck vs source figure) to SVG or PNG."""
    from .charts import ChartError, render_effects

    try:
        written = render_effects(db_path, output)
    except ChartError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Wrote {written}")


if __name__ == "__main__":  # python -m kb.cli, as the tests run it in a subprocess
    cli()
