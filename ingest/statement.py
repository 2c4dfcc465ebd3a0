"""Turn a verbatim quote into a readable suggested statement, repairing what PDF extraction broke.

The quote itself is never changed (it must stay a verbatim substring of the document); only the
statement a curator starts from is repaired: bullets dropped, whitespace runs collapsed, line-end
hyphenation joined, and words that letter-spaced PDF text split in two ("Direct ly", "com passionate",
"m ajor them es", "achievem ents") rejoined.
"""

from __future__ import annotations

import re
from collections import Counter

# Function words are real words even when they are short; a split is never joined into one of these
# pairs ("in to", "et al") and a short token on this list is never treated as a fragment.
FUNCTION_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between both
    but by can could did do does doing down during each few for from further had has have having he her here hers him
    his how i if in into is it its itself just me more most my no nor not now of off on once only or other our ours out
    over own same she should so some such than that the their theirs them then there these they this those through to
    too under until up very was we were what when where which while who whom whose why will with would you your yours
    yet via per vs et al etc eg ie cf ad hoc re ok us""".split()
)

# Pieces that letter-spaced PDF text leaves behind when it splits a word and that are not words on their own.
# Hand-listed because no library in the venv offers an English lexicon; the list is deliberately small so
# that real words next to each other ("medical bill", "the sea") are never glued together.
SUFFIX_FRAGMENTS = frozenset(
    """ion ions ive ives ent ents ment ments ness ity ities ous ously uously inuously ful ing ings tion tions ation
    ations ance ances ence ences ally ism ist ists ised ized ical ial""".split()
)
PREFIX_FRAGMENTS = frozenset("com con cont pro pre dis trans inter".split())

BULLET_GLYPHS = "•·▪◦●■►‣⁃"
_BULLET_AT_LINE_START = re.compile(r"(?m)^[ \t]*[" + BULLET_GLYPHS + r"][ \t]*")
_WORD = re.compile(r"[A-Za-z]+")
_TOKEN = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?")
_COMPOUND = re.compile(r"\b[A-Za-z]+(?:-[A-Za-z]+)+")


def document_vocabulary(text: str) -> Counter:
    """Lower-cased word counts of the whole document: the evidence that a joined form is a real word."""
    return Counter(token.lower() for token in _TOKEN.findall(text)) + Counter(
        compound.lower() for compound in _COMPOUND.findall(text)
    )


def _is_suffix_fragment(part: str) -> bool:
    low = part.lower()
    if not part.islower() or low in FUNCTION_WORDS:
        return False
    return len(low) == 2 or low in SUFFIX_FRAGMENTS


def _is_prefix_fragment(part: str) -> bool:
    low = part.lower()
    if low in FUNCTION_WORDS:
        return False
    if len(part) == 1:
        return part.islower()
    return part[1:].islower() and low in PREFIX_FRAGMENTS


def _should_join(left: str, right: str, vocabulary: Counter) -> bool:
    """Join two adjacent tokens when the evidence says they are one word split by the PDF.

    Rule: the right part must start lower-case (a word's second half never starts a new capitalised word) and
    the pair must not be two function words ("in to", "et al"). Then join when
      1. the joined form occurs unsplit elsewhere in the document ("com passionate" -> "compassionate"), or
      2. the right part is a suffix fragment (one or two letters that are not a function word, like "ly" or "es",
         or a known suffix like "ion", "ents") and the left part is not a function word, except that a
         one- or two-letter right part may follow a function word ("them es" -> "themes"), or
      3. the left part is a prefix fragment (a single letter other than "a"/"i", or "com", "cont" ...)
         ("m ajor" -> "major", "cont inuously" -> "continuously").
    """
    if not right[:1].islower():
        return False
    low_left, low_right = left.lower(), right.lower()
    if low_left in FUNCTION_WORDS and low_right in FUNCTION_WORDS:
        return False
    if vocabulary.get(low_left + low_right, 0) > 0:
        return True
    if _is_suffix_fragment(right) and (low_left not in FUNCTION_WORDS or len(right) <= 2):
        return True
    return _is_prefix_fragment(left)


_SPLIT_PAIR = re.compile(r"(?<![\w.@/&'’-])([A-Za-z]+) ([a-z]+)(?![\w@/&'’]|-\w)")


def _rejoin_split_words(text: str, vocabulary: Counter) -> str:
    # Scan left to right so that a fragment joins the first partner that makes a word ("be m et" -> "be met").
    out, pos = [], 0
    while True:
        match = _SPLIT_PAIR.search(text, pos)
        if not match:
            out.append(text[pos:])
            return "".join(out)
        left, right = match.group(1), match.group(2)
        if _should_join(left, right, vocabulary):
            out.append(text[pos : match.start()] + left + right)
        else:
            out.append(text[pos : match.start(2)])
            pos = match.start(2)
            continue
        pos = match.end()


def _join_hyphenation(text: str, vocabulary: Counter) -> str:
    """'con- tinuous' -> 'continuous', 'self- compassion' -> 'self-compassion', 'team -based' -> 'team-based'."""

    def line_end_hyphen(m: re.Match) -> str:
        left, right = m.group(1), m.group(2)
        if vocabulary.get((left + right).lower(), 0) > 0:
            return left + right
        if vocabulary.get(f"{left}-{right}".lower(), 0) > 0 or not right[:1].islower():
            return f"{left}-{right}"
        if _is_prefix_fragment(left) or _is_suffix_fragment(right) or len(left) <= 2:
            return left + right
        # No evidence either way: a compound kept hyphenated reads better than two words wrongly glued.
        return f"{left}-{right}"

    text = re.sub(r"\b([A-Za-z]+)-\s+([A-Za-z]+)", line_end_hyphen, text)
    return re.sub(r"\b([A-Za-z]+) -([a-z]+)\b", r"\1-\2", text)


def repair_statement(quote: str, vocabulary: Counter) -> str:
    """The quote as a plain sentence: bullets and PDF quirks repaired, capitalised, ending with a full stop."""
    text = re.sub(r"\s*\n[ \t]*[" + BULLET_GLYPHS + r"]\s*", "; ", quote.strip())
    text = _BULLET_AT_LINE_START.sub("", text)
    text = _join_hyphenation(text, vocabulary)
    text = re.sub(r"\s+", " ", text).strip()
    text = _rejoin_split_words(text, vocabulary)
    return finish_sentence(text)


def finish_sentence(text: str) -> str:
    text = text.strip().rstrip(",;:–—-").rstrip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    stripped = text.rstrip("’”\"')]")
    if not stripped.endswith((".", "?", "!")):
        text += "."
    return text
