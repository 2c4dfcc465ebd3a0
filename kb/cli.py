"""The `kb` command line: a thin click layer over the Python API."""

from __future__ import annotations

import click

from . import __version__


@click.group()
@click.version_option(__version__, prog_name="kb")
def cli():
    """Evidence KB: research evidence with semantic search and citations."""


# Commands live next to the code they drive; each module exposes one click
# command and is registered here.
from ingest.commands import build, check, locate, stats  # noqa: E402

for _command in (check, build, stats, locate):
    cli.add_command(_command)

from search.cli import eval_command, search_command  # noqa: E402

cli.add_command(search_command)
cli.add_command(eval_command)
from kb.cite.cli import cite  # noqa: E402

cli.add_command(cite)
from kb.serve import serve  # noqa: E402

cli.add_command(serve)
