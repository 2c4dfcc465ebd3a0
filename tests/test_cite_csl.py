"""CSL-JSON export: valid items that citeproc-py renders."""

from __future__ import annotations

import json

from cite_data import REFERENCES, source_row, sources
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON

from kb.cite.apa import STYLE_PATH
from kb.cite.csl import csl_item, format_csl_json, missing_fields

# CSL 1.0.2 item variables (csl-data.json) used by this knowledge base.
CSL_VARIABLES = {
    "id",
    "type",
    "author",
    "editor",
    "title",
    "container-title",
    "collection-title",
    "issued",
    "accessed",
    "volume",
    "issue",
    "page",
    "number",
    "edition",
    "publisher",
    "publisher-place",
    "DOI",
    "URL",
    "ISBN",
    "ISSN",
    "note",
    "genre",
    "language",
    "status",
}
CSL_TYPES = {
    "article-journal",
    "book",
    "chapter",
    "report",
    "webpage",
    "paper-conference",
    "thesis",
    "software",
    "document",
}


def test_is_a_json_array_of_valid_items():
    items = json.loads(format_csl_json(sources()))
    assert [i["id"] for i in items] == list(REFERENCES)
    for item in items:
        assert item["type"] in CSL_TYPES
        assert set(item) <= CSL_VARIABLES, set(item) - CSL_VARIABLES
        for role in ("author", "editor"):
            for name in item.get(role, []):
                assert set(name) <= {"family", "given", "literal"} and name
        for date in ("issued", "accessed"):
            if date in item:
                assert all(isinstance(p, int) for p in item[date]["date-parts"][0])


def test_renders_through_citeproc_py():
    items = json.loads(format_csl_json(sources()))
    style = CitationStylesStyle(str(STYLE_PATH), validate=False)
    bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
    for item in items:
        bibliography.register(Citation([CitationItem(item["id"])]))
    rendered = [str(entry) for entry in bibliography.bibliography()]
    assert len(rendered) == len(items)
    for item, text in zip(items, rendered):
        assert item["title"].split(":")[0] in text


def test_non_ascii_is_written_as_text():
    text = format_csl_json(sources("ohman2001fears"))
    assert '"family": "Öhman"' in text


def test_kb_wide_year_suffix_is_not_exported():
    row = source_row("nhsengland2018links")
    row["csl_json"] = json.dumps({**json.loads(row["csl_json"]), "year-suffix": "b"})
    assert "year-suffix" not in csl_item(row)
    assert "year-suffix" not in format_csl_json([row])


def test_id_is_the_citation_key():
    row = source_row("west2019caring")
    row["csl_json"] = json.dumps({**json.loads(row["csl_json"]), "id": "something-else"})
    assert csl_item(row)["id"] == "west2019caring"


def test_missing_fields_are_read_from_the_row():
    assert missing_fields(source_row("selfcompassion_app")) == ["author", "year", "urldate"]
    assert missing_fields({"missing_fields": None}) == []
