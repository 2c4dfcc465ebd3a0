"""find_citations / find_reference_list on the deck's real text and on the forms the brief names."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.citation_strings import CitationString, find_citations, find_reference_list

ROOT = Path(__file__).resolve().parents[1]
DECK = ROOT / "evidence" / "documents" / "inspiring-through-compassionate-leadership.txt"


def found(text: str) -> list[tuple[str, str]]:
    return [(c.kind, c.text) for c in find_citations(text)]


def test_spans_are_exact_offsets():
    text = DECK.read_text(encoding="utf-8")
    citations = find_citations(text)
    assert citations
    for c in citations:
        assert text[c.start : c.end] == c.text
        assert c.kind in ("author_year", "numbered", "url", "doi", "reference")


def test_every_citation_in_the_deck_is_found():
    text = DECK.read_text(encoding="utf-8")
    values = {(c.kind, c.value) for c in find_citations(text)}
    expected_urls = [
        "https://www.nhsemployers.org/-/media/Employers/Publications/Research-report-Staff-experience-and-patient-outcomes.pdf",
        # Broken across a line in the extracted text ("...2014-and-" / "2015/"): joined in value.
        "https://www.england.nhs.uk/publication/links-between-nhs-staff-experience-and-patient-satisfaction-analysis-of-surveys-from-2014-and-2015/",
        "https://www.england.nhs.uk/culture/culture-leadership-programme/",
        "https://www.kingsfund.org.uk/publications/courage-compassion-supporting-nurses-midwives",
        "https://www.gmc-uk.org/-/media/documents/caring-for-doctors-caring-for-patients_pdf-80706341.pdf",
        "https://apps.apple.com/gh/app/the-self-compassion-app/id1553464180",
    ]
    for url in expected_urls:
        assert ("url", url) in values, url
    assert ("author_year", "Schippers, West & Dawson, 2012, Journal of Management") in values
    assert ("author_year", "Tannembaum & Cerasoli, 2013, Human Factors") in values
    references = [v for k, v in values if k == "reference"]
    starts = sorted(r[:30] for r in references)
    assert starts == sorted(
        [
            "West, M. S., & Chowla, R. (201",
            "West, T. H., et al., (2022) Le",
            "West, M. A. (2021). Compassion",
            "Sonnentag, Venz & Casper, (201",
        ]
    )
    # Wrapped references run over the blank line PDF extraction leaves, and stop at the next block.
    assert any(r.endswith("London: Routledge, 237-57.") for r in references)
    assert any(r.endswith("Occupational Health Psychology 22, 365-380.") for r in references)
    assert not any("https://" in r for r in references)
    assert "lancaster.ac.uk" not in " ".join(v for _, v in values)  # an e-mail address is not a URL


@pytest.mark.parametrize(
    "text, expected",
    [
        ("as shown (West et al 2011).", [("author_year", "West et al 2011")]),
        (
            "teams (West et al., 2011; Dawson, 2009) do",
            [("author_year", "West et al., 2011"), ("author_year", "Dawson, 2009")],
        ),
        ("West & Dawson (2012) found", [("author_year", "West & Dawson (2012)")]),
        ("Kelley et al. (2014) pooled", [("author_year", "Kelley et al. (2014)")]),
        ("(see Del Canale et al., 2012, p. 1245)", [("author_year", "Del Canale et al., 2012, p. 1245")]),
        ("(van der Vegt & Bunderson, 2005)", [("author_year", "van der Vegt & Bunderson, 2005")]),
        ("Kraft-Todd and O'Neill (2019) wrote", [("author_year", "Kraft-Todd and O'Neill (2019)")]),
        ("(Müller & Šmíd, 2020)", [("author_year", "Müller & Šmíd, 2020")]),
        ("(Barsade & O’Neill, 2014a)", [("author_year", "Barsade & O’Neill, 2014a")]),
        ("(NHS England, n.d.)", [("author_year", "NHS England, n.d.")]),
        ("Tannembaum & Cerasoli, 2013, Human Factors", [("author_year", "Tannembaum & Cerasoli, 2013, Human Factors")]),
        ("We met in London, 2012, and talked.", []),
        ("outcomes [12].", [("numbered", "[12]")]),
        ("outcomes [3–5] and [1, 7].", [("numbered", "[3–5]"), ("numbered", "[1, 7]")]),
        ("See https://example.org/a/b.", [("url", "https://example.org/a/b")]),
        ("(https://example.org/a_(b))", [("url", "https://example.org/a_(b)")]),
        ("doi:10.1016/S0140-6736(95)90975-3.", [("doi", "doi:10.1016/S0140-6736(95)90975-3")]),
        ("https://doi.org/10.2307/2666999;", [("doi", "https://doi.org/10.2307/2666999")]),
        ("in the year 1234 (2012) nothing", []),
    ],
)
def test_forms(text, expected):
    assert found(text) == expected


def test_values_and_numbers():
    doi = find_citations("https://doi.org/10.1056/NEJMoa1000678")[0]
    assert doi.value == "10.1056/nejmoa1000678"
    assert CitationString("[3–5, 8]", 0, 8, "numbered").numbers == ["3", "4", "5", "8"]


DOCUMENT = """Compassion lowers costs.3 Teams that reflect innovate more,1,2 as in Fig.3 and p.4 of the report.
Version 2.12 is irrelevant.

References
1. Schippers MC, West MA, Dawson JF. Team reflexivity and innovation: the moderating role of team
   context. J Manage. 2015;41(3):769-788.
2. Tannenbaum SI, Cerasoli CP. Do team and individual debriefs enhance performance? A meta-analysis.
   Hum Factors. 2013;55(1):231-245. doi:10.1177/0018720812448394
3. Bertakis KD, Azari R. Patient-centered care is associated with decreased health care utilization.
"""


def test_reference_list_and_superscripts():
    references = find_reference_list(DOCUMENT)
    assert set(references) == {"1", "2", "3"}
    assert references["1"].endswith("J Manage. 2015;41(3):769-788.")
    assert "\n" not in references["2"]
    numbered = [c.text for c in find_citations(DOCUMENT) if c.kind == "numbered"]
    # "costs.3" and "more,1,2" cite; "Fig.3", "p.4" and "2.12" do not.
    assert numbered == ["3", "1,2"]
    assert [c.value for c in find_citations(DOCUMENT) if c.kind == "doi"] == ["10.1177/0018720812448394"]


def test_superscripts_need_a_reference_list():
    assert not [c for c in find_citations("Compassion lowers costs.3 Next sentence.") if c.kind == "numbered"]


def test_reference_list_with_bracket_labels_is_not_cited_in_itself():
    text = "Body text [2].\n\nBibliography\n[1] West, M. A. (2021). Compassionate leadership. Swirling Leaf Press.\n[2] Edmondson, A. (1999). Psychological safety and learning behavior in work teams.\n"
    assert find_reference_list(text)["2"].startswith("Edmondson, A. (1999)")
    kinds = [(c.kind, c.text) for c in find_citations(text)]
    assert ("numbered", "[2]") in kinds
    assert ("numbered", "[1]") not in kinds
    assert sum(k == "reference" for k, _ in kinds) == 2
