"""Cut a document's text into the units a claim can quote: bullets, sentences, short items, lists and titles.

Every segment spans verbatim text (`doc.text[s.char_start:s.char_end]`, trimmed of surrounding whitespace and
bullet glyphs) and never crosses a section boundary (page, slide, notes, heading).

PDF and plain text wrap a bullet or a paragraph over several lines, sometimes with blank lines between the
wrapped parts; those formats are read line by line and wrapped lines are joined back (see `_continues`).
PPTX, DOCX and HTML readers write one paragraph per line, so there a line joins the one before only on strong
evidence (it starts lower-case, or the one before ends on a connector): text pasted from a PDF into a slide keeps
its hard line breaks, one paragraph per wrapped line.

A plain-text file has no page or slide sections, but its layout still shows where one page or slide ends: two or
more blank lines, a form feed, or a line indented by a single space (the mark a PDF-to-text extraction leaves for a
page break). Those become region boundaries, so that a slide's title heads its own bullets (see `_inferred_cuts`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pysbd

from ingest.readers.base import ExtractedDocument
from ingest.statement import BULLET_GLYPHS

SEGMENT_KINDS = ("bullet", "sentence", "item", "title", "heading", "list", "reference")

# Formats whose text wraps lines inside a paragraph; the others give one paragraph per line.
WRAPPED_FORMATS = ("pdf", "txt", "md", "other")

SHORT_ITEM_WORDS = 12  # a single sentence this short, alone in its block, is a list item or a label, not prose
HEADLESS_ITEM_WORDS = 5  # a slide of nothing but items this short is a list even without a heading
LABEL_HEADING_WORDS = 6  # an unpunctuated line this short right above bullets is their heading
LONG_BULLET_WORDS = 50  # a bullet longer than this, or of more than two sentences, is split into sentences
# A PDF line at least this share of the region's widest wrapped line (and this many characters) was filled to the
# margin, so the line after it continues the paragraph even when it starts with a capital.
FULL_LINE_SHARE = 0.8
FULL_LINE_MIN_CHARS = 40


@dataclass(frozen=True)
class Segment:
    char_start: int
    char_end: int
    kind_hint: str  # one of SEGMENT_KINDS
    region: int = 0  # index of the boundary-free stretch of text (one slide, page or heading section) it lies in
    block: int = 0  # index of the wrapped block (bullet, paragraph, line) it comes from; lists take their heading's
    items: tuple[tuple[int, int], ...] = ()  # for "list": the item spans; the heading is char_start..items[0][0]


_BULLET = re.compile(r"[ \t]*(?:[" + BULLET_GLYPHS + r"*\-–▪]|\d{1,2}[.)]|\([a-zA-Z0-9]{1,3}\)|[a-z][.)])[ \t]+(?=\S)")
_URL = re.compile(r"\s*(?:https?://|www\.)\S+\s*$")
_CONTACT = re.compile(r"@|\b(?:e-?mail|tel|twitter)\b|https?://|\bwww\.", re.IGNORECASE)
_REFERENCE = re.compile(
    r"\s*[A-Z][\w'’\-]+(?:,\s*(?:[A-Z]\.\s*){1,3}|\s*&\s*[A-Z]|,\s*[A-Z][\w'’\-]+\s*&|\s+et al\b)"
    r".{0,200}?\b(?:19|20)\d\d\b"
)
_CONNECTOR_END = re.compile(
    r"(?:[,;\-–/&]|\b(?:and|or|of|the|a|an|to|in|for|with|by|from|on|at|between|within|into|that|which|who|whose|"
    r"than|as|is|are|vs))\s*$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.?!][’”\"')\]]*\s*$")
# pysbd keeps these together in our tests, but a split after one of them is always wrong: merge it back.
_NO_BREAK_AFTER = re.compile(r"(?:\bet al|\be\.g|\bi\.e|\bvs|\bcf|\bFig|\bapprox|\bno|\bp)\.\s*$", re.IGNORECASE)

# A title naming a structure ("Features of ...", "... model") heads a list even when its items are full
# sentences or questions, as in a slide laid out as a table of dimensions.
_STRUCTURE_TITLE = re.compile(
    r"\b(?:features|dimensions|principles|model|framework|elements|steps|components|pillars|stages|phases"
    r"|behaviou?rs|characteristics|domains|priorities|practices)\b",
    re.IGNORECASE,
)

_SEGMENTER = pysbd.Segmenter(language="en", clean=False, char_span=True)


@dataclass
class _Line:
    start: int
    end: int  # end of the line's text, without the newline
    kind: str  # "bullet", "url", "reference", "text"
    content_start: int  # after leading whitespace and bullet glyph


@dataclass
class _Block:
    kind: str  # "bullet", "url", "reference", "text"
    lines: list[_Line]
    role: str = ""  # for text blocks: "title", "heading", "item", "prose"

    @property
    def start(self) -> int:
        return self.lines[0].content_start

    @property
    def end(self) -> int:
        return self.lines[-1].end


def segment(doc: ExtractedDocument) -> list[Segment]:
    """All segments of the document in text order (lists before their items)."""
    segments: list[Segment] = []
    block_counter = 0
    for region_index, (start, end) in enumerate(_regions(doc)):
        label = _region_label(doc, start)
        blocks = _blocks(doc.text, start, end, wrapped=doc.format in WRAPPED_FORMATS)
        _assign_roles(doc.text, blocks, label)
        segments.extend(_block_segments(doc.text, blocks, region_index, block_counter))
        block_counter += len(blocks)
    segments.sort(key=lambda s: (s.char_start, -s.char_end))
    return segments


def _regions(doc: ExtractedDocument) -> list[tuple[int, int]]:
    """Stretches of text that no section boundary cuts: every section start and end is a cut point; a document
    without sections is cut where its layout shows a page or slide break."""
    cuts = {0, len(doc.text)}
    for section in doc.sections:
        cuts.update((max(0, min(len(doc.text), section.char_start)), max(0, min(len(doc.text), section.char_end))))
    if not doc.sections:
        cuts.update(_inferred_cuts(doc.text))
    points = sorted(cuts)
    return [(a, b) for a, b in zip(points, points[1:]) if doc.text[a:b].strip()]


def _inferred_cuts(text: str) -> set[int]:
    """Page or slide breaks that a sectionless text shows: the start of a line after two or more blank lines, a
    form feed, and a line indented by exactly one space right after an unindented line (a page break that a
    PDF-to-text extraction turned into a space; a hanging indent or a quotation is indented further)."""
    cuts: set[int] = set()
    blank_run, previous = 0, None
    pos = 0
    for raw in text.split("\n"):
        if "\f" in raw:
            cuts.add(pos + raw.rindex("\f") + 1)
        stripped = raw.replace("\f", "")
        if not stripped.strip():
            blank_run += 1
        else:
            page_mark = re.match(r" \S", stripped) and previous is not None and previous[:1].strip()
            if blank_run >= 2 or (blank_run == 0 and page_mark):
                cuts.add(pos)
            blank_run, previous = 0, stripped
        pos += len(raw) + 1
    return cuts


def _region_label(doc: ExtractedDocument, offset: int) -> str | None:
    label = None
    for section in doc.sections:
        if section.char_start <= offset < section.char_end and section.label and section.kind != "notes":
            label = section.label
    return label


def _lines(text: str, start: int, end: int) -> list[_Line | None]:
    """The region's lines; None stands for a blank line."""
    out: list[_Line | None] = []
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        line_end = end if nl < 0 else nl
        raw = text[pos:line_end]
        if not raw.strip():
            out.append(None)
        else:
            content_start = pos + len(raw) - len(raw.lstrip())
            stripped_end = pos + len(raw.rstrip())
            bullet = _BULLET.match(raw)
            if bullet:
                out.append(_Line(pos, stripped_end, "bullet", pos + bullet.end()))
            elif _URL.match(raw):
                out.append(_Line(pos, stripped_end, "url", content_start))
            elif _REFERENCE.match(raw):
                out.append(_Line(pos, stripped_end, "reference", content_start))
            else:
                out.append(_Line(pos, stripped_end, "text", content_start))
        pos = line_end + 1
    return out


