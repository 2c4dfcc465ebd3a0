"""The docs cannot drift from the code (as datasette's tests/test_docs.py does).

- The README's command-line table names every `kb` command and every option
  each one takes (`--db` and `--root`, shared by many, are stated once above it).
- The README's schema table and docs/architecture.md name every column of
  every table the build writes.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import sqlite_utils

from kb.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
SHARED_OPTIONS = ("--db", "--root")


def section(markdown: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", markdown, re.S | re.M)
    assert match, f"README has no '## {heading}' section"
    return match.group(1)


def table_rows(markdown: str) -> list[list[str]]:
    rows = []
    for line in markdown.splitlines():
        if line.startswith("|") and not re.match(r"^\|\s*-", line):
            # A cell may hold an escaped pipe ("hybrid\|semantic").
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))])
    return rows[1:]  # without the header


def all_commands(group: click.Group, prefix: str = "kb") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found += all_commands(command, full)
        else:
            found.append((full, command))
    return found


CLI_SECTION = section(README, "Command line")
CLI_ROWS = {row[0]: row for row in table_rows(CLI_SECTION)}


def cli_row(name: str) -> str | None:
    for first_cell in CLI_ROWS:
        if re.match(rf"`{re.escape(name)}(?=[ `])", first_cell):
            return first_cell
    return None


@pytest.mark.parametrize("name, command", all_commands(cli), ids=lambda v: v if isinstance(v, str) else "")
def test_readme_documents_every_command_and_option(name, command):
    row = cli_row(name)
    assert row is not None, f"README's command-line table has no row for `{name}`"
    for param in command.params:
        if not isinstance(param, click.Option) or param.name == "help":
            continue
        flags = param.opts + param.secondary_opts
        if any(flag in SHARED_OPTIONS for flag in flags):
            assert any(f"`{flag}" in CLI_SECTION for flag in flags), f"{flags[0]} is not explained in README"
            continue
        assert any(flag in row for flag in flags), f"README's row for `{name}` does not mention {flags[0]}"


@pytest.fixture(scope="module")
def columns(built_db) -> dict[str, list[str]]:
    db = sqlite_utils.Database(built_db)
    return {
        table: [c.name for c in db[table].columns]
        for table in db.table_names()
        if not table.startswith("claims_fts_") and not table.startswith("sqlite_")
    }


def test_readme_schema_table_names_every_column(columns):
    rows = {re.sub(r"[`*]", "", row[0]): " ".join(row) for row in table_rows(section(README, "SQL schema"))}
    for table, names in columns.items():
        assert table in rows, f"README's schema table has no row for {table}"
        missing = [n for n in names if not re.search(rf"`{re.escape(n)}`|\b{re.escape(n)}\b", rows[table])]
        assert not missing, f"README's schema row for {table} omits {missing}"


def test_architecture_schema_names_every_column(columns):
    block = re.search(r"```\n(documents\(.*?)```", ARCHITECTURE, re.S)
    assert block, "docs/architecture.md has no schema block"
    text = block.group(1)
    for table, names in columns.items():
        match = re.search(rf"^{re.escape(table)}\b(.*?)(?=^\w|\Z)", text, re.S | re.M)
        assert match, f"docs/architecture.md's schema omits table {table}"
        missing = [n for n in names if not re.search(rf"\b{re.escape(n)}\b", match.group(1))]
        assert not missing, f"docs/architecture.md's schema for {table} omits {missing}"


def test_architecture_names_the_build_entry_point():
    from kb.build import build_kb

    assert "kb.build.build_kb(" in ARCHITECTURE and build_kb.__name__ == "build_kb"
