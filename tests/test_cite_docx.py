"""The Word handout (`kb cite --format docx`), reopened with python-docx and converted by LibreOffice."""

from __future__ import annotations

import datetime
import io
import json
import os
import pty
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from cite_data import APA_PLAIN
from click.testing import CliRunner
from documents import convert_to_pdf
from docx.shared import Inches
from docx.text.hyperlink import Hyperlink

from kb.cite.docx import format_docx
from kb.cite.select import claims_by_id, open_db, select

ORDER = ["homeless-ed-compassion-return-visits", "fixture-discrepant-claim", "recovery-experiences", "unsourced-claim"]
REFERENCE_KEYS = ["redelmeier1995randomised", "sonnentag2017advances", "west2019caring", "west2021compassionate"]
NOW = datetime.datetime(2026, 5, 12, 9, 30, 0)
BILLS = "us-gp-compassion-lower-medical-bills"


def open_docx(data: bytes):
    return docx.Document(io.BytesIO(data))


@pytest.fixture
def selection(cite_db):
    return select(cite_db, claim_ids=ORDER)


@pytest.fixture
def handout(selection):
    return open_docx(format_docx(selection.claims, selection.sources, now=NOW))


def headings(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == "Heading 1"]


def section(document, heading: str) -> list:
    """The paragraphs under one Heading 1, up to the next."""
    paragraphs = document.paragraphs
    start = next(i for i, p in enumerate(paragraphs) if p.style.name == "Heading 1" and p.text == heading)
    out = []
    for p in paragraphs[start + 1 :]:
        if p.style.name == "Heading 1":
            break
        out.append(p)
    return out


def texts(paragraphs) -> list[str]:
    return [p.text for p in paragraphs]


def statement(selection, claim_id) -> str:
    return " ".join(next(c for c in selection.claims if c["id"] == claim_id)["statement"].split())


# -- structure ------------------------------------------------------------------------------


def test_title_and_date_come_first(handout):
    title, subtitle = handout.paragraphs[:2]
    assert (title.style.name, title.text) == ("Title", "Evidence handout")
    assert subtitle.style.name == "Subtitle"
    assert subtitle.text == "12 May 2026 \u00b7 4 claims \u00b7 4 sources"


def test_one_heading_per_claim_in_order_then_references(handout, selection):
    assert headings(handout) == [statement(selection, c) for c in ORDER] + ["References"]


def test_claim_shows_effect_certainty_quote_and_citation(handout, selection):
    claim = next(c for c in selection.claims if c["id"] == ORDER[0])
    body = section(handout, statement(selection, ORDER[0]))
    assert texts(body) == [
        "Effect: 33% less likely",
        "Certainty: Moderate",
        f"\u201c{claim['quote']}\u201d",
        "Verbatim from deck, slide 7 \u201cCompassion in Health and Social Care\u201d, lines 1\u20133",
        "Source: (Redelmeier et al., 1995)",
    ]
    assert body[2].style.name == "Quote"
    # One card per claim: nothing in it breaks from what follows but its last line.
    heading = next(p for p in handout.paragraphs if p.text == statement(selection, ORDER[0]))
    assert heading.paragraph_format.keep_with_next
    assert [p.paragraph_format.keep_with_next for p in body] == [True] * 4 + [None]
    # The extraction's line breaks stay: the quote is verbatim.
    assert "at \nA&E" in body[2].text


def test_discrepant_claim_leads_with_the_source_figure(handout, selection):
    body = texts(section(handout, statement(selection, "fixture-discrepant-claim")))
    assert body[0] == "Source figure: a one third reduction (the deck says \u201c50% lower\u201d)"
    assert body[-1].startswith("Deck vs source: Deck: \u201c50% lower\u201d. Source (abstract):")
    assert body[-1].endswith("Fixture: the deck rounds the source's one-third reduction up to a half.")


def test_unsourced_claim_says_so(handout, selection):
    body = texts(section(handout, statement(selection, "unsourced-claim")))
    assert "Source: none identified" in body
    assert not any(t.startswith("Effect") for t in body)


# -- references -----------------------------------------------------------------------------


def test_references_are_the_apa_list_with_italics_and_hanging_indent(handout):
    entries = section(handout, "References")
    assert texts(entries) == [APA_PLAIN[k] for k in REFERENCE_KEYS]
    for entry in entries:
        assert entry.paragraph_format.left_indent == Inches(0.5)
        assert entry.paragraph_format.first_line_indent == -Inches(0.5)
    lancet = entries[0]
    assert [r.text for r in lancet.runs if r.italic] == ["The Lancet", "345"]
    assert not any(r.italic for r in lancet.runs if "Redelmeier" in r.text)


