"""URLs of the KB's pages, built once in Python so templates never assemble paths.

Keys and ids are tilde-encoded the way Datasette encodes primary keys, so a
source key with a dot or slash still reaches its row.
"""

from __future__ import annotations

import urllib.parse

from datasette.utils import tilde_encode


class Links:
    def __init__(self, datasette, database: str):
        self.ds = datasette
        self.database = database

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

    def search_page(self, **params) -> str:
        url = str(self.ds.urls.path("/-/search"))
        params = {k: v for k, v in params.items() if v not in (None, "")}
        return url + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")

    # -- The chart and topic pages (kb/datasette_plugin/charts_pages.py), all under PAGES_PREFIX.

    def _page(self, path: str, params: dict | None = None) -> str:
        url = str(self.ds.urls.path(PAGES_PREFIX + path))
        params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        return url + ("?" + urllib.parse.urlencode(params) if params else "")

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
        return str(self.ds.urls.database(self.database)) + "?" + urllib.parse.urlencode({"sql": sql, **(params or {})})


PAGES_PREFIX = "/-/kb"
