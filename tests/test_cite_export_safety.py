"""Escaping by construction, file types, PPTX properties and verified figures first (issues 12.2, 13.2, 10.3/10.5)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import pypdfium2
import pytest
from markdown_it import MarkdownIt
from pptx import Presentation

from kb.cite import UnwritableExtension, format_for_output, select
from kb.cite.apa import format_apa, markdown_escape
from kb.cite.csl import safe_url
from kb.cite.markdown import format_markdown
from kb.cite.pptx import format_pptx

PAYLOAD = '<script>alert(1)</script><img src=x onerror="alert(2)"> $1,435 *a* _b_ `c` [d](javascript:e) | # f \\'


def _hostile_source():
    item = {
        "id": "evil",
        "type": "article-journal",
        "author": [{"family": PAYLOAD, "given": "A."}],
        "title": PAYLOAD,
        "container-title": PAYLOAD,
        "issued": {"date-parts": [[2020]]},
        "URL": "javascript:alert(3)",
    }
    return {"key": "evil", "csl_json": json.dumps(item)}


def test_markdown_exports_render_no_html_and_no_markup_from_data():
    md = MarkdownIt("commonmark")
    with pytest.warns(UserWarning, match="URL"):
        text = format_apa([_hostile_source()], "markdown")
    html = md.render(text)
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "$1,435" in html and "<code>" not in html
    claim = {"id": "c", "statement": PAYLOAD, "effect_text": "$1,435 vs $948", "source_keys": "[]", "citations": "[]"}
    html = md.render(format_markdown([claim], []))
    assert "<script" not in html and "<img" not in html and "$1,435 vs $948" in html


def test_markdown_escape_covers_each_syntax_character():
    for ch in "$*`<>[]|\\":
        assert markdown_escape(f"a{ch}b") == f"a\\{ch}b"
    assert markdown_escape("# heading") == "\\# heading" and markdown_escape("10.1016/x") == "10.1016/x"


def test_html_export_escapes_payloads_and_drops_unsafe_urls():
    with pytest.warns(UserWarning):
        html = format_apa([_hostile_source()], "html")
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    "url,ok", [("https://doi.org/10.1/x", True), ("doi:10.1/x", True), ("refs/a.html", True), ("javascript:x", False)]
)
def test_only_http_doi_and_relative_urls_are_safe(url, ok):
    assert safe_url(url) is ok


@pytest.mark.parametrize("path,fmt", [("refs.bib", "bibtex"), ("deck.PPTX", "pptx"), ("-", "apa"), (None, "apa")])
def test_format_follows_the_extension(path, fmt):
    assert format_for_output(path, None) == fmt


@pytest.mark.parametrize("path", ["refs.pdf", "refs.doc", "refs"])
def test_unwritable_extensions_are_refused(path):
    with pytest.raises(UnwritableExtension, match="cannot write"):
        format_for_output(path, None)
    assert format_for_output(path, "ris") == "ris"


@pytest.fixture(scope="module")
def deck(built_db_no_embed):
    selection = select(built_db_no_embed, all_claims=True)
    return selection, format_pptx(selection.claims, selection.sources)


def test_pptx_describes_itself_and_has_the_standard_size(deck):
    prs = Presentation(io.BytesIO(deck[1]))
    props = prs.core_properties
    assert (prs.slide_width, prs.slide_height) == (12_192_000, 6_858_000)
    assert props.author == "Evidence KB" and "Steve Canny" not in (props.last_modified_by or "")
    assert props.title.startswith("Evidence cards") and props.subject
    assert props.created.year >= 2025
    assert not [r for r in prs.part.package._rels.values() if r.reltype.endswith("/thumbnail")]
    links = [
        run.hyperlink.address
        for slide in prs.slides
        for shape in slide.shapes
        if shape.has_text_frame
        for p in shape.text_frame.paragraphs
        for run in p.runs
        if run.hyperlink.address
    ]
    assert any(a.startswith("https://doi.org/") for a in links)
    fonts = {
        r.font.name
        for s in prs.slides
        for sh in s.shapes
        if sh.has_text_frame
        for p in sh.text_frame.paragraphs
        for r in p.runs
    }
    assert fonts == {"Calibri"}


def test_discrepant_cards_lead_with_the_source_figure_in_the_rendered_pdf(deck, tmp_path):
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice (soffice) is not installed")
    selection, data = deck
    (tmp_path / "deck.pptx").write_bytes(data)
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / "deck.pptx")],
        check=True,
        capture_output=True,
        timeout=300,
    )
    pdf = pypdfium2.PdfDocument(tmp_path / "deck.pdf")
    pages = [" ".join(pdf[i].get_textpage().get_text_range().split()) for i in range(len(pdf))]
    discrepant = [c for c in selection.claims if c.get("effect_status") == "discrepant" and c.get("source_effect_text")]
    assert discrepant
    for claim in (c for c in discrepant if c.get("effect_text")):
        figure = claim.get("source_effect_summary") or claim["source_effect_text"]
        page = next(p for p in pages if " ".join(figure.split())[:40] in p)
        assert page.index("SOURCE FIGURE") < page.index("The deck says")
    bills = next(c for c in discrepant if c["id"] == "us-gp-compassion-lower-medical-bills")
    assert "$1,435" in bills["source_effect_text"]
