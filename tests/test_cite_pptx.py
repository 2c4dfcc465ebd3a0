"""PowerPoint evidence cards, reopened with python-pptx and converted by LibreOffice."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from cite_data import APA_ORDER, APA_PLAIN, CLAIMS
from documents import convert_to_pdf
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
    convert_to_pdf(_soffice(), source, tmp_path)
    pdf = (tmp_path / "cards.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
    assert pages == len(ORDER) + 1


def test_cards_without_a_place_on_the_map_get_no_map_slide(deck):
    # The fixture's claims name no intervention or outcome, so nothing can be placed.
    assert not [s for slide in deck.slides for s in slide.shapes if s.name == "evidence-map"]
    assert not [s for slide in deck.slides for s in slide.shapes if s.name == "effect-chart"]  # no numeric effect


# -- the evidence map and the effect charts, on claims of the real KB --------------------------------

MAPPED = [
    "us-gp-compassion-lower-medical-bills",  # discrepant: source -33.9%, deck -51%
    "homeless-ed-compassion-return-visits",  # discrepant, both percentages
    "compassion-rcts-service-user-mental-health",  # discrepant, only the source has a figure (d)
    "diabetes-compassion-blood-sugar-control",  # unchecked deck figure
    "team-debriefs-performance",  # a source d, but the card leads with no figure
    "recovery-experiences",  # a framework: no effect, no place on the map
]
MAP_TITLE = "Evidence map: claims by intervention and outcome"


@pytest.fixture(scope="module")
def real_deck_bytes(built_db_no_embed):
    from kb.charts import queries
    from kb.cite.select import open_db

    selection = select(built_db_no_embed, claim_ids=MAPPED)
    labels = queries.topic_labels(open_db(built_db_no_embed).conn)
    return format_pptx(selection.claims, selection.sources, labels)


@pytest.fixture(scope="module")
def real_deck(real_deck_bytes):
    return Presentation(io.BytesIO(real_deck_bytes))


def test_map_slide_comes_before_the_cards_with_a_picture_that_decodes(real_deck):
    from PIL import Image

    first = real_deck.slides[0]
    assert first.shapes.title.text_frame.text == MAP_TITLE
    assert len(real_deck.slides) == 1 + len(MAPPED) + 1
    assert real_deck.slides[1].shapes.title.text_frame.text.startswith("In the US")
    picture = shape(first, "evidence-map")
    image = Image.open(io.BytesIO(picture.image.blob))
    image.load()  # decodes every pixel
    assert image.format == "PNG" and image.width >= 1500
    colours = image.convert("RGB").getcolors(1_000_000)
    assert len(colours) > 50  # bubbles, grid and labels, not a blank
    caption = shape(first, "Map caption").text_frame.text
    assert caption.startswith(f"The {len(MAPPED)} claims in this deck: 5 on the map")
    assert "1 with no intervention or outcome is not shown" in caption
    notes = first.notes_slide.notes_text_frame.text
    assert "Compassionate care \u2192 Costs and use of services: 1 moderate, 1 very low" in notes


def test_each_card_with_a_figure_has_a_chart_beside_it(real_deck):
    cards = dict(zip(MAPPED, list(real_deck.slides)[1:]))
    with_chart = {claim_id for claim_id, card in cards.items() if "effect-chart" in [s.name for s in card.shapes]}
    assert with_chart == set(MAPPED[:4])
    for claim_id in with_chart:
        card = cards[claim_id]
        chart, effect = (
            shape(card, "effect-chart"),
            next(s for s in card.shapes if s.name in ("Effect", "Source figure")),
        )
        assert chart.left >= effect.left + effect.width and chart.left + chart.width <= shape(card, "Certainty").left
        assert effect.top <= chart.top and chart.top + chart.height <= effect.top + effect.height
        assert chart.image.blob.startswith(b"\x89PNG")
    bills = shape(cards[MAPPED[0]], "effect-chart")._element.nvPicPr.cNvPr.get("descr")
    assert bills == "Chart of the figure: Source \u221233.9%; Deck says \u221251%"  # the verified figure first
    rcts = shape(cards[MAPPED[2]], "effect-chart")._element.nvPicPr.cNvPr.get("descr")
    assert rcts == "Chart of the figure: Source d = 0.51"


def test_the_headline_rules_hold_beside_the_chart(real_deck):
    card = real_deck.slides[1]
    frame = shape(card, "Source figure").text_frame
    # The curated short form of the source's figure (source_effect.summary), not its long verbatim sentence.
    assert frame.paragraphs[0].text == "SOURCE FIGURE"
    assert frame.paragraphs[1].text.startswith("about 34% lower median annual charges")
    deck_says = frame.paragraphs[2]
    assert deck_says.text == "The deck says \u201c51% lower medical bill\u201d"
    assert deck_says.runs[0].font.size.pt >= 18


def test_importing_the_pptx_module_does_not_load_vl_convert():
    import subprocess
    import sys

    code = "import sys, kb.cite.pptx; print('vl_convert' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.skipif(_soffice() is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
def test_libreoffice_shows_the_map_slide(real_deck_bytes, real_deck, tmp_path):
    import pypdfium2
    from PIL import Image

    source = tmp_path / "map.pptx"
    source.write_bytes(real_deck_bytes)
    convert_to_pdf(_soffice(), source, tmp_path)
    pdf = pypdfium2.PdfDocument(tmp_path / "map.pdf")
    assert len(pdf) == len(real_deck.slides)
    first_page = " ".join(pdf[0].get_textpage().get_text_range().split())
    assert MAP_TITLE in first_page and "on the map, placed by their topics" in first_page
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-r", "50", "-png", str(tmp_path / "map.pdf"), str(tmp_path / "page")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    page = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    picture = shape(real_deck.slides[0], "evidence-map")
    sx, sy = page.width / real_deck.slide_width, page.height / real_deck.slide_height
    box = (
        int(picture.left * sx),
        int(picture.top * sy),
        int((picture.left + picture.width) * sx),
        int((picture.top + picture.height) * sy),
    )
    inside = page.crop(box)
    dark = sum(inside.histogram()[:200])  # pixels darker than light grey
    assert dark > inside.width * inside.height * 0.02, "the map's area is blank in LibreOffice's rendering"
    # A same-sized area of the page below the caption stays white: the count above is the picture's.
    below = page.crop((box[0], int(page.height * 0.96), box[2], page.height))
    assert sum(below.histogram()[:200]) == 0
