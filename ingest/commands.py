"""click commands for curating and building: check, build, stats, locate."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kb.config import DEFAULT_DB, project_root

from .errors import ValidationFailed

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


def _report_problems(exc: ValidationFailed) -> None:
    click.secho(exc.summary(), fg="red", err=True)


@click.command()
@root_option
@db_option
def check(root, db_path):
    """Validate every curated input and report all problems at once."""
    from .load import load_all

    try:
        kb = load_all(root or project_root())
    except ValidationFailed as exc:
        _report_problems(exc)
        sys.exit(1)
    click.echo(
        f"OK: {len(kb.documents)} document(s), {len(kb.claims)} claims, "
        f"{len(kb.sources)} sources, {len(kb.topics)} topics"
    )


@click.command()
@root_option
@db_option
@click.option("--embed/--no-embed", default=True, show_default=True, help="Compute embeddings and the FAISS index.")
@click.option(
    "--model", envvar="KB_MODEL", default=None, help="sentence-transformers model name or path [env: KB_MODEL]."
)
@click.option("--index-type", type=click.Choice(["auto", "flat", "hnsw", "ivf"]), default="auto", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def build(root, db_path, embed, model, index_type, quiet):
    """Build the database atomically: the old one stays intact if anything fails."""
    from .build import BuildError
    from .build import build as run_build

    try:
        report = run_build(
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


@click.command()
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


@click.command()
@root_option
@click.argument("text")
@click.option("--document", "document_id", default=None, help="Document id (default: every document).")
@click.option("--fuzzy", is_flag=True, help="Match across any whitespace and line breaks.")
def locate(root, text, document_id, fuzzy):
    """Print the offsets, line and slide of TEXT, ready to paste into a claim's quote."""
    import re

    from .documents import load_documents
    from .errors import Problems

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
