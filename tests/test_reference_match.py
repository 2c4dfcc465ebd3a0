"""Reference matching against the real citations.bib: a labelled set scored for precision, recall and F1."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.bibliography import parse_bibliography
from ingest.citation_strings import CitationString, find_citations, find_reference_list
from ingest.errors import Problems
from ingest.reference_match import MATCH_THRESHOLD, ReferenceMatcher

ROOT = Path(__file__).resolve().parents[1]
DECK = ROOT / "evidence" / "documents" / "inspiring-through-compassionate-leadership.txt"
DATA = Path(__file__).parent / "data"


def matcher_for(path: Path) -> ReferenceMatcher:
    problems = Problems(path.parent)
    sources = parse_bibliography(path, problems)
    assert not problems.items
    return ReferenceMatcher(sources.values())


@pytest.fixture(scope="module")
def matcher() -> ReferenceMatcher:
    return matcher_for(ROOT / "citations.bib")


# Every citation in the deck, keyed by how its value starts → the entry citations.bib records for it.
DECK_LABELS = {
    "West, M. S., & Chowla, R. (2017)": "west2017compassionate",
    "https://www.nhsemployers.org/": "nhsemployers_staff_experience",
    "https://www.england.nhs.uk/publication/links-between": "nhsengland_staff_experience_links",
    "West, T. H., et al., (2022)": "west2022leader",
    "https://www.england.nhs.uk/culture/": "nhsengland_culture_programme",
    "https://www.kingsfund.org.uk/": "west2020courage",
    "https://www.gmc-uk.org/": "west2019caring",
    # Published online first in 2012; citations.bib has the 2015 issue of record.
    "Schippers, West & Dawson, 2012": "schippers2015team",
    "Tannembaum & Cerasoli, 2013": "tannenbaum2013team",  # the deck's misspelling of Tannenbaum
    "West, M. A. (2021)": "west2021compassionate",
    "Sonnentag, Venz & Casper, (2017)": "sonnentag2017advances",
    "https://apps.apple.com/": "selfcompassion_app",
}

# Variants, typos, wrong years, other styles, works not in the bibliography (None) and ambiguous ones (None).
LABELLED = [
    # author–year forms of works in the bibliography
    ("Kelley et al. (2014)", "kelley2014influence"),
    ("(Kelley et al., 2014)", "kelley2014influence"),
    ("Kelley, Kraft-Todd, Schapira, Kossowsky & Riess, 2014", "kelley2014influence"),
    ("(Edmondson, 1999)", "edmondson1999psychological"),
    ("Edmondson (1999)", "edmondson1999psychological"),
    ("(Schippers et al., 2015)", "schippers2015team"),
    ("(Tannenbaum & Cerasoli, 2013)", "tannenbaum2013team"),
    ("(Sonnentag et al., 2017)", "sonnentag2017advances"),
    ("(Kirby, Tellegen & Steindl, 2017)", "kirby2017meta"),
    ("(Temel et al., 2010)", "temel2010early"),
    ("(Hojat et al., 2011)", "hojat2011physicians"),
    ("(Del Canale et al., 2012)", "delcanale2012relationship"),
    ("(del Canale et al., 2012)", "delcanale2012relationship"),
    ("(Beach, Keruly & Moore, 2006)", "beach2006quality"),
    ("(Fogarty et al., 1999)", "fogarty1999can"),
    ("(Barsade & O'Neill, 2014)", "barsade2014whats"),
    ("(Barsade & O’Neill, 2014)", "barsade2014whats"),
    ("(Bertakis & Azari, 2011)", "bertakis2011patient"),
    ("(Stewart et al., 2000)", "stewart2000impact"),
    ("(Redelmeier, Molin & Tibshirani, 1995)", "redelmeier1995randomised"),
    ("(Egbert et al., 1963)", "egbert1963value"),
    ("(Egbert et al., 1964)", "egbert1964reduction"),
    ("(Trzeciak et al., 2017)", "trzeciak2017association"),
    ("Trzeciak & Mazzarelli (2019)", "trzeciak2019compassionomics"),
    ("West et al. (2020)", "west2020courage"),
    ("West & Coia (2019)", "west2019caring"),
    ("West (2021)", "west2021compassionate"),
    ("West & Chowla (2017)", "west2017compassionate"),
    ("(NHS Employers, n.d.)", "nhsemployers_staff_experience"),
    # accents and case folded
    ("(SCHIPPERS, WEST & DAWSON, 2015)", "schippers2015team"),
    ("(Schippers, West, & Dawson, 2015)", "schippers2015team"),
    # typos in the first author
    ("(Tannenbaun & Cerasoli, 2013)", "tannenbaum2013team"),
    ("(Sonnentaag et al., 2017)", "sonnentag2017advances"),
    ("(Redelmaier et al., 1995)", "redelmeier1995randomised"),
    ("(Edmonson, 1999)", "edmondson1999psychological"),
    # one year off: tolerated with a lower score
    ("Kelley et al. (2015)", "kelley2014influence"),
    ("(Temel et al., 2011)", "temel2010early"),
    # full references in other styles
    (
        "Kelley JM, Kraft-Todd G, Schapira L, Kossowsky J, Riess H. The influence of the patient-clinician "
        "relationship on healthcare outcomes: a systematic review and meta-analysis of randomized controlled "
        "trials. PLoS One. 2014;9(4):e94207.",
        "kelley2014influence",
    ),
    (
        "Edmondson, A. (1999). Psychological safety and learning behavior in work teams. Administrative Science "
        "Quarterly, 44(2), 350–383.",
        "edmondson1999psychological",
    ),
    (
        "Temel, Jennifer S., et al. 2010. Early palliative care for patients with metastatic non-small-cell lung "
        "cancer. New England Journal of Medicine 363 (8): 733–42.",
        "temel2010early",
    ),
    (
        "Tannenbaum SI, Cerasoli CP. Do team and individual debriefs enhance performance? Hum Factors. 2013.",
        "tannenbaum2013team",
    ),
    # identifiers: exact and decisive
    ("https://doi.org/10.1177/0149206312441210", "schippers2015team"),
    ("doi:10.2307/2666999", "edmondson1999psychological"),
    ("10.1056/NEJMOA1000678", "temel2010early"),
    ("http://www.kingsfund.org.uk/publications/courage-compassion-supporting-nurses-midwives/", "west2020courage"),
    # works that are not in the bibliography → None
    ("(West et al., 2011)", None),
    ("(Dawson, 2009)", None),
    ("West & Dawson (2012)", None),
    ("(Edmondson, 2018)", None),
    ("(Smith & Jones, 2010)", None),
    ("Gilbert (2014)", None),
    ("(Neff, 2003)", None),
    ("(Kelley et al., 2019)", None),
    ("(West & Smith, 2017)", None),
    ("(Hojat et al., 2009)", None),
    (
        "West, M. A. (2021). Teams that work: nursing rotas in the pandemic. Nursing Times, 117(3), 20-22.",
        None,
    ),
    ("https://doi.org/10.1000/182", None),
    ("https://www.england.nhs.uk/long-read/nhs-staff-survey/", None),
    ("(Dawson et al., 2022)", None),  # a co-author of west2022leader, never its first author
    ("(NHS England, 2018)", None),
    # ambiguous: a bare surname + year that fits two sources → None
    ("(NHS England, n.d.)", None),
    ("(West, 2018)", None),
]


def score_labelled(matcher: ReferenceMatcher):
    text = DECK.read_text(encoding="utf-8")
    cases: list[tuple[CitationString | str, str | None]] = []
    for citation in find_citations(text):
        label = next(key for start, key in DECK_LABELS.items() if citation.value.startswith(start))
        cases.append((citation, label))
    cases += LABELLED
    true_pos = false_pos = false_neg = 0
    errors = []
    for citation, expected in cases:
        got = matcher.match(citation)
        assert 0.0 <= got.score <= 1.0
        if got.key is not None and got.key == expected:
            true_pos += 1
        elif got.key is not None:
            false_pos += 1
            errors.append((citation, expected, got))
        if expected is not None and got.key != expected:
            false_neg += 1
            errors.append((citation, expected, got))
    return cases, true_pos, false_pos, false_neg, errors


def test_labelled_set_precision_recall_f1(matcher: ReferenceMatcher):
    cases, tp, fp, fn, errors = score_labelled(matcher)
    assert len(cases) >= 60
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"\nreference matching: n={len(cases)} precision={precision:.3f} recall={recall:.3f} F1={f1:.3f}")
    for citation, expected, got in errors:
        print(f"  {getattr(citation, 'value', citation)[:70]!r}: expected {expected}, got {got}")
    assert precision >= 0.95
    assert f1 >= 0.9


def test_every_deck_citation_is_labelled_and_matched(matcher: ReferenceMatcher):
    for citation in find_citations(DECK.read_text(encoding="utf-8")):
        expected = next(key for start, key in DECK_LABELS.items() if citation.value.startswith(start))
        assert matcher.match(citation).key == expected, citation


def test_ambiguous_reason(matcher: ReferenceMatcher):
    result = matcher.match("(NHS England, n.d.)")
    assert result.key is None
    assert result.reason.startswith("ambiguous")
    assert "nhsengland_culture_programme" in result.reason


def test_ambiguity_in_a_bibliography_with_two_works_by_one_author_in_one_year(tmp_path: Path):
    # The same two real entries under keys that differ: a bare "Egbert (1963)" then fits both.
    text = (ROOT / "citations.bib").read_text(encoding="utf-8")
    start = text.index("@article{egbert1963value")
    entry = text[start : text.index("\n}\n", start) + 3]
    twin = entry.replace("egbert1963value", "egbert1963copy").replace(
        "The value of the preoperative visit", "A second paper"
    )
    bib = tmp_path / "two.bib"
    bib.write_text(entry + "\n" + twin, encoding="utf-8")
    two = matcher_for(bib)
    assert two.match("(Egbert et al., 1963)").reason.startswith("ambiguous")
    # Title words settle it.
    full = "Egbert, L. D., et al. (1963). The value of the preoperative visit by an anesthetist. JAMA, 185, 553-555."
    assert two.match(full).key == "egbert1963value"


def test_wrong_year_scores_lower(matcher: ReferenceMatcher):
    exact = matcher.match("Kelley et al. (2014)")
    near = matcher.match("Kelley et al. (2015)")
    assert exact.key == near.key == "kelley2014influence"
    assert near.score < exact.score
    assert matcher.match("Kelley et al. (2016)").key is None


def test_identifier_wins_over_names(matcher: ReferenceMatcher):
    # The names and year point at Kelley 2014; the DOI is Edmondson's, and an exact DOI wins.
    result = matcher.match("Kelley et al. (2014). Something. doi:10.2307/2666999")
    assert (result.key, result.score, result.reason) == ("edmondson1999psychological", 1.0, "doi")


def test_below_threshold_returns_none_with_score(matcher: ReferenceMatcher):
    result = matcher.match("(West & Smith, 2017)")
    assert result.key is None
    assert result.score < MATCH_THRESHOLD
    assert "below threshold" in result.reason


def test_numbered_citations_resolve_through_the_reference_list(matcher: ReferenceMatcher):
    document = (DATA / "refs_numbered_document.txt").read_text(encoding="utf-8")
    references = find_reference_list(document)
    numbered = [c for c in find_citations(document) if c.kind == "numbered"]
    assert [c.text for c in numbered] == ["[1]", "[2–3]", "4"]
    assert matcher.match(numbered[0], reference_list=references).key == "schippers2015team"
    assert [m.key for m in matcher.match_all(numbered[1], reference_list=references)] == [
        "tannenbaum2013team",
        "edmondson1999psychological",
    ]
    assert matcher.match(numbered[1], reference_list=references).key is None  # two works: use match_all
    assert matcher.match(numbered[2], reference_list=references).key is None  # [4] is not in the bibliography
    assert matcher.match(numbered[0]).reason.endswith("without a reference list")
    assert "not in the reference list" in matcher.match("[9]", reference_list=references).reason
