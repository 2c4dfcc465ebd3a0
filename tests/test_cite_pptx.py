"""PowerPoint evidence cards, reopened with python-pptx and converted by LibreOffice."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from cite_data import APA_ORDER, APA_PLAIN, CLAIMS
from pptx import Presentation

from kb.cite.pptx import format_pptx
from kb.cite.select import select

ORDER = ["homeless-ed-compassion-return-visits", "fixture-discrepant-claim", "recovery-experiences", "unsourced-claim"]


@pytest.fixture
def deck_bytes(cite_db):
    selection = select(cite_db, claim_ids=ORDER)
    return format_pptx(selection.claims, selection.sources)


@pytest.fixture
def deck(deck_bytes):
    return Presentation(io.BytesIO(deck_bytes))


def texts(slide) -> list[str]:
    return [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]


def shape(slide, name):
    return next(s for s in slide.shapes if s.name == name)


def test_one_slide_per_claim_plus_references(deck):
    assert len(deck.slides) == len(ORDER) + 1
    assert deck.slides[-1].shapes.title.text_frame.text == "References"


def test_card_shows_statement_effect_certainty_and_citation(deck):
    card = deck.slides[0]
    claim = next(c for c in CLAIMS if c["id"] == ORDER[0])
    assert card.shapes.title.text_frame.text == claim["statement"]
    assert shape(card, "Effect").text_frame.text == "EFFECT\n33% less likely"
    assert shape(card, "Certainty").text_frame.text == "CERTAINTY\nModerate"
    assert shape(card, "Citation").text_frame.text == "(Redelmeier et al., 1995)"


def test_notes_hold_the_verbatim_quote(deck):
    for slide, claim_id in zip(deck.slides, ORDER):
        claim = next(c for c in CLAIMS if c["id"] == claim_id)
        notes = slide.notes_slide.notes_text_frame.text
        assert claim["quote"] in notes


def test_notes_say_where_the_quote_is_and_give_the_full_reference(deck):
    notes = deck.slides[0].notes_slide.notes_text_frame.text
    assert "slide 7 \u201cCompassion in Health and Social Care\u201d, lines 1\u20133" in notes
    assert APA_PLAIN["redelmeier1995randomised"] in notes


def test_discrepancy_is_shown_on_the_card(deck):
    body = shape(deck.slides[1], "Discrepancy").text_frame.text
    assert "Note: Deck: \u201c50% lower\u201d. Source (abstract): \u201ca one third reduction\u201d" in body


def test_unsourced_claim_is_marked(deck):
    assert shape(deck.slides[3], "Citation").text_frame.text == "No source identified"
    assert "Effect" in [s.name for s in deck.slides[3].shapes]


def test_references_slide_lists_each_source_with_italics(deck):
    frame = shape(deck.slides[-1], "References").text_frame
    entries = [p.text for p in frame.paragraphs]
    assert entries == [
        APA_PLAIN[k]
        for k in ["redelmeier1995randomised", "sonnentag2017advances", "west2019caring", "west2021compassionate"]
    ]
    italic = [r.text for r in frame.paragraphs[0].runs if r.font.italic]
    assert italic == ["The Lancet", "345"]


def test_long_reference_lists_continue_on_more_slides():
    from cite_data import sources

    from kb.cite.apa import Bibliography
    from kb.cite.pptx import add_reference_slides

    deck = Presentation()
    add_reference_slides(deck, Bibliography(sources()))  # all 15 references
    titles = [s.shapes.title.text_frame.text for s in deck.slides]
    assert titles[0] == "References" and all(t == "References (continued)" for t in titles[1:])
    assert len(deck.slides) > 1
    listed = [p.text for s in deck.slides for p in shape(s, "References").text_frame.paragraphs]
    assert listed == [APA_PLAIN[k] for k in APA_ORDER]


def _soffice():
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(_soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_converts_it_to_a_pdf_with_one_page_per_slide(deck_bytes, tmp_path):
    source = tmp_path / "cards.pptx"
    source.write_bytes(deck_bytes)
    subprocess.run(
        [
            _soffice(),
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    pdf = (tmp_path / "cards.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
    assert pages == len(ORDER) + 1