def test_dois_and_urls_are_external_hyperlinks(handout):
    entries = section(handout, "References")
    links = [item for p in entries for item in p.iter_inner_content() if isinstance(item, Hyperlink)]
    assert [link.address for link in links] == [
        "https://doi.org/10.1016/S0140-6736(95)90975-3",
        "https://doi.org/10.1037/ocp0000079",
        "https://www.gmc-uk.org/-/media/documents/caring-for-doctors-caring-for-patients_pdf-80706341.pdf",
    ]
    assert all(link.text == link.address for link in links)
    rels = [r for r in handout.part.rels.values() if r.reltype.endswith("/hyperlink")]
    assert rels and all(r.is_external for r in rels)
    # The book has no DOI or URL, so its entry has no link.
    assert not entries[3].hyperlinks


def test_no_sources_says_so(cite_db):
    selection = select(cite_db, claim_ids=["unsourced-claim"])
    document = open_docx(format_docx(selection.claims, selection.sources, now=NOW))
    assert texts(section(document, "References")) == ["No sources cited."]


# -- core properties ------------------------------------------------------------------------


def test_core_properties_describe_the_handout(handout):
    props = handout.core_properties
    assert props.title == "Evidence handout, 12 May 2026"
    assert props.subject.startswith("4 claims and their references: In a Canadian randomised trial")
    assert len(props.subject) <= 255
    assert props.author == props.last_modified_by == "Evidence KB"
    assert props.created.replace(tzinfo=None) == props.modified.replace(tzinfo=None) == NOW
    assert props.comments == "4 sources, APA 7"
    assert props.keywords == "emergency-care, recovery"


def test_no_template_leftovers(selection):
    data = format_docx(selection.claims, selection.sources)
    package = zipfile.ZipFile(io.BytesIO(data))
    names = package.namelist()
    assert not [n for n in names if "thumbnail" in n or n == "docProps/app.xml"]
    core = package.read("docProps/core.xml").decode()
    assert "python-docx" not in core and "2013" not in core
    props = open_docx(data).core_properties
    assert props.last_printed is None and props.author == "Evidence KB"
    created = props.created.replace(tzinfo=None)
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    assert abs(now - created) < datetime.timedelta(minutes=5)


# -- hostile data ---------------------------------------------------------------------------


def test_control_characters_and_markup_in_the_data_are_text(selection):
    claims = [dict(c) for c in selection.claims]
    sources = [dict(s) for s in selection.sources]
    claims[0]["statement"] = 'Bell\x07 and NUL\x00 <w:p>&amp; "x"\x1b[31m'
    claims[0]["quote"] = "form\x0cfeed\ufffe and\x7f"
    claims[0]["certainty_note"] = "reason\x01"
    csl = json.loads(sources[0]["csl_json"])
    csl["title"] = "A title with a \x0b vertical tab"
    sources[0]["csl_json"] = json.dumps(csl)

    document = open_docx(format_docx(claims, sources, now=NOW))
    first = headings(document)[0]
    assert first == 'Bell\ufffd and NUL\ufffd <w:p>&amp; "x"\ufffd[31m'
    body = texts(section(document, first))
    assert "\u201cform\ufffdfeed\ufffd and\ufffd\u201d" in body
    assert "Certainty: Moderate \u2014 reason\ufffd" in body
    references = texts(section(document, "References"))
    assert "A title with a \ufffd vertical tab" in references[0]
    # Markup in the data made no extra paragraph or element.
    assert len(headings(document)) == len(ORDER) + 1


def test_unsafe_urls_are_not_links(selection):
    sources = [dict(s) for s in selection.sources]
    west = next(s for s in sources if s["key"] == "west2019caring")
    csl = json.loads(west["csl_json"])
    csl["URL"] = "javascript:alert(1)"
    west["csl_json"] = json.dumps(csl)
    with pytest.warns(UserWarning, match="dropped"):
        data = format_docx(selection.claims, sources, now=NOW)
    document = open_docx(data)
    addresses = [h.address for p in section(document, "References") for h in p.hyperlinks]
    assert addresses == ["https://doi.org/10.1016/S0140-6736(95)90975-3", "https://doi.org/10.1037/ocp0000079"]
    assert b"javascript" not in zipfile.ZipFile(io.BytesIO(data)).read("word/_rels/document.xml.rels")


# -- the real knowledge base ----------------------------------------------------------------


@pytest.fixture(scope="module")
def real_handout(built_db_no_embed):
    selection = select(built_db_no_embed, all_claims=True)
    return selection, format_docx(selection.claims, selection.sources)