def _continues(text: str, block: _Block, line: _Line, after_blank: bool, full_line: int) -> bool:
    """Is `line` the wrapped continuation of `block`? PDF text wraps bullets and paragraphs, sometimes with
    blank lines between the wrapped parts; a part continues when it starts lower-case or the block so far
    ends on a word that cannot end a phrase ("and", "of", a comma, a hyphen). A line right below another also
    continues it when the line above was filled to the margin (`full_line` characters or more); below a short
    line, a capitalised line starts a block of its own (a list item, a label, a table row), since PDF
    extraction often leaves no blank line between the paragraphs and items of a page or slide."""
    if line.kind == "bullet":
        return False
    last = text[block.lines[-1].content_start : block.lines[-1].end]
    first = text[line.content_start : line.end]
    if block.kind == "url":
        return line.kind == "text" and (not after_blank or last.endswith(("-", "/")))
    if line.kind == "url":
        return False
    if block.kind == "reference":
        if line.kind == "reference":
            return False
        return not after_blank or first[:1].islower() or bool(_CONNECTOR_END.search(last))
    if line.kind == "reference":
        return False
    if block.kind == "text" and last.rstrip().endswith(":"):
        return False
    if not after_blank and len(last) >= full_line:
        return True
    if _SENTENCE_END.search(last):
        return False
    return first[:1].islower() or bool(_CONNECTOR_END.search(last))


