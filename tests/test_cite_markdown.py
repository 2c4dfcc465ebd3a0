"""Slide-ready Markdown: claim, effect, in-text citation, footnoted discrepancies, references."""

from __future__ import annotations

import re

import pytest
from cite_data import APA_PLAIN

from kb.cite.markdown import format_markdown
from kb.cite.select import select


@pytest.fixture
def selection(cite_db):
    return select(
        cite_db,
        claim_ids=[
            "homeless-ed-compassion-return-visits",
            "fixture-discrepant-claim",
            "recovery-experiences",
            "unsourced-claim",
        ],
    )


@pytest.fixture
def text(selection):
    return format_markdown(selection.claims, selection.sources)


def blocks(text):
    body = text.split("\n[^1]:")[0]
    return [b.strip() for b in body.split("\n---\n")]


def test_each_claim_is_followed_by_its_effect_and_citation(text):
    first = blocks(text)[0]
    assert first == (
        "**In a Canadian randomised trial, homeless people who received compassion at the emergency department "
        "(A&E) were 33% less likely to return to it.**\n\n"
        "Effect: 33% less likely (Redelmeier et al., 1995)\n\n"
        "Certainty: Moderate"
    )


def test_claim_without_effect_carries_its_citation(text):
    recovery = blocks(text)[2]
    assert recovery.startswith("**Four recovery experiences")
    assert "mastery and control.** (Sonnentag et al., 2017)" in recovery


def test_unsourced_claim_says_so(text):
    unsourced = blocks(text)[3]
    assert "Source: none identified" in unsourced and "(" not in unsourced


def test_discrepancy_is_a_footnote(text):
    discrepant = blocks(text)[1]
    # Issue 10.3: the source's figure leads; the deck's is shown as "the deck says …".
    assert (
        "Source figure: a one third reduction (the deck says \u201c50% lower\u201d) (West & Coia, 2019; West, 2021)[^1]"
        in discrepant
    )
    definitions = re.findall(r"^\[\^(\d+)\]: (.+)$", text, flags=re.M)
    assert definitions == [
        (
            "1",
            "Deck: \u201c50% lower\u201d. Source (abstract): \u201ca one third reduction\u201d (Redelmeier et al., 1995). "
            "Fixture: the deck rounds the source's one-third reduction up to a half.",
        )
    ]
    assert text.count("[^1]") == 2


def test_reference_list_follows_the_claims_in_apa_order(text):
    refs = blocks(text)[-1]
    assert refs.startswith("## References\n\n")
    entries = refs.split("\n\n")[1:]
    plain = [e.replace("*", "") for e in entries]
    # The source the footnote cites is listed too.
    assert plain == [
        APA_PLAIN[k]
        for k in ["redelmeier1995randomised", "sonnentag2017advances", "west2019caring", "west2021compassionate"]
    ]


def test_renders_as_commonmark_with_bold_statements_rules_and_italics(text):
    markdown_it = pytest.importorskip("markdown_it")
    html = markdown_it.MarkdownIt("commonmark").render(text)
    assert html.count("<hr />") == 4
    assert "<strong>In a Canadian randomised trial" in html
    assert "<h2>References</h2>" in html
    assert "<em>The Lancet</em>, <em>345</em>(8958)" in html


def test_works_from_rows_without_a_database(selection):
    # As the Datasette plugin calls it: plain dicts, no connection.
    claims = [dict(c) for c in selection.claims[:1]]
    sources = [dict(s) for s in selection.sources if s["key"] == "redelmeier1995randomised"]
    text = format_markdown(claims, sources)
    assert "(Redelmeier et al., 1995)" in text and "## References" in text


def test_markdown_characters_in_statements_are_escaped():
    claim = {"id": "x", "statement": "Use *care* with_under_scores and _this_", "source_keys": "[]", "certainty": "low"}
    text = format_markdown([claim], [])
    assert "\\*care\\*" in text and "with_under_scores" in text and "\\_this\\_" in text
