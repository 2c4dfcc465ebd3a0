"""Cut a document's text into the units a claim can quote: bullets, sentences, short items, lists and titles.

Every segment spans verbatim text (`doc.text[s.char_start:s.char_end]`, trimmed of surrounding whitespace and
bullet glyphs) and never crosses a section boundary (page, slide, notes, heading).

PDF and plain text wrap a bullet or a paragraph over several lines, sometimes with blank lines between the
wrapped parts; those formats are read line by line and wrapped lines are joined back (see `_continues`).
PPTX, DOCX and HTML readers write one paragraph per line, so there every line is its own block.
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
LONG_BULLET_WORDS = 50  # a bullet longer than this, or of more than two sentences, is split into sentences


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
_REFERENCE = re.compile(
    r"\s*[A-Z][\w'’\-]+(?:,\s*(?:[A-Z]\.\s*){1,3}|\s*&\s*[A-Z]|,\s*[A-Z][\w'’\-]+\s*&|\s+et al\b)"
    r".{0,200}?\b(?:19|20)\d\d\b"
)
_CONNECTOR_END = re.compile(
    r"(?:[,\-–/&]|\b(?:and|or|of|the|a|an|to|in|for|with|by|from|on|at|between|within|into|that|which|who|whose|"
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
    """Stretches of text that no section boundary cuts: every section start and end is a cut point."""
    cuts = {0, len(doc.text)}
    for section in doc.sections:
        cuts.update((max(0, min(len(doc.text), section.char_start)), max(0, min(len(doc.text), section.char_end))))
    points = sorted(cuts)
    return [(a, b) for a, b in zip(points, points[1:]) if doc.text[a:b].strip()]


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


def _continues(text: str, block: _Block, line: _Line, after_blank: bool) -> bool:
    """Is `line` the wrapped continuation of `block`? PDF text wraps bullets and paragraphs, sometimes with
    blank lines between the wrapped parts; a part continues when it starts lower-case or the block so far
    ends on a word that cannot end a phrase ("and", "of", a comma, a hyphen)."""
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
    if not after_blank:
        return True
    if _SENTENCE_END.search(last):
        return False
    return first[:1].islower() or bool(_CONNECTOR_END.search(last))


def _blocks(text: str, start: int, end: int, *, wrapped: bool) -> list[_Block]:
    blocks: list[_Block] = []
    after_blank = False
    for line in _lines(text, start, end):
        if line is None:
            after_blank = True
            continue
        if wrapped and blocks and _continues(text, blocks[-1], line, after_blank):
            blocks[-1].lines.append(line)
        else:
            blocks.append(_Block(line.kind, [line]))
        after_blank = False
    return blocks


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
    # A short first line followed by bullets is the heading even when no section label names it.
    if not title_found and len(blocks) > 1 and blocks[0].role == "item" and blocks[1].kind == "bullet":
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
        short = all(
            _is_item(blocks[i]) and _words(text[blocks[i].start : blocks[i].end]) <= HEADLESS_ITEM_WORDS
            for i in content
        )
        if short:
            found.append((-1, content))
    return found


def _block_segments(text: str, blocks: list[_Block], region: int, first_block: int):
    for heading, items in _lists(text, blocks):
        start = blocks[heading].start if heading >= 0 else blocks[items[0]].start
        spans = tuple((blocks[i].start, blocks[i].end) for i in items)
        block_id = first_block + (heading if heading >= 0 else items[0])
        yield Segment(start, blocks[items[-1]].end, "list", region, block_id, spans)
    for index, block in enumerate(blocks):
        block_id = first_block + index
        if block.kind in ("url", "reference"):
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
