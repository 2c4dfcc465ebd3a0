"""APA 7 reference lists and in-text citations (kb.cite.apa, ordering, intext)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from cite_data import APA_ORDER, APA_PLAIN, REFERENCES, source_row, sources

from kb.cite.apa import STYLE_PATH, Bibliography, apa_ready, apa_references, format_apa, html_to_runs


@pytest.fixture(scope="module")
def full_list():
    return Bibliography(sources())


@pytest.mark.parametrize("key", list(APA_PLAIN))
def test_each_reference_matches_the_hand_checked_apa_string(full_list, key):
    by_key = {r.key: r.text for r in full_list.references("plain")}
    assert by_key[key] == APA_PLAIN[key]


def test_every_reference_type_is_covered_by_a_pinned_string():
    types = {REFERENCES[k][1]["type"] for k in APA_PLAIN}
    assert {"article-journal", "book", "chapter", "report", "webpage"} <= types
    institutional_reports = [
        k for k in APA_PLAIN if REFERENCES[k][1]["type"] == "report" and "literal" in REFERENCES[k][1]["author"][0]
    ]
    personal_reports = [
        k for k in APA_PLAIN if REFERENCES[k][1]["type"] == "report" and "family" in REFERENCES[k][1]["author"][0]
    ]
    assert institutional_reports and personal_reports


def test_reference_list_is_in_apa_order(full_list):
    assert [r.key for r in full_list.references()] == APA_ORDER


def test_order_does_not_depend_on_input_order():
    forwards = [r.key for r in apa_references(sources(*APA_ORDER))]
    backwards = [r.key for r in apa_references(sources(*reversed(APA_ORDER)))]
    assert forwards == backwards == APA_ORDER


def test_diacritics_sort_as_their_base_letter():
    keys = [
        r.key for r in apa_references(sources("west2021compassionate", "ohman2001fears", "redelmeier1995randomised"))
    ]
    assert keys == ["ohman2001fears", "redelmeier1995randomised", "west2021compassionate"]


def test_year_suffixes_only_when_same_author_and_year_are_both_listed():
    both = {r.key: r.text for r in apa_references(sources("nhsengland2018links", "nhsengland_culture_programme"))}
    assert "(n.d.-a). The Culture" in both["nhsengland_culture_programme"]
    assert "(n.d.-b). Links" in both["nhsengland2018links"]
    alone = apa_references(sources("nhsengland2018links"))[0].text
    assert alone.startswith("NHS England. (n.d.). Links between")


def test_stored_kb_wide_year_suffix_is_replaced_by_the_lists_own():
    row = source_row("nhsengland2018links")
    item = json.loads(row["csl_json"])
    item["year-suffix"] = "b"  # as ingest stores it when the KB has two such works
    row["csl_json"] = json.dumps(item)
    assert apa_references([row])[0].text.startswith("NHS England. (n.d.). Links")


def test_doi_is_an_https_url_without_trailing_period(full_list):
    for ref in full_list.references():
        for doi in re.findall(r"\S*10\.\d{4,}/\S+", ref.text):
            assert doi.startswith("https://doi.org/10."), ref.text
        if "doi.org" in ref.text:
            assert not ref.text.endswith("."), ref.text


def test_markdown_variant_italicises_source_and_volume():
    text = format_apa(sources("redelmeier1995randomised"), "markdown")
    assert text == (
        "Redelmeier, D. A., Molin, J. P., & Tibshirani, R. J. (1995). A randomised trial of compassionate care for "
        "the homeless in an emergency department. *The Lancet*, *345*(8958), 1131–1134. "
        "https://doi.org/10.1016/S0140-6736(95)90975-3\n"
    )


def test_markdown_variant_italicises_book_and_report_titles():
    refs = {
        r.key: r.text for r in apa_references(sources("west2021compassionate", "tajfel1979integrative"), "markdown")
    }
    assert refs["west2021compassionate"].startswith("West, M. A. (2021). *Compassionate leadership: Sustaining")
    assert "(Eds.), *The social psychology of intergroup relations* (pp. 33–47)" in refs["tajfel1979integrative"]


def test_markdown_entries_are_separate_paragraphs():
    text = format_apa(sources("redelmeier1995randomised", "sonnentag2017advances"), "markdown")
    assert text.count("\n\n") == 1


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.italic, self.links, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        if tag == "a":
            self.links.append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        assert self.stack.pop() == tag

    def handle_data(self, data):
        self.text.append(data)
        if "i" in self.stack:
            self.italic.append(data)


def test_html_variant_is_well_formed_with_italics_and_links():
    html = format_apa(sources("redelmeier1995randomised", "west2019caring"), "html")
    parser = _Collect()
    parser.feed(html)
    assert parser.stack == []
    assert "The Lancet" in parser.italic and "345" in parser.italic
    assert "https://doi.org/10.1016/S0140-6736(95)90975-3" in parser.links
    assert any(link.endswith("caring-for-doctors-caring-for-patients_pdf-80706341.pdf") for link in parser.links)
    assert "&amp; Tibshirani" in html
    assert "".join(parser.text).count("Redelmeier, D. A., Molin, J. P., & Tibshirani") == 1


def test_html_to_runs_splits_italics():
    ref = apa_references(sources("redelmeier1995randomised"), "html")[0]
    runs = html_to_runs(ref.text)
    assert ("The Lancet", True) in runs
    assert "".join(t for t, _ in runs) == APA_PLAIN["redelmeier1995randomised"]


def test_question_mark_title_gets_no_extra_period():
    text = apa_references(sources("sonnentag2017advances"))[0].text
    assert "done next? Journal" in text and "?." not in text


def test_editor_label_is_capitalised():
    refs = {r.key: r.text for r in apa_references(sources("west2017compassionate", "tajfel1979integrative"))}
    assert "In P. Gilbert (Ed.)," in refs["west2017compassionate"]
    assert "In W. G. Austin & S. Worchel (Eds.)," in refs["tajfel1979integrative"]


def test_work_without_author_shows_its_title_once():
    text = apa_references(sources("selfcompassion_app"))[0].text
    assert text.count("Self-Compassion App") == 1
    assert text.startswith("The Self-Compassion App. (n.d.). https://")


def test_no_bare_retrieved_without_an_access_date():
    text = apa_references(sources("nhsengland2018links"))[0].text
    assert "Retrieved" not in text and text.endswith("2014-and-2015/")


def test_publisher_same_as_group_author_is_left_out():
    assert apa_references(sources("nhsengland2019longterm"))[0].text == "NHS England. (2019). The NHS long term plan."
    assert "National Academy Press" in apa_references(sources("iom2001crossing"))[0].text


def test_report_without_author_is_credited_to_its_institution():
    item = apa_ready(
        {"id": "x", "type": "report", "title": "Staff experience and patient outcomes", "publisher": "NHS Employers"}
    )
    assert item["author"] == [{"literal": "NHS Employers"}] and "publisher" not in item


def test_website_name_same_as_author_is_left_out():
    item = apa_ready(
        {
            "id": "x",
            "type": "webpage",
            "title": "T",
            "author": [{"literal": "NHS England"}],
            "container-title": "NHS England",
        }
    )
    assert "container-title" not in item


def test_elocator_becomes_article_number_but_page_ranges_stay_pages():
    assert apa_ready({"type": "article-journal", "page": "e94207"})["number"] == "e94207"
    assert apa_ready({"type": "article-journal", "page": "365-380"})["page"] == "365-380"


def test_titles_are_not_recased():
    # Stored in sentence case; proper nouns keep their capitals.
    text = apa_references(sources("west2022leader"))[0].text
    assert "analysis of NHS datasets in England." in text


def test_source_with_missing_fields_still_formats():
    row = {"key": "bare", "csl_json": json.dumps({"id": "bare", "type": "article-journal", "title": "Only a title"})}
    text = apa_references([row])[0].text
    assert text == "Only a title. (n.d.)."


def test_each_source_listed_once(full_list):
    rows = sources("redelmeier1995randomised", "redelmeier1995randomised")
    assert len(apa_references(rows)) == 1


def test_style_file_ships_with_its_licence():
    csl = STYLE_PATH.read_text(encoding="utf-8")
    assert "creativecommons.org/licenses/by-sa/3.0" in csl
    assert "CC BY-SA 3.0" in (STYLE_PATH.parent / "README.md").read_text(encoding="utf-8")


def test_unknown_markup_is_rejected():
    with pytest.raises(ValueError, match="unknown markup"):
        format_apa(sources("redelmeier1995randomised"), "latex")


# -- in-text citations (8.10-8.22) ---------------------------------------------------------


def cite(keys, listed=None, markup="plain"):
    return Bibliography(sources(*(listed or keys))).cite(keys, markup)


def test_in_text_one_two_and_three_or_more_authors():
    assert cite(["west2021compassionate"]) == "(West, 2021)"
    assert cite(["west2019caring"]) == "(West & Coia, 2019)"
    assert cite(["redelmeier1995randomised"]) == "(Redelmeier et al., 1995)"


def test_in_text_group_author_and_no_author():
    assert cite(["nhsengland2019longterm"]) == "(NHS England, 2019)"
    assert cite(["selfcompassion_app"], markup="markdown") == "(*The Self-Compassion App*, n.d.)"


def test_in_text_several_works_in_reference_list_order():
    got = cite(["sonnentag2017advances", "redelmeier1995randomised"])
    assert got == "(Redelmeier et al., 1995; Sonnentag et al., 2017)"


def test_in_text_year_suffix_matches_reference_list():
    both = ["nhsengland2018links", "nhsengland_culture_programme"]
    assert cite(["nhsengland2018links"], both) == "(NHS England, n.d.-b)"
    assert cite(both) == "(NHS England, n.d.-a, n.d.-b)"
    assert cite(["nhsengland2018links"]) == "(NHS England, n.d.)"


def test_in_text_initials_for_different_first_authors_with_one_surname():
    listed = ["west2021compassionate", "west2022leader", "west2019caring"]
    assert cite(["west2021compassionate"], listed) == "(M. A. West, 2021)"
    assert cite(["west2022leader"], listed) == "(T. H. R. West et al., 2022)"
    # "West, M." and "West, M. A." share a first initial: the same person.
    assert cite(["west2019caring"], ["west2019caring", "west2021compassionate"]) == "(West & Coia, 2019)"


def test_in_text_et_al_collision_adds_names():
    # Synthetic items (not references): same first author and year, other co-authors.
    def row(key, names):
        item = {
            "id": key,
            "type": "article-journal",
            "title": key,
            "issued": {"date-parts": [[2020]]},
            "author": [{"family": n, "given": "A."} for n in names],
        }
        return {"key": key, "csl_json": json.dumps(item)}

    bib = Bibliography([row("a", ["Kapoor", "Bloom", "Montez"]), row("b", ["Kapoor", "Bloom", "Zane", "Yu"])])
    assert bib.cite(["a"]) == "(Kapoor, Bloom, & Montez, 2020)"
    assert bib.cite(["b"]) == "(Kapoor, Bloom, et al., 2020)"
