"""BibTeX export: what bibtexparser 2 reads back is what citations.bib holds."""

from __future__ import annotations

import bibtexparser
import pytest
from cite_data import REFERENCES, source_row, sources

from kb.cite.bibtex import format_bibtex


def fields(entry) -> dict:
    return {f.key: f.value for f in entry.fields}


def test_round_trips_with_the_same_entries_types_and_fields():
    text = format_bibtex(sources())
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    assert [e.key for e in library.entries] == list(REFERENCES)
    for entry in library.entries:
        original = bibtexparser.parse_string(REFERENCES[entry.key][0]).entries[0]
        assert entry.entry_type == original.entry_type
        assert fields(entry) == fields(original)


def test_protective_braces_and_latex_survive():
    text = format_bibtex(sources("west2022leader", "ohman2001fears", "nhsengland2019longterm"))
    assert "{NHS} datasets in {England}" in text
    assert '{\\"O}hman' in text
    assert "{{NHS England}}" in text


def test_parses_with_name_splitting_middleware():
    from bibtexparser import middlewares as mw

    library = bibtexparser.parse_string(
        format_bibtex(sources("redelmeier1995randomised")),
        append_middleware=[mw.SeparateCoAuthors(), mw.SplitNameParts()],
    )
    authors = library.entries[0]["author"]
    assert [a.last for a in authors] == [["Redelmeier"], ["Molin"], ["Tibshirani"]]


def test_each_source_once_in_the_order_given():
    text = format_bibtex(sources("sonnentag2017advances", "redelmeier1995randomised", "sonnentag2017advances"))
    keys = [e.key for e in bibtexparser.parse_string(text).entries]
    assert keys == ["sonnentag2017advances", "redelmeier1995randomised"]


def test_empty_selection_is_an_empty_file():
    assert format_bibtex([]) == ""


def test_unusable_stored_entry_is_an_error_naming_the_source():
    row = source_row("redelmeier1995randomised")
    row["bibtex"] = "@article{broken, title = {unclosed"
    with pytest.raises(ValueError, match="redelmeier1995randomised"):
        format_bibtex([row])
    with pytest.raises(ValueError, match="no bibtex"):
        format_bibtex([{"key": "x", "bibtex": None}])
