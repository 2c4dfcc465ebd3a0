"""RIS export, read back with rispy (a maintained RIS parser)."""

from __future__ import annotations

import rispy
from cite_data import REFERENCES, sources

from kb.cite.ris import format_ris, ris_name


def parse(keys=()):
    text = format_ris(sources(*keys))
    entries = rispy.loads(text)
    return text, {e["id"]: e for e in entries}


def test_every_record_parses_with_no_unknown_tags():
    text, entries = parse()
    assert list(entries) == list(REFERENCES)
    for entry in entries.values():
        assert "unknown_tag" not in entry, entry


def test_reference_types_map_to_ris_types():
    _, entries = parse()
    expected = {
        "redelmeier1995randomised": "JOUR",
        "west2021compassionate": "BOOK",
        "west2017compassionate": "CHAP",
        "tajfel1979integrative": "CHAP",
        "iom2001crossing": "RPRT",
        "west2019caring": "RPRT",
        "nhsengland_culture_programme": "ELEC",
        "selfcompassion_app": "ELEC",
    }
    assert {k: entries[k]["type_of_reference"] for k in expected} == expected


def test_journal_article_fields():
    _, entries = parse(["redelmeier1995randomised"])
    e = entries["redelmeier1995randomised"]
    assert e["authors"] == ["Redelmeier, D. A.", "Molin, J. P.", "Tibshirani, R. J."]
    assert e["title"] == "A randomised trial of compassionate care for the homeless in an emergency department"
    assert e["secondary_title"] == "The Lancet"
    assert (e["year"], e["volume"], e["number"]) == ("1995", "345", "8958")
    assert (e["start_page"], e["end_page"]) == ("1131", "1134")
    assert e["doi"] == "10.1016/S0140-6736(95)90975-3"


def test_chapter_has_book_title_editors_and_publisher():
    _, entries = parse(["tajfel1979integrative"])
    e = entries["tajfel1979integrative"]
    assert e["secondary_title"] == "The social psychology of intergroup relations"
    assert e["secondary_authors"] == ["Austin, William G.", "Worchel, Stephen"]
    assert e["publisher"] == "Brooks/Cole"


def test_institutional_author_keeps_its_name_whole():
    _, entries = parse(["iom2001crossing", "nhsengland_culture_programme"])
    assert entries["iom2001crossing"]["authors"] == ["Institute of Medicine,"]
    assert ris_name({"literal": "NHS England"}) == "NHS England,"


def test_web_page_has_url_and_access_date():
    _, entries = parse(["nhsengland_culture_programme"])
    e = entries["nhsengland_culture_programme"]
    assert e["urls"] == ["https://www.england.nhs.uk/culture/culture-leadership-programme/"]
    assert e["access_date"] == "2024/03/01/"


def test_article_number_goes_in_start_page():
    _, entries = parse(["kelley2014influence"])
    assert entries["kelley2014influence"]["start_page"] == "e94207"
    assert "end_page" not in entries["kelley2014influence"]


def test_records_use_crlf_and_end_with_er():
    text, _ = parse(["redelmeier1995randomised", "west2021compassionate"])
    lines = text.split("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert lines[0] == "TY  - JOUR"
    assert lines.count("ER  - ") == 2


def test_values_never_span_lines():
    item_row = sources("west2021compassionate")[0]
    item_row["csl_json"] = item_row["csl_json"].replace("Compassionate leadership:", "Compassionate\\nleadership:")
    entries = rispy.loads(format_ris([item_row]))
    assert entries[0]["title"].startswith("Compassionate leadership:")
