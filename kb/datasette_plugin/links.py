"""URLs of the KB's pages, built once in Python so templates and scripts never assemble paths.

Keys and ids are tilde-encoded the way Datasette encodes primary keys, so a
source key with a dot or slash still reaches its row. The plugin's own pages
live under one prefix (plugin setting `prefix`, default /-/kb), so they can be
moved aside if another plugin wants the same paths.
"""

from __future__ import annotations

import re
import urllib.parse

from datasette.utils import tilde_encode

from .kbdb import PLUGIN_NAME, state

DEFAULT_PREFIX = "/-/kb"
# A path of plain segments: the prefix goes into route regexes and URLs as it is written.
_PREFIX_RE = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")


class BadPrefix(ValueError):
    pass


def pages_prefix(datasette) -> str:
    """The configured prefix of the plugin's pages, without a trailing slash (read once: links are built per cell)."""
    kb = state(datasette)
    if kb.prefix is None:
        kb.prefix = _configured_prefix(datasette)
    return kb.prefix


def _configured_prefix(datasette) -> str:
    configured = (datasette.plugin_config(PLUGIN_NAME) or {}).get("prefix")
    if configured is None:
        return DEFAULT_PREFIX
    prefix = str(configured).rstrip("/")
    if not _PREFIX_RE.match(prefix):
        raise BadPrefix(
            f"plugins.{PLUGIN_NAME}.prefix must be a path such as {DEFAULT_PREFIX!r} "
            f"(segments of letters, digits, '.', '_', '~', '-'), not {configured!r}"
        )
    return prefix


class Links:
    def __init__(self, datasette, database: str | None):
        self.ds = datasette
        self.database = database
        self.prefix = pages_prefix(datasette)

    def row(self, table: str, pk, format: str | None = None) -> str:
        return str(self.ds.urls.row(self.database, table, tilde_encode(str(pk)), format=format))

    def claim(self, claim_id: str, format: str | None = None) -> str:
        return self.row("claims", claim_id, format)

    def source(self, key: str, format: str | None = None) -> str:
        return self.row("sources", key, format)

    def author(self, author_id) -> str:
        return self.row("authors", author_id)

    def document(self, document_id: str) -> str:
        return self.row("documents", document_id)

    def table(self, table: str, params: dict | None = None, format: str | None = None) -> str:
        url = str(self.ds.urls.table(self.database, table, format=format))
        if params:
            joiner = "&" if "?" in url else "?"
            url += joiner + urllib.parse.urlencode(params)
        return url

    def topic_claims(self, topic_id: str) -> str:
        """Claims on one topic, in the compact view: where a trainer filters further and exports."""
        return self.table("claims_with_citations", {"topics__arraycontains": topic_id})

    def query(self, name: str, params: dict | None = None) -> str:
        url = str(self.ds.urls.query(self.database, name))
        return url + ("?" + urllib.parse.urlencode(params) if params else "")

    # -- The plugin's own pages, all under the prefix.

    def _page(self, path: str, params: dict | None = None, query_string: str = "") -> str:
        url = str(self.ds.urls.path(self.prefix + path))
        params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        if params:
            return url + "?" + urllib.parse.urlencode(params, doseq=True)
        return url + ("?" + query_string if query_string else "")

    def home_page(self) -> str:
        return self._page("")

    def search_page(self, query_string: str = "", **params) -> str:
        return self._page("/search", params, query_string)

    def search_json(self, query_string: str = "", **params) -> str:
        return self._page("/search.json", params, query_string)

    def certainty_page(self) -> str:
        return self._page("/certainty")

    def evidence_map(self, **params) -> str:
        return self._page("/map", params)

    def map_cell(self, exposure: str, outcome: str, filters: dict | None = None) -> str:
        return self._page("/map", {**(filters or {}), "exposure": exposure, "outcome": outcome}) + "#kb-cell"

    def effects_page(self) -> str:
        return self._page("/effects")

    def graph_page(self) -> str:
        return self._page("/graph")

    def topic_page(self, topic_id: str) -> str:
        return self._page("/topics/" + urllib.parse.quote(topic_id, safe=""))

    def sql(self, sql: str, params: dict | None = None) -> str:
        """The arbitrary-SQL page running sql, its named parameters filled in (blank ones too: Datasette asks otherwise)."""
        extra = ("&" + urllib.parse.urlencode(params)) if params else ""
        if hasattr(self.ds.urls, "database_query"):  # Datasette 1.0: /<db>/-/query (/<db>?sql= redirects there)
            return str(self.ds.urls.database_query(self.database, sql)) + extra
        return str(self.ds.urls.database(self.database)) + "?" + urllib.parse.urlencode({"sql": sql}) + extra
