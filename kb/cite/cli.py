"""`kb cite`: export chosen claims and their references in one format."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kb.config import DEFAULT_DB

from .render import FORMAT_FOR_EXTENSION, FORMATS, render
from .select import EmptySelection, SelectionError, select


def _format_help() -> str:
    return "; ".join(f"{name}: {fmt.description}" for name, fmt in FORMATS.items())


@click.command()
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
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    help="SQLite database file.",
)
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