def _blocks(text: str, start: int, end: int, *, wrapped: bool) -> list[_Block]:
    lines = _lines(text, start, end)
    full_line = _full_line_chars(text, lines)
    blocks: list[_Block] = []
    after_blank = False
    for line in lines:
        if line is None:
            after_blank = True
            continue
        # One paragraph per line: only strong evidence (as after a blank line in wrapped text) joins two lines.
        if blocks and _continues(text, blocks[-1], line, after_blank or not wrapped, full_line):
            blocks[-1].lines.append(line)
        else:
            blocks.append(_Block(line.kind, [line]))
        after_blank = False
    return blocks


def _full_line_chars(text: str, lines: list[_Line | None]) -> int:
    """How long a line filled to the margin is, from the lines that certainly wrap (the next line continues
    them in lower case, or they end on a connector): a line of a list or table is as long as its content, so
    only a sure wrap tells the width of the text. Without one, no line counts as full."""
    widths = []
    for line, below in zip(lines, lines[1:]):
        if line is None or below is None or line.kind not in ("text", "bullet") or below.kind != "text":
            continue
        last, first = text[line.content_start : line.end], text[below.content_start : below.end]
        if first[:1].islower() or _CONNECTOR_END.search(last):
            widths.append(line.end - line.content_start)
    if not widths:
        return len(text) + 1
    return max(FULL_LINE_MIN_CHARS, round(FULL_LINE_SHARE * max(widths)))


def _squash(s: str) -> str:
    return re.sub(r"[\W_]+", "", s).casefold()


def _words(s: str) -> int:
    return len(s.split())


def _assign_roles(text: str, blocks: list[_Block], label: str | None) -> None:
    title_found = False
    for index, block in enumerate(blocks):
        if block.kind != "text":
            continue
        body = text[block.start : block.end]
        squashed = _squash(body)
        if (
            not title_found
            and label
            and squashed
            and (squashed == _squash(label) or (index == 0 and squashed.endswith(_squash(label))))
        ):
            block.role, title_found = "title", True
        elif body.rstrip().endswith(":") and _words(body) <= 15:
            block.role = "heading"
        elif _words(body) <= SHORT_ITEM_WORDS and len(sentence_spans(text, block.start, block.end)) == 1:
            block.role = "item"
        else:
            block.role = "prose"
    if not title_found:
        _find_unlabelled_title(text, blocks)
    # A short label right above bullets further down ("Recommendations") heads them, as a title heads a slide.
    for index in range(1, len(blocks) - 1):
        block = blocks[index]
        if block.role == "item" and blocks[index + 1].kind == "bullet" and _is_label_line(text, block):
            if _words(text[block.start : block.end]) <= LABEL_HEADING_WORDS:
                block.role = "heading"


def _is_label_line(text: str, block: _Block) -> bool:
    body = text[block.start : block.end]
    return (
        block.kind == "text" and block.role == "item" and not _SENTENCE_END.search(body) and not _CONTACT.search(body)
    )


def _find_unlabelled_title(text: str, blocks: list[_Block]) -> None:
    """A short unpunctuated first block that heads bullets or items is the region's title even when no section
    label names it. A title wrapped over two lines ("Leadership / Priorities") or repeated by the slide's text
    box is two such lines right above the bullets: they are joined into one title."""
    if (
        len(blocks) > 2
        and _is_label_line(text, blocks[0])
        and _is_label_line(text, blocks[1])
        and blocks[2].kind == "bullet"
        and "\n\n" not in text[blocks[0].end : blocks[1].start]
    ):
        blocks[0].lines.extend(blocks.pop(1).lines)
        blocks[0].role = "title"
        return
    if len(blocks) < 2 or not _is_label_line(text, blocks[0]):
        return
    heads_items = len(blocks) > 2 and _is_item(blocks[1]) and _is_item(blocks[2])
    names_structure = blocks[1].kind == "text" and _STRUCTURE_TITLE.search(text[blocks[0].start : blocks[0].end])
    if blocks[1].kind == "bullet" or heads_items or names_structure:
        blocks[0].role = "title"


def _is_item(block: _Block) -> bool:
    return block.kind == "bullet" or (block.kind == "text" and block.role == "item")


