"""`kb search` and `kb eval`: thin click wrappers over search.search and search.evaluate."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import click

from kb.config import DEFAULT_DB

from .errors import InvalidQuery, SearchError
from .retrieve import MODES

db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    help="SQLite database file.",
)


def _format_effect(effect: dict | None) -> str | None:
    if not effect:
        return None
    return effect.get("text") or (
        f"{effect.get('metric')} {effect.get('value')}" if effect.get("value") is not None else None
    )


def format_result(result: dict, width: int = 88) -> str:
    """One numbered, human-readable result: statement, then effect/certainty/citation, then where."""
    head = f"{result['rank']}. "
    lines = textwrap.wrap(result["statement"], width=width, initial_indent=head, subsequent_indent=" " * len(head))
    indent = " " * len(head)
    facts = []
    effect = _format_effect(result.get("effect"))
    if effect:
        facts.append(f"Effect: {effect}")
    if result.get("certainty"):
        facts.append(f"Certainty: {result['certainty'].replace('_', ' ')}")
    facts.append(result["kind"])
    if result.get("study_design"):
        facts.append(result["study_design"].replace("_", " "))
    facts.append(result.get("citation") or "no source cited")
    lines.append(indent + " · ".join(facts))
    if result.get("discrepancy"):
        lines += textwrap.wrap(
            "Deck and source differ: " + result["discrepancy"],
            width=width,
            initial_indent=indent + "! ",
            subsequent_indent=indent + "  ",
        )
    loc = result["location"]
    where = []
    if loc.get("slide_number") is not None:
        where.append(
            f"slide {loc['slide_number']}" + (f" “{loc['slide_heading']}”" if loc.get("slide_heading") else "")
        )
    if loc.get("line_start") is not None:
        if loc.get("line_end") in (None, loc["line_start"]):
            where.append(f"line {loc['line_start']}")
        else:
            where.append(f"lines {loc['line_start']}-{loc['line_end']}")
    lines.append(indent + ", ".join(where) + f" · id: {result['id']} · score {result['score']:.4g}")
    return "\n".join(lines)


@click.command(name="search")
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
    from .retrieve import search

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


@click.command(name="eval")
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
    from .evaluate import evaluate, format_table, load_queries, unknown_targets

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
