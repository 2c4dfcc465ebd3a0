"""Output renderers: .bib, .ris and .apa on any table, row or query that cites sources.

Datasette lists a renderer's link ("This data as json, bib, ris, apa") only
where can_render says yes, so the links appear exactly on pages whose rows
lead to at least one source.
"""

from __future__ import annotations

import re

from datasette.utils.asgi import Response

from .citations import export, has_citable_column, source_keys_for_rows, sources_for_rows
from .kbdb import is_kb

APA_MARKUPS = {"plain": "apa", "text": "apa", "markdown": "apa-markdown", "md": "apa-markdown"}
EXTENSIONS = {"bib": "bibtex", "ris": "ris", "apa": "apa"}
# Files a browser should save rather than show.
ATTACHMENT = {"bib", "ris"}


def _filename(stem: str | None, extension: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem or "citations").strip("-")[:60] or "citations"
    return f"{stem}.{extension}"


def _format_for(extension: str, request) -> str:
    if extension != "apa":
        return EXTENSIONS[extension]
    markup = (request.args.get("_markup") or "plain").lower() if request else "plain"
    if markup not in APA_MARKUPS:
        # Unknown values fall back to plain text rather than erroring: the
        # parameter only chooses a presentation.
        markup = "plain"
    return APA_MARKUPS[markup]


def _renderer(extension: str):
    async def render(datasette, columns, rows, database, table, query_name, request, view_name):
        if not is_kb(datasette, database) or not has_citable_column(columns):
            return Response.text(
                f"Nothing to cite here: .{extension} works on rows holding a source key or a claim id.\n",
                status=400,
            )
        db = datasette.get_database(database)
        sources = await db.execute_fn(lambda conn: sources_for_rows(conn, columns, rows))
        format_name = _format_for(extension, request)
        body, media_type = export(format_name, sources)
        disposition = "attachment" if extension in ATTACHMENT else "inline"
        filename = _filename(query_name or table or database, "md" if format_name == "apa-markdown" else extension)
        headers = {
            "content-disposition": f'{disposition}; filename="{filename}"',
            "x-kb-sources": str(len(sources)),
            # A reference list is data, never a page: stop any sniffing into HTML.
            "x-content-type-options": "nosniff",
        }
        return Response(body, status=200, content_type=media_type, headers=headers)

    async def can_render(datasette, columns, rows, database):
        if not is_kb(datasette, database) or not has_citable_column(columns) or not rows:
            return False
        db = datasette.get_database(database)
        return bool(await db.execute_fn(lambda conn: source_keys_for_rows(conn, columns, rows)))

    return {"extension": extension, "render": render, "can_render": can_render}


def output_renderers() -> list[dict]:
    return [_renderer(extension) for extension in EXTENSIONS]