def test_real_discrepant_claim_leads_with_the_source_figure(real_handout):
    selection, data = real_handout
    claim = next(c for c in selection.claims if c["id"] == BILLS)
    body = texts(section(open_docx(data), " ".join(claim["statement"].split())))
    figure = body[0]
    assert figure.startswith("Source figure: about 34% lower median annual charges")
    assert figure.index("34% lower") < figure.index("the deck says \u201c51% lower medical bill\u201d")
    assert body[1] == "Certainty: Very low \u2014 " + " ".join(claim["certainty_note"].split())
    assert "Source: (Bertakis & Azari, 2011)" in body


def test_real_unchecked_figure_says_so_in_words(real_handout, built_db_no_embed):
    _, data = real_handout
    (claim,) = claims_by_id(open_db(built_db_no_embed), ["anaesthetist-compassion-lower-opiate-requirement"])
    assert claim["effect_status"] == "unchecked"
    body = texts(section(open_docx(data), " ".join(claim["statement"].split())))
    assert body[0] == (f"Effect: {claim['effect_text']} (the deck's figure, not yet checked against the source)")


def test_real_handout_has_every_claim_and_source(real_handout, built_db_no_embed):
    selection, data = real_handout
    document = open_docx(data)
    n_claims = open_db(built_db_no_embed)["claims"].count
    assert len(headings(document)) == n_claims + 1
    assert len(section(document, "References")) == len(selection.sources)


def _soffice():
    return shutil.which("soffice") or shutil.which("libreoffice")


def _has_writer() -> bool:
    # Impress alone (what the PPTX tests need) answers "source file could not be
    # loaded" for a .docx and exits 0; Writer's core library tells them apart.
    soffice = _soffice()
    return soffice is not None and (Path(os.path.realpath(soffice)).parent / "libswlo.so").exists()


@pytest.mark.skipif(not _has_writer(), reason="LibreOffice Writer (libreoffice-writer-nogui) is not installed")
def test_libreoffice_pdf_holds_the_reference_list(real_handout, tmp_path):
    import pypdfium2

    from kb.cite import render

    selection, data = real_handout
    source = tmp_path / "handout.docx"
    source.write_bytes(data)
    convert_to_pdf(_soffice(), source, tmp_path)
    pdf = pypdfium2.PdfDocument(tmp_path / "handout.pdf")
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    # Lines wrap anywhere (inside URLs too), so compare without whitespace; pdfium
    # reports a hyphen the line broke after ("patient-|provider") as U+FFFE.
    squeezed = "".join(text.replace("\ufffe", "-").split())
    assert "Evidencehandout" in squeezed
    references = render("apa", [], selection.sources).splitlines()
    assert len(references) == len(selection.sources) > 20
    missing = [r for r in references if "".join(r.split()) not in squeezed]
    assert not missing
    assert squeezed.index("References") < squeezed.index("".join(references[0].split()))


# -- the command line -----------------------------------------------------------------------


def run(*args):
    from kb.cli import cli

    return CliRunner().invoke(cli, ["cite", *(str(a) for a in args)], catch_exceptions=False)


def test_cli_infers_docx_from_the_extension(cite_db, tmp_path):
    path = tmp_path / "x.docx"
    result = run("--db", cite_db, "--all", "-o", path)
    assert result.exit_code == 0 and result.stdout == ""
    assert f"Wrote {path}: 4 claim(s), 4 source(s), docx" in result.stderr
    assert zipfile.is_zipfile(path)
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
        assert "word/document.xml" in package.namelist()
    assert len(headings(docx.Document(str(path)))) == 5


def test_cli_refuses_an_extension_it_cannot_write(cite_db, tmp_path):
    result = run("--db", cite_db, "--all", "-o", tmp_path / "x.doc")
    assert result.exit_code == 2
    assert "cannot write .doc" in result.stderr and ".docx" in result.stderr
    assert not (tmp_path / "x.doc").exists()


def test_cli_docx_to_a_pipe_is_the_docx_bytes(cite_db):
    result = run("--db", cite_db, "--claim", ORDER[0], "--format", "docx")
    assert result.exit_code == 0
    assert headings(open_docx(result.stdout_bytes)) == [
        "In a Canadian randomised trial, homeless people who received compassion at the emergency department "
        "(A&E) were 33% less likely to return to it.",
        "References",
    ]


def test_cli_refuses_docx_on_a_terminal(cite_db):
    # CliRunner's stdout is never a terminal, so the real command runs on a pseudo-terminal.
    kb = Path(sys.executable).with_name("kb")
    controller, terminal = pty.openpty()
    try:
        result = subprocess.run(
            [str(kb), "cite", "--db", str(cite_db), "--all", "--format", "docx"],
            stdin=subprocess.DEVNULL,
            stdout=terminal,
            stderr=subprocess.PIPE,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
            timeout=120,
            text=True,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert result.returncode == 2
    assert "docx is a binary format: write it to a file with -o FILE." in result.stderr
    assert "Traceback" not in result.stderr
