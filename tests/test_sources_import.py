"""Importing Zotero / EndNote / Mendeley exports into a bibliography: real files, real parsers."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from ingest.bibliography import parse_bibliography
from ingest.errors import Problems
from ingest.source_import import SourceImportError, import_sources, plan_import, read_sources

DATA = Path(__file__).parent / "data"


@pytest.fixture
def bib(tmp_path: Path) -> Path:
    path = tmp_path / "citations.bib"
    shutil.copy2(DATA / "refs_existing.bib", path)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def parsed(path: Path) -> dict:
    problems = Problems(path.parent)
    sources = parse_bibliography(path, problems)
    assert not problems.items, problems.items
    return sources


def test_zotero_bibtex_round_trip(bib: Path):
    before = bib.read_text(encoding="utf-8")
    plan = import_sources(bib, DATA / "refs_zotero.bib")
    after = bib.read_text(encoding="utf-8")
    assert after.startswith(before)  # the existing text is byte-identical before the append
    assert after == plan.new_text
    sources = parsed(bib)
    # kirby2017meta is taken by a test-only entry: the import gets the next suffix.
    assert {key for key, _ in plan.added} == {"kirby2017metaa", "delcanale2012relationship"}
    kirby = sources["kirby2017metaa"]
    assert [p.family for p in kirby.authors] == ["Kirby", "Tellegen", "Steindl"]
    assert kirby.fields["doi"] == "10.1016/j.beth.2017.06.003"
    assert kirby.fields["pages"] == "778–792"  # parse_bibliography decodes -- to an en dash
    assert kirby.verified is False
    for dropped in ("file", "abstract", "keywords", "shorttitle", "issn"):
        assert dropped not in kirby.fields
    assert sources["delcanale2012relationship"].authors[0].family == "Del Canale"
    assert "verified = {no}" in plan.added[0][1]
    # Existing entries are untouched, including their verified marker.
    assert sources["schippers2015team"].verified is True
    assert sources["kirby2017meta"].fields["title"] == "Test-only entry that holds this key"


def test_duplicates_by_doi_and_fuzzy_title_with_conflicts_not_written(bib: Path):
    plan = import_sources(bib, DATA / "refs_zotero.bib")
    assert ("schippers_team_2012", "schippers2015team", "doi") in plan.duplicates
    assert ("edmondson_psychological_1999", "edmondson1999psychological", "title+year+first author") in plan.duplicates
    # Zotero recorded the online-first year; ours is the issue of record. Reported, never written.
    assert ("schippers2015team", "year", "2015", "2012") in plan.conflicts
    assert parsed(bib)["schippers2015team"].fields["year"] == "2015"
    assert not [c for c in plan.conflicts if c[0] == "edmondson1999psychological" and c[1] == "title"]


def test_ris_round_trip(bib: Path):
    plan = import_sources(bib, DATA / "refs_endnote.ris", verified=True)
    sources = parsed(bib)
    kelley = sources["kelley2014influence"]
    assert kelley.entry_type == "article"
    assert kelley.fields["journal"] == "PLoS ONE"  # T2 (full title) preferred over JO (abbreviation)
    assert kelley.fields["note"] == "Correction published: PLoS ONE 9(6): e101191"
    assert kelley.fields["url"] == "https://doi.org/10.1371/journal.pone.0094207"
    assert kelley.verified is True
    book = sources["trzeciak2019compassionomics"]
    assert (book.entry_type, book.fields["isbn"], book.fields["publisher"], book.fields["address"]) == (
        "book",
        "9781622181063",
        "Studer Group",
        "Pensacola",
    )
    # DO with an https://doi.org/ prefix still finds the existing DOI.
    assert plan.duplicates == [("refs_endnote.ris:30", "tannenbaum2013team", "doi")]


def test_csl_json_round_trip(bib: Path):
    plan = import_sources(bib, DATA / "refs_mendeley.json")
    sources = parsed(bib)
    assert sources["fogarty1999can"].year == 1999
    assert sources["fogarty1999can"].fields["pages"] == "371–379"
    assert "pages    = {371--379}" in plan.added[0][1]
    assert sources["beach2006quality"].year == 2006  # Mendeley writes date-parts as strings
    assert sources["beach2006quality"].fields["doi"] == "10.1111/j.1525-1497.2006.00399.x"
    assert plan.duplicates == [("tannenbaum2013", "tannenbaum2013team", "doi")]


def test_importing_the_same_file_twice_adds_nothing(bib: Path):
    first = import_sources(bib, DATA / "refs_endnote.ris")
    text = bib.read_text(encoding="utf-8")
    second = import_sources(bib, DATA / "refs_endnote.ris")
    assert first.added and not second.added
    assert {existing for _, existing, _ in second.duplicates} == {key for key, _ in first.added} | {
        "tannenbaum2013team"
    }
    assert bib.read_text(encoding="utf-8") == text


def test_dry_run_writes_nothing(bib: Path):
    digest = sha256(bib)
    plan = import_sources(bib, DATA / "refs_mendeley.json", dry_run=True)
    assert plan.added
    assert sha256(bib) == digest


def test_key_collisions_within_one_import():
    incoming = read_sources(DATA / "refs_mendeley.json")
    twin = read_sources(DATA / "refs_mendeley.json")[0]
    # Same first author, year and first title word, but a title too different to be the same work.
    twin.fields["title"] = "Can compassion be taught in oncology clinics"
    plan = plan_import("", [incoming[0], twin])
    assert [key for key, _ in plan.added] == ["fogarty1999can", "fogarty1999cana"]


@pytest.mark.parametrize(
    "name, line, field",
    [
        ("refs_bad_block.bib", 1, None),
        ("refs_no_ty.ris", 1, "AU"),
        ("refs_not_list.json", 1, None),
        ("refs_no_title.json", 2, "title"),
        ("refs_unknown.txt", None, None),
    ],
)
def test_bad_files_raise_and_write_nothing(bib: Path, name: str, line, field):
    digest = sha256(bib)
    with pytest.raises(SourceImportError) as caught:
        import_sources(bib, DATA / name)
    assert (caught.value.line, caught.value.field) == (line, field)
    assert caught.value.path.endswith(name)
    assert sha256(bib) == digest


def test_entry_that_would_not_read_back_is_refused(bib: Path, tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        '[{"type": "article-journal", "title": "A title", "issued": {"date-parts": [[2014]]},'
        ' "author": [{"family": "Kelley"}], "page": "12 and 14"}]',
        encoding="utf-8",
    )
    digest = sha256(bib)
    with pytest.raises(SourceImportError, match="would not pass"):
        import_sources(bib, bad)
    assert sha256(bib) == digest


def test_url_with_percent_survives_latex_decoding(bib: Path, tmp_path: Path):
    export = tmp_path / "pct.json"
    url = "https://www.england.nhs.uk/culture/culture-leadership-programme/?a=b%20c"
    export.write_text(
        f'[{{"type": "webpage", "title": "A page with an encoded URL", "author": [{{"literal": "NHS England"}}],'
        f' "URL": "{url}"}}]',
        encoding="utf-8",
    )
    plan = import_sources(bib, export)
    ((key, _),) = plan.added
    assert key == "nhsenglandpage"
    assert parsed(bib)[key].fields["url"] == url


def test_verified_marker(tmp_path: Path):
    path = tmp_path / "marker.bib"
    path.write_text(
        "% header\n\n"
        "@misc{a,\n  title = {One},\n  verified = {yes}\n}\n\n"
        "@misc{b,\n  title = {Two},\n  verified = {no}\n}\n\n"
        "@misc{c,\n  title = {Three}\n}\n\n"
        "@misc{d,\n  title = {Four},\n  verified = {maybe}\n}\n",
        encoding="utf-8",
    )
    problems = Problems(tmp_path)
    sources = parse_bibliography(path, problems)
    assert [sources[k].verified for k in "abcd"] == [True, False, False, False]
    assert [(p.line, p.field, p.record) for p in problems.items] == [(19, "verified", "d")]  # the field's own line
    assert all("verified" not in s.fields and "verified" not in s.to_csl() for s in sources.values())


def test_every_curated_source_is_verified():
    root = Path(__file__).resolve().parents[1]
    problems = Problems(root)
    sources = parse_bibliography(root / "citations.bib", problems)
    assert not problems.items
    assert sources and all(source.verified for source in sources.values())