def _lists(text: str, blocks: list[_Block]) -> list[tuple[int, list[int]]]:
    """(heading block index or -1, item block indices) for every heading followed by at least two items."""
    found = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        if block.kind == "text" and block.role in ("title", "heading"):
            items = []
            j = index + 1
            structure = block.role == "title" and _STRUCTURE_TITLE.search(text[block.start : block.end])
            while j < len(blocks) and (_is_item(blocks[j]) or (structure and blocks[j].kind == "text")):
                items.append(j)
                j += 1
            if len(items) >= 2:
                found.append((index, items))
                index = j
                continue
        index += 1
    content = [i for i, b in enumerate(blocks) if b.kind in ("bullet", "text")]
    if not found and len(content) >= 3:
        # Contact details ("e.mail a@b.org", "Twitter @name") are short lines too, but no list of anything.
        short = all(
            _is_item(blocks[i])
            and _words(text[blocks[i].start : blocks[i].end]) <= HEADLESS_ITEM_WORDS
            and not _CONTACT.search(text[blocks[i].start : blocks[i].end])
            for i in content
        )
        if short:
            found.append((-1, content))
    return found


def _lead_ins(text: str, blocks: list[_Block], lists: list[tuple[int, list[int]]]) -> dict[int, int]:
    """{statement block: heading block} for a heading ending in a colon that introduces one statement and no
    list ("An important finding:" / "Those who ... are least likely to ..."): the heading is part of what the
    statement says, so the two are one segment."""
    in_lists = {i for heading, items in lists for i in [heading, *items]}
    found = {}
    for index, block in enumerate(blocks[:-1]):
        statement = blocks[index + 1]
        lead_in = block.kind == "text" and block.role == "heading" and text[block.start : block.end].endswith(":")
        if not lead_in or index in in_lists or index + 1 in in_lists:
            continue
        if statement.kind == "bullet" or (statement.kind == "text" and statement.role in ("item", "prose")):
            if len(sentence_spans(text, statement.start, statement.end)) == 1:
                found[index + 1] = index
    return found


def _block_segments(text: str, blocks: list[_Block], region: int, first_block: int):
    lists = _lists(text, blocks)
    for heading, items in lists:
        start = blocks[heading].start if heading >= 0 else blocks[items[0]].start
        spans = tuple((blocks[i].start, blocks[i].end) for i in items)
        block_id = first_block + (heading if heading >= 0 else items[0])
        yield Segment(start, blocks[items[-1]].end, "list", region, block_id, spans)
    lead_ins = _lead_ins(text, blocks, lists)
    for index, block in enumerate(blocks):
        block_id = first_block + index
        if index in lead_ins:
            heading = lead_ins[index]
            yield Segment(blocks[heading].start, block.end, "sentence", region, first_block + heading)
        elif block.kind in ("url", "reference"):
            yield Segment(block.start, block.end, "reference", region, block_id)
        elif block.kind == "bullet":
            sentences = sentence_spans(text, block.start, block.end)
            if len(sentences) > 2 or _words(text[block.start : block.end]) > LONG_BULLET_WORDS:
                for s, e in sentences:
                    yield Segment(s, e, "sentence", region, block_id)
            else:
                yield Segment(block.start, block.end, "bullet", region, block_id)
        elif block.role in ("title", "heading", "item"):
            yield Segment(block.start, block.end, block.role, region, block_id)
        else:
            for s, e in sentence_spans(text, block.start, block.end):
                yield Segment(s, e, "sentence", region, block_id)


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of text[start:end] by pysbd, as exact offsets, with wrongly split abbreviations merged."""
    passage = text[start:end]
    # Newlines inside a wrapped paragraph are not sentence ends; a space keeps every offset the same.
    flat = passage.replace("\n", " ")
    spans: list[list[int]] = []
    cursor = 0
    for piece in _SEGMENTER.segment(flat):
        sent = piece.sent
        # pysbd's char_span can drift on repeated text; trust only a span that reads back verbatim.
        s = piece.start if flat[piece.start : piece.start + len(sent)] == sent else flat.find(sent, cursor)
        if s < 0:
            continue
        cursor = s + len(sent)
        stripped = sent.strip()
        if not stripped:
            continue
        s += len(sent) - len(sent.lstrip())
        e = s + len(stripped)
        if spans and (_NO_BREAK_AFTER.search(flat[spans[-1][0] : spans[-1][1]]) or stripped[:1].islower()):
            spans[-1][1] = e
        else:
            spans.append([s, e])
    return [(start + s, start + e) for s, e in spans] or [(start, end)]
