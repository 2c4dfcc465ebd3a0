"""Make real documents for the reader tests: PDFs (reportlab, pypdf), PowerPoint, Word and HTML files.

Plain functions, no pytest fixtures, so conftest.py and other tests can use them too.
Each writes a file and returns its path.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DECK_ID = "inspiring-through-compassionate-leadership"
DECK_DIR = ROOT / "evidence" / "documents"
SOFFICE_TIMEOUT_S = 180


# --- PDF ---------------------------------------------------------------------------------------------------------


def pdf_bytes(
    pages: list[list[str]],
    landscape: bool = False,
    *,
    title: str | None = None,
    author: str | None = None,
    created: dt.datetime | None = None,
    font_size: float = 11,
    reportlab_info: bool = False,
) -> bytes:
    """A PDF with one drawString per line in Helvetica, and exactly the metadata given (none by default).

    reportlab always writes its own placeholders ("untitled", "anonymous") and today's
    date, so the document information is rewritten with pypdf to say only what was asked
    (`reportlab_info=True` keeps reportlab's own, placeholders and all).
    """
    from pypdf import PdfReader, PdfWriter
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.pagesizes import landscape as to_landscape
    from reportlab.pdfgen import canvas

    size = to_landscape(A4) if landscape else A4
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=size)
    leading, margin = font_size * 1.25, 40
    for lines in pages:
        if len(lines) * leading > size[1] - 2 * margin:
            raise ValueError(f"{len(lines)} lines do not fit on one page at {font_size} pt")
        y = size[1] - margin
        for line in lines:
            pdf.setFont("Helvetica", font_size)
            pdf.drawString(margin, y, line)
            y -= leading
        pdf.showPage()
    pdf.save()
    if reportlab_info:
        return buffer.getvalue()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    writer.metadata = None
    info = {"/Title": title, "/Author": author, "/CreationDate": created and created.strftime("D:%Y%m%d%H%M%S")}
    if any(info.values()):
        writer.add_metadata({k: v for k, v in info.items() if v})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write_pdf(path, pages: list[list[str]], landscape: bool = False, **metadata) -> Path:
    """`pages` is a list of pages, each a list of lines; metadata: title, author, created, font_size, reportlab_info."""
    path = Path(path)
    path.write_bytes(pdf_bytes(pages, landscape, **metadata))
    return path


def write_encrypted_pdf(path, password: str = "secret") -> Path:
    """A text PDF that needs a password to open (RC4-128: pypdf's AES needs the `cryptography` package)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes([["Confidential findings."]]))))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    path = Path(path)
    with path.open("wb") as out:
        writer.write(out)
    return path


def write_scanned_pdf(path, pages: int = 2) -> Path:
    """Pages with drawings and a raster image but no text layer, as a scanner makes them."""
    from PIL import Image, ImageDraw
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("L", (400, 200), color=255)
    draw = ImageDraw.Draw(image)
    for y in range(20, 200, 24):
        draw.rectangle((20, y, 380, y + 8), fill=40)  # grey bars where a scan's lines of print would be
    path = Path(path)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for _ in range(pages):
        pdf.drawImage(ImageReader(image), 60, 400, width=400, height=200)
        pdf.rect(50, 50, 495, 740)
        pdf.line(60, 380, 530, 380)
        pdf.showPage()
    pdf.save()
    return path


# --- PowerPoint --------------------------------------------------------------------------------------------------


def _set_core_properties(props, title, author, created) -> None:
    if title is not None:
        props.title = title
    if author is not None:
        props.author = author
    if created is not None:
        props.created = created


def write_pptx(
    path,
    slides: list[tuple[str, list[str], str | None]],
    *,
    title: str | None = None,
    author: str | None = None,
    created: dt.datetime | None = None,
) -> Path:
    """One "Title and Content" slide per (title, bullets, notes); core properties left as python-pptx's unless given."""
    from pptx import Presentation

    deck = Presentation()
    for slide_title, bullets, notes in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = slide_title
        body = slide.placeholders[1].text_frame
        for i, bullet in enumerate(bullets):
            paragraph = body.paragraphs[0] if i == 0 else body.add_paragraph()
            paragraph.text = bullet
        if notes is not None:
            slide.notes_slide.notes_text_frame.text = notes
    _set_core_properties(deck.core_properties, title, author, created)
    path = Path(path)
    deck.save(path)
    return path


def write_pptx_shapes(path) -> Path:
    """One slide whose shapes were added out of reading order: text boxes, a group, a table, a line break."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])  # Title Only
    slide.shapes.title.text = "Shapes in reading order"
    # Added bottom first: the reader must sort by position, not by insertion order.
    slide.shapes.add_textbox(Inches(1), Inches(6), Inches(4), Inches(0.5)).text_frame.text = "Bottom box"
    right = slide.shapes.add_textbox(Inches(5), Inches(2), Inches(4), Inches(0.5))
    right.text_frame.text = "Top right box"
    left = slide.shapes.add_textbox(Inches(1), Inches(2), Inches(4), Inches(0.5))
    left.text_frame.text = "Top left box\vsecond line after a break"
    group = slide.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(3.5), Inches(3), Inches(0.4)).text_frame.text = "Grouped first"
    group.shapes.add_textbox(Inches(1), Inches(3.0), Inches(3), Inches(0.4)).text_frame.text = "Grouped above"
    table = slide.shapes.add_table(2, 3, Inches(1), Inches(4.5), Inches(6), Inches(1)).table
    for r, row in enumerate([["Outcome", "Effect", "n"], ["Stress", "-0.3", "120"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    path = Path(path)
    deck.save(path)
    return path


# --- Word --------------------------------------------------------------------------------------------------------


def write_docx(
    path,
    blocks: list,
    *,
    title: str | None = None,
    author: str | None = None,
    created: dt.datetime | None = None,
) -> Path:
    """Blocks in order: a str is a paragraph, ("heading", level, text) a heading (level 0 = Title style),
    ("table", rows) a table of strings. Core properties are python-docx's unless given."""
    from docx import Document

    document = Document()
    for block in blocks:
        if isinstance(block, str):
            document.add_paragraph(block)
        elif block[0] == "heading":
            document.add_heading(block[2], level=block[1])
        elif block[0] == "table":
            rows = block[1]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
        else:
            raise ValueError(f"unknown block {block!r}")
    _set_core_properties(document.core_properties, title, author, created)
    path = Path(path)
    document.save(path)
    return path


# --- HTML --------------------------------------------------------------------------------------------------------


def write_html(path, body: str, *, title: str | None = None, head: str = "", encoding: str = "utf-8") -> Path:
    """A whole page around `body`, encoded in `encoding` and declaring it in <meta charset>."""
    title_tag = f"<title>{title}</title>" if title is not None else ""
    page = (
        f'<!DOCTYPE html>\n<html><head><meta charset="{encoding}">{title_tag}{head}</head>\n'
        f"<body>\n{body}\n</body></html>\n"
    )
    path = Path(path)
    path.write_bytes(page.encode(encoding))
    return path


# --- The curated deck, rendered ----------------------------------------------------------------------------------


def deck_slides() -> list[tuple[str, list[str]]]:
    """(heading, body lines) per slide of the curated deck, from its .yaml slide map and its .txt.

    A slide's lines run from its `line` to the next slide's; blank lines are dropped, and so
    are the leading lines that spell the heading itself (it becomes the slide title).
    Bracketed headings only describe a slide that has none: such a slide gets no title,
    so nothing appears on it that the deck does not say.
    """
    meta = yaml.safe_load((DECK_DIR / f"{DECK_ID}.yaml").read_text(encoding="utf-8"))
    lines = (DECK_DIR / f"{DECK_ID}.txt").read_text(encoding="utf-8").split("\n")
    marks = [s["line"] for s in meta["slides"]] + [len(lines) + 1]
    slides = []
    for slide, start, end in zip(meta["slides"], marks, marks[1:]):
        heading = slide["heading"]
        body = lines[start - 1 : end - 1]
        if not heading.startswith("["):
            body = _without_heading(body, heading)
            title = heading
        else:
            title = ""
        slides.append((title, [line for line in body if line.strip()]))
    return slides


def _without_heading(body: list[str], heading: str) -> list[str]:
    wanted, seen = " ".join(heading.split()), []
    for n, line in enumerate(body, start=1):
        seen.append(line)
        joined = " ".join(" ".join(seen).split())
        if joined == wanted:
            return body[n:]
        if not wanted.startswith(joined):
            break
    return body


def write_deck_renderings(dest_dir) -> tuple[Path, Path | None]:
    """The curated deck as a PowerPoint (one slide per slide of its .yaml) and that deck converted to PDF by
    LibreOffice; the PDF is None when `soffice` is not installed."""
    from pptx import Presentation
    from pptx.util import Inches, Pt

    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    deck = Presentation()
    for title, body in deck_slides():
        slide = deck.slides.add_slide(deck.slide_layouts[5])  # Title Only: no automatic bullets on the body
        if title:
            slide.shapes.title.text = title
            for paragraph in slide.shapes.title.text_frame.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(26)
        box = slide.shapes.add_textbox(Inches(0.5), Inches(1.5), Inches(9), Inches(5.8)).text_frame
        box.word_wrap = True
        for i, line in enumerate(body):
            paragraph = box.paragraphs[0] if i == 0 else box.add_paragraph()
            paragraph.text = line
            paragraph.font.size = Pt(9)
    pptx_path = dest_dir / f"{DECK_ID}.pptx"
    deck.save(pptx_path)
    soffice = shutil.which("soffice")
    if soffice is None:
        return pptx_path, None
    return pptx_path, convert_to_pdf(soffice, pptx_path, dest_dir)


def convert_to_pdf(soffice: str, source: Path, dest_dir: Path) -> Path:
    # A private LibreOffice profile per call: parallel runs sharing one profile block or crash.
    with tempfile.TemporaryDirectory(prefix="kb-soffice-") as profile:
        command = [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(dest_dir),
            str(source),
        ]
        env = {**os.environ, "HOME": profile}
        done = subprocess.run(command, capture_output=True, text=True, timeout=SOFFICE_TIMEOUT_S, env=env)
    pdf_path = dest_dir / (source.stem + ".pdf")
    if done.returncode != 0 or not pdf_path.exists():
        raise RuntimeError(f"LibreOffice could not convert {source.name}: {done.stderr.strip() or done.stdout.strip()}")
    return pdf_path
