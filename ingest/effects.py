"""Parse effect sizes and the statistics around them out of the words a document uses.

The deck says things like "50% lower requirement for opiates", "41% lower odds
of complications" or "33% less likely to return"; papers say "OR 1.89 (95% CI
1.27–2.80; p = .03)". Curators write such words in `effect.text`; `parse_effect`
turns the first of them into an `Effect` so they can be queried, and `kb check`
can tell when a curated override contradicts itself. `find_statistics` returns
every statistic in a passage, for `kb ingest`.

Percent-type metrics store the magnitude (always >= 0); the direction carries
the sign. Ratio metrics store the ratio; signed metrics (d, SMD, r, MD, b) keep their sign.

How it works, and why it is safe on any input: whitespace is flattened once; each
pattern is one bounded, anchored regex run once over the text with `finditer`
(every quantifier is bounded and every number-first pattern refuses to start in
the middle of a number, so no pattern can backtrack catastrophically); the
matches are resolved left to right without overlap; then intervals, p-values and
sample sizes are attached to the estimate they follow. Hand-written rather than a
library because no permissively licensed Python package extracts these shapes.

Numbers: "1,500" is one thousand five hundred (a comma followed by exactly three
digits groups thousands); "1,5" and "1,25" (a comma followed by one or two digits)
are European decimals; "0·71" (Lancet style) is 0.71; ".32" is 0.32.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, replace

METRICS = (
    "percent_change",  # "50% lower", "30% longer", "51% fewer"
    "odds_percent_change",  # "41% lower odds"
    "likelihood_percent_change",  # "33% less likely"
    "percent_difference",  # "a difference of 5.6%"
    "percentage_point_change",  # "5 percentage points higher", "rose from 12% to 18%"
    "per_unit_percent_change",  # "increased 2% for each additional day"
    "odds_ratio",
    "risk_ratio",
    "hazard_ratio",
    "cohens_d",
    "smd",
    "correlation",
    "mean_difference",  # "MD −2.3", "mean difference 4.5 points"
    "regression_coefficient",  # "β = 0.21", "b = 0.35"
    "fold_change",  # "2-fold", "three times higher", "doubled"
    "count",
    "proportion",  # "305 (19%) died", "19% of respondents"
    "p_value_only",  # a p-value that follows no estimate
    "sample_size",  # "n = 1,234", "46 studies"
    # A comparison with no number ("greater than the effects of aspirin"): curated only, never parsed.
    # It is still a checkable assertion, so a claim with one has an effect_status (unchecked until a
    # source's figure is recorded), but nothing numeric is drawn or compared for it.
    "comparison",
)
# Metrics an effect may carry without a value.
VALUELESS_METRICS = {"comparison"}

RATIO_METRICS = {"odds_ratio", "risk_ratio", "hazard_ratio", "fold_change"}
SIGNED_METRICS = {"cohens_d", "smd", "correlation", "mean_difference", "regression_coefficient"}
MAGNITUDE_METRICS = {
    "percent_change",
    "odds_percent_change",
    "likelihood_percent_change",
    "percentage_point_change",
    "per_unit_percent_change",
}
# Describe a sample rather than compare groups: `parse_effect` skips them.
DESCRIPTIVE_METRICS = {"proportion", "p_value_only", "sample_size", "count"}


@dataclass(frozen=True)
class Effect:
    metric: str
    value: float
    direction: str
    matched: str = ""
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = None
    p_value: float | None = None
    p_operator: str | None = None  # "=", "<", "<=", ">", ">="
    n: int | None = None
    start: int | None = None  # span in the text given to the parser
    end: int | None = None
    warnings: tuple[str, ...] = ()


UP_WORDS = (
    "higher|greater|more|longer|larger|better|increase|increased|increases|increasing|rise|rose|rises|risen|"
    "up|improve|improvement|improved|improves|gain|gains|bigger|faster|extra|grew|grown|grows|climbed|jumped|boosted|raised"
)
DOWN_WORDS = (
    "lower|less|fewer|shorter|smaller|reduced|reduces|reducing|reduction|reductions|decrease|decreased|"
    "decreases|decreasing|drop|drops|dropped|fall|falls|fell|down|cut|cuts|worse|slower|lowered|saving|savings|"
    "decline|declined|declines|shrank"
)
_DIR = UP_WORDS + "|" + DOWN_WORDS

# Unsigned number: thousands-grouped, European decimal, plain, or bare leading point (see module docstring).
_UNUM = r"(?:\d{1,3}(?:,\d{3}){1,4}(?:[.·]\d{1,12})?|\d{1,15},\d{1,2}|\d{1,15}(?:[.·]\d{1,15})?|[.·]\d{1,15})(?![\d])"
_SNUM = r"[-−–‐+]?" + _UNUM
_INT = r"(?:\d{1,3}(?:,\d{3}){1,3}|\d{1,9})(?![\d.,]\d)"
# A number-first pattern must not start inside a word, a number, a range or a price ("COVID-19", "N95", "$1,500").
_START = r"(?<![\w.,·/£$€\-−–‐])"
_PCT = r"(?:\s?%|\s?per\s?cent\b|\s?percent\b)"
_SEP = r"(?:\s?[:=,]\s?|\s(?:of|was|is|were)\s|\s)?"  # between a metric's name and its value
_APPROX = r"(?:(?:about|around|almost|nearly|approximately|roughly|over|more than|up to|some)\s|~\s?)?"
_WORD_NUMBERS = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twice": 2,
    "double": 2,
    "doubled": 2,
    "triple": 3,
    "tripled": 3,
    "quadrupled": 4,
    "half": 0.5,
    "halved": 0.5,
}
_WORD_NUM = "two|three|four|five|six|seven|eight|nine|ten"
_SAMPLE_NOUNS = (
    "patients|participants|adults|children|adolescents|infants|women|men|people|persons|individuals|respondents|"
    "subjects|studies|trials|RCTs|nurses|physicians|doctors|clinicians|surgeons|employees|staff|workers|students|"
    "pupils|teachers|hospitals|trusts|practices|organisations|organizations|residents|veterans|managers|leaders|"
    "teams|volunteers|smokers|parents|carers|caregivers|mothers|families|households|schools|countries|cohorts|"
    "companies|firms|wards|units|articles|papers|interviewees|pairs|dyads|births|pregnancies|users|members"
)


class _Match:
    """One recognised piece of text, before assembly: an estimate, an interval, a p-value or a sample size."""

    __slots__ = ("start", "end", "kind", "data", "rank")

    def __init__(self, start, end, kind, data, rank):
        self.start, self.end, self.kind, self.data, self.rank = start, end, kind, data, rank


def _num(text: str) -> float:
    text = text.strip().replace("−", "-").replace("–", "-").replace("‐", "-").replace("·", ".")
    if re.fullmatch(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?", text):
        text = text.replace(",", "")
    else:
        text = text.replace(",", ".")
    if text.startswith(("-.", "+.")):
        text = text[0] + "0" + text[1:]
    elif text.startswith("."):
        text = "0" + text
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _direction_from(word: str) -> str:
    word = word.lower()
    if re.fullmatch(UP_WORDS, word):
        return "increase"
    if re.fullmatch(DOWN_WORDS, word):
        return "decrease"
    return "not_stated"


def _signed_direction(value: float) -> str:
    if value > 0:
        return "increase"
    if value < 0:
        return "decrease"
    return "no_difference"


def _ratio_direction(value: float) -> str:
    if value > 1:
        return "increase"
    if value < 1:
        return "decrease"
    return "no_difference"


# Each pattern runs over the whole text; where two matches start at the same place,
# the one registered first wins, so specific phrasings ("% lower odds") come before general ones.
_PATTERNS: list[tuple[re.Pattern, str, callable]] = []


def _pattern(regex: str, kind: str = "estimate", flags=re.IGNORECASE):
    def register(fn):
        _PATTERNS.append((re.compile(regex, flags), kind, fn))
        return fn

    return register


# ---- pieces that attach to an estimate, or are ignored -----------------------------------------

_CI_NAME = r"(?:CI|C\.I\.|confidence intervals?|conf\.? int\.?|credible intervals?|CrI|UI|uncertainty intervals?|IC)"
_CI_SEP = r"\s?(?:to|[-–—−‐]|,|;|and)\s?"
_CI_BOUNDS = r"(?P<lo>" + _SNUM + r")(?:\s?%)?" + _CI_SEP + r"(?P<hi>" + _SNUM + r")(?:\s?%)?"


@_pattern(
    r"(?:(?P<lvl>"
    + _UNUM
    + r")\s?%\s?"
    + _CI_NAME
    + r"|\b(?:CI|IC)\s?(?P<lvl2>"
    + _UNUM
    + r")\s?%|\b"
    + _CI_NAME
    + r")"
    r"\s?(?:[:=,]|was|of|is)?\s?[\[(]?\s?" + _CI_BOUNDS + r"(?:\s?[\])])?",
    kind="ci",
)
def _interval(m):
    level = m["lvl"] or m["lvl2"]
    level = _num(level) if level else None
    if level is not None and not 0 < level < 100:
        return None  # "150% CI" is not an interval
    return {"lo": _num(m["lo"]), "hi": _num(m["hi"]), "level": level, "bare": False}


@_pattern(r"[\[(]\s?" + _CI_BOUNDS + r"\s?[\])]", kind="ci")
def _bare_interval(m):
    # "HR 0.71 (0.55 to 0.92)": attached only when it directly follows an estimate.
    return {"lo": _num(m["lo"]), "hi": _num(m["hi"]), "level": None, "bare": True}


_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_P_NUM = (
    r"(?:(?P<pow>10\s?(?:\^|\*\*)?\s?[-−–⁻][\d⁰¹²³⁴⁵⁶⁷⁸⁹]{1,3})"
    r"|(?P<mant>\d{1,6}(?:[.·]\d{1,15})?|[.·]\d{1,15})"
    r"(?:\s?[×x*·]\s?10\s?(?:\^|\*\*)?\s?(?P<e1>[-−–‐⁻]\s?[\d⁰¹²³⁴⁵⁶⁷⁸⁹]{1,3})|\s?[eE]\s?(?P<e2>[-−–+]?\d{1,3}))?)"
    r"(?![\d])"
)


@_pattern(
    r"(?<![\w.'’])[Pp](?:[- ]?values?)?(?:[- ](?:for\s)?(?:trend|interaction|heterogeneity))?"
    r"\s?(?P<op>=<|[=<>≤≥⩽⩾]=?|(?:of|was|is)\b)\s?" + _P_NUM,
    kind="p",
    flags=0,
)
def _p_value(m):
    if m["pow"]:
        exponent = m["pow"].translate(_SUPERSCRIPT).replace(" ", "").replace("^", "").replace("*", "")
        value = 10.0 ** int(exponent[2:].replace("−", "-").replace("–", "-"))
    else:
        value = _num(m["mant"])
        exponent = m["e1"] or m["e2"]
        if exponent:
            exponent = exponent.translate(_SUPERSCRIPT).replace(" ", "")
            exponent = exponent.replace("−", "-").replace("–", "-").replace("‐", "-")
            # via the string so 3.2 × 10−5 is exactly 3.2e-05, not 3.2000000000000005e-05
            value = float(f"{value!r}e{int(exponent)}")
    op = m["op"]
    op = {"≤": "<=", "⩽": "<=", "=<": "<=", "<=": "<=", "≥": ">=", "⩾": ">=", ">=": ">=", "<": "<", ">": ">"}.get(
        op, "="
    )
    if not math.isfinite(value):
        return None
    return {"p": value, "op": op}


@_pattern(r"(?<![\w.])[nNkK]\s?=\s?(?P<n>\d{1,3}(?:[, ]\d{3}){1,3}(?![\d.,]\d)|\d{1,9}(?![\d.,]\d))", kind="n", flags=0)
def _n_equals(m):
    return {"n": int(re.sub(r"[, ]", "", m["n"]))}


@_pattern(r"\bsample(?: size)?(?: of|\s?[:=]| was)\s?(?P<n>" + _INT + r")", kind="n")
def _sample_of(m):
    return {"n": int(m["n"].replace(",", ""))}


# Numbers that look like a sample size but are not: "the top 10 hospitals", "1 in 4 nurses".
_NOT_A_SAMPLE_BEFORE = re.compile(
    r"(?:\b(?:top|first|last|bottom|best|worst|next|other|per|every|each)|\d\sin|\d\sout\sof)\s?$", re.IGNORECASE
)


@_pattern(_START + r"(?P<n>" + _INT + r")(?:\s[A-Za-z-]{1,25}){0,2}\s(?:" + _SAMPLE_NOUNS + r")\b", kind="n")
def _n_nouns(m):
    raw = m["n"]
    if _NOT_A_SAMPLE_BEFORE.search(m.string, max(0, m.start() - 12), m.start()):
        return None
    if "," not in raw and len(raw) == 4 and 1900 <= int(raw) <= 2099:
        return None  # "in 2019 patients were ..." reads a year
    return {"n": int(raw.replace(",", ""))}


# Heterogeneity, standard errors and test statistics: not effects, but they sit between an
# estimate and its p-value ("B = -1.2, SE = 0.4, p = .003"), so they are skipped rather than breaking the link.
@_pattern(
    r"(?:\bI\s?(?:2|²|\^2)\s?(?:[:=]|was|of)?\s?" + _UNUM + r"\s?%"
    r"|\b(?:SE|SD|SEM|df|se|sd)\s?[:=]\s?"
    + _SNUM
    + r"|(?<![\w.])[tFzZU]\s?(?:\(\s?[\d.,\s]{1,20}\))?\s?=\s?"
    + _SNUM
    + r"|(?:χ|chi|Χ)\s?(?:2|²|-square[d]?)?\s?(?:\(\s?[\d.,\s]{1,20}\))?\s?=\s?"
    + _SNUM
    + ")",
    kind="skip",
    flags=0,
)
def _skip(m):
    return {}


# ---- estimates -------------------------------------------------------------------------------------

_NAME_GAP = r"(?:\s(?!(?:of|was|is|were)\b)[a-z-]{1,20}){0,3}"  # "odds ratio for burnout was 1.9"


def _ratio(metric):
    def build(m):
        v = _num(m["v"])
        if v <= 0:
            return None  # a ratio must be positive
        return Effect(metric, v, _ratio_direction(v))

    return build


# Abbreviations are matched case-sensitively: "4 or 5" is not an odds ratio.
_pattern(
    r"(?:\b(?:[Aa]djusted |[Pp]ooled |[Cc]rude )?[Oo]dds [Rr]atio"
    + _NAME_GAP
    + r"|\b(?:a|adjusted |pooled )?OR\b|\bAOR\b)"
    + _SEP
    + r"(?P<v>"
    + _SNUM
    + r")(?!\s?%)",
    flags=0,
)(_ratio("odds_ratio"))
_pattern(
    r"(?:\b(?:[Aa]djusted |[Pp]ooled )?(?:[Rr]elative [Rr]isk|[Rr]isk [Rr]atio|(?:[Ii]ncidence )?[Rr]ate [Rr]atio)"
    + _NAME_GAP
    + r"|\b(?:a|adjusted |pooled )?(?:RR|IRR)\b)"
    + _SEP
    + r"(?P<v>"
    + _SNUM
    + r")(?!\s?%)",
    flags=0,
)(_ratio("risk_ratio"))
_pattern(
    r"(?:\b(?:[Aa]djusted |[Pp]ooled )?[Hh]azard [Rr]atio"
    + _NAME_GAP
    + r"|\b(?:a|adjusted |pooled )?HR\b)"
    + _SEP
    + r"(?P<v>"
    + _SNUM
    + r")(?!\s?%)",
    flags=0,
)(_ratio("hazard_ratio"))


def _signed(metric):
    def build(m):
        v = _num(m["v"])
        return Effect(metric, v, _signed_direction(v))

    return build


# "d" and "g" only when lower-case and followed by "=" or ":", so "Appendix D: 3" is not an effect.
_pattern(r"(?:\b[Cc]ohen['’]?s\s?d\s?(?:[:=]|of|was|is)?|(?<![\w.'’])d\s?[:=])\s?(?P<v>" + _SNUM + r")", flags=0)(
    _signed("cohens_d")
)
_pattern(
    r"(?:\bSMD\b\s?(?:[:=]|of|was|is)?|\b[Hh]edges['’]?\s?g\s?(?:[:=]|of|was|is)?|(?<![\w.'’])g\s?[:=]"
    r"|\b[Ss]tandardi[sz]ed mean difference(?: was| of| is|\s?[:=])?)\s?(?P<v>" + _SNUM + r")(?!\s?%)",
    flags=0,
)(_signed("smd"))
_pattern(
    r"(?:\b[Cc]orrelation(?: coefficient)?(?: of| was| is)?\s?[:=]?"
    r"|(?<![\w.'’])r\s?(?:\(\s?\d{1,7}\s?\)\s?)?[:=]|(?:\b[Ss]pearman['’]?s\s)?(?:ρ|\brho\b|\br_?s\b)\s?[:=])"
    r"\s?(?P<v>" + _SNUM + r")(?!\s?%)",
    flags=0,
)(_signed("correlation"))
_pattern(
    r"(?:β\s?(?:[:=]|of|was|is)?|\b[Bb]eta\s?(?:[:=]|of|was|is)|(?<![\w.'’])[bB]\s?[:=]"
    r"|\b(?:[Ss]tandardi[sz]ed |[Uu]nstandardi[sz]ed )?(?:[Rr]egression )?[Cc]oefficient(?: was| of| is|\s?[:=])"
    r"|\b[Rr]egression coefficient)\s?(?P<v>" + _SNUM + r")(?!\s?%)",
    flags=0,
)(_signed("regression_coefficient"))
_pattern(
    r"(?:\bW?MD\b|\b(?:[Aa]djusted |[Ww]eighted |[Pp]ooled )?[Mm]ean [Dd]ifference\b)"
    + _SEP
    + r"(?P<v>"
    + _SNUM
    + r")(?!\s?%)",
    flags=0,
)(_signed("mean_difference"))


@_pattern(
    r"\bno (?:significant |statistically significant |clinically important |meaningful |significant overall )?"
    r"(?:difference|change|effect)s?\b"
)
def _no_difference(m):
    return Effect("percent_change", 0.0, "no_difference")


@_pattern(_START + r"(?P<v>" + _UNUM + r")" + _PCT + r"\s(?P<dir>" + _DIR + r")\sodds\b")
def _odds_percent(m):
    return Effect("odds_percent_change", _num(m["v"]), _direction_from(m["dir"]))


@_pattern(_START + r"(?P<v>" + _UNUM + r")" + _PCT + r"\s(?P<dir>more|less|higher|lower)\slikely\b")
def _likelihood_percent(m):
    return Effect("likelihood_percent_change", _num(m["v"]), _direction_from(m["dir"]))


@_pattern(_START + r"(?P<v>" + _UNUM + r")\s?percentage[- ]points?\s(?P<dir>" + _DIR + r")\b")
def _pp_change(m):
    return Effect("percentage_point_change", _num(m["v"]), _direction_from(m["dir"]))


@_pattern(r"\b(?P<dir>" + _DIR + r")\s(?:by\s)?" + _APPROX + r"(?P<v>" + _UNUM + r")\s?percentage[- ]points?\b")
def _change_pp(m):
    return Effect("percentage_point_change", _num(m["v"]), _direction_from(m["dir"]))


@_pattern(r"\bdifference of\s(?P<v>" + _UNUM + r")" + _PCT)
def _percent_difference(m):
    return Effect("percent_difference", _num(m["v"]), "not_stated")


@_pattern(r"\bfrom\s(?P<a>" + _UNUM + r")(?:\s?%)?(?:\sin\s\d{4})?\sto\s(?P<b>" + _UNUM + r")\s?%")
def _from_to(m):
    a, b = _num(m["a"]), _num(m["b"])
    return Effect("percentage_point_change", round(abs(b - a), 10), _signed_direction(b - a))


@_pattern(_START + r"(?P<v>" + _UNUM + r")" + _PCT + r"\s(?:[\w-]{1,25}\s)?(?P<dir>" + _DIR + r")\b")
def _percent_word(m):
    # "50% lower", "33% higher adherence", "40% less diagnostic testing"
    return Effect("percent_change", _num(m["v"]), _direction_from(m["dir"]))


@_pattern(r"\b(?P<dir>" + _DIR + r")\s(?:by\s|of\s)?" + _APPROX + r"(?P<v>" + _UNUM + r")" + _PCT)
def _word_percent(m):
    # "reduced by 50%", "a reduction of 25%", "fell 42%"
    return Effect("percent_change", _num(m["v"]), _direction_from(m["dir"]))


@_pattern(
    r"\b(?P<dir>"
    + _DIR
    + r")(?:\s(?!(?:"
    + _DIR
    + r")\b)[a-z-]{1,25}){1,5}\sby\s"
    + _APPROX
    + r"(?P<v>"
    + _UNUM
    + r")"
    + _PCT
)
def _word_gap_percent(m):
    # "reduced the risk of falls by 30%"; the gap may not hold another direction word.
    return Effect("percent_change", _num(m["v"]), _direction_from(m["dir"]))


def _fold_value(raw: str, direction_word: str | None) -> float | None:
    raw = raw.lower()
    v = float(_WORD_NUMBERS[raw]) if raw in _WORD_NUMBERS else _num(raw)
    if v <= 0:
        return None  # "0-fold" means nothing
    if direction_word and _direction_from(direction_word) == "decrease":
        v = 1 / v
    return v


@_pattern(_START + r"(?:(?P<v>" + _UNUM + r"|" + _WORD_NUM + r")[- ]?fold)\b(?:\s(?P<dir>" + _DIR + r")\b)?")
def _fold(m):
    v = _fold_value(m["v"], m["dir"])
    return None if v is None else Effect("fold_change", v, _ratio_direction(v))


@_pattern(
    _START + r"(?P<v>" + _UNUM + r"|" + _WORD_NUM + r")\stimes\s"
    r"(?:(?P<dir>" + _DIR + r")\b|as\s(?:likely|many|much|high|often|large|great|long)\b)"
)
def _times(m):
    v = _fold_value(m["v"], m["dir"])
    return None if v is None else Effect("fold_change", v, _ratio_direction(v))


@_pattern(r"\bfold[- ]change(?:\s(?:of|was|is)|\s?[:=])?\s(?P<v>" + _UNUM + r")")
def _fold_change_of(m):
    v = _num(m["v"])
    return None if v <= 0 else Effect("fold_change", v, _ratio_direction(v))


# "twice a day" and "double-blind" are not effects, so these words need their comparative company.
@_pattern(r"\b(?:(?P<w>twice|double)\s(?:as|the)\b|(?P<verb>doubled|tripled|quadrupled|halved)\b)")
def _fold_words(m):
    v = float(_WORD_NUMBERS[(m["w"] or m["verb"]).lower()])
    return Effect("fold_change", v, _ratio_direction(v))


@_pattern(_START + r"(?P<c>" + _INT + r")\s?\(\s?(?P<v>" + _UNUM + r")\s?%\s?\)")
def _count_percent(m):
    # "305 (19%) died": 305 counts events, so it is not a sample size
    return Effect("proportion", _num(m["v"]), "not_stated")


@_pattern(
    _START
    + r"(?P<c>"
    + _INT
    + r")\s?(?:of|out of|/)\s?(?P<n>"
    + _INT
    + r")(?:\s[A-Za-z-]{1,25}){0,2}\s?\(\s?(?P<v>"
    + _UNUM
    + r")\s?%\s?\)"
)
def _fraction_percent(m):
    return Effect("proportion", _num(m["v"]), "not_stated", n=int(m["n"].replace(",", "")))


@_pattern(_START + r"(?P<v>" + _UNUM + r")" + _PCT + r"\sof\b")
def _percent_of(m):
    return Effect("proportion", _num(m["v"]), "not_stated")


@_pattern(
    r"\b(?:prevalence|incidence|response rate|proportion|percentage)(?:\sof\s[a-z-]{1,25})?"
    r"(?:\s(?:was|were|is|of)|\s?[:=])?\s(?P<v>" + _UNUM + r")\s?%"
)
def _named_proportion(m):
    return Effect("proportion", _num(m["v"]), "not_stated")


@_pattern(_START + r"(?P<v>" + _UNUM + r")\s?%(?!\s?(?:" + _CI_NAME + r"|of)\b)")
def _bare_percent(m):
    # Last resort: "45% felt unwell". Registered last so every phrasing above wins.
    return Effect("proportion", _num(m["v"]), "not_stated")


# ---- assembly --------------------------------------------------------------------------------------

_MAX_GAP = 48  # characters between an estimate and the interval, p-value or n that belongs to it
_BARE_GAP = re.compile(r"\s?(?:[A-Za-z°/]{1,12}\s?)?")  # "4.5 points (2.1 to 6.9)"
_BREAKS_LINK = re.compile(r"\d|[.!?•]\s|[.!?]$")
_PER_UNIT = re.compile(r"\s(?:for (?:each|every)|per)\s(?!cent\b)", re.IGNORECASE)
_STATED_DIRECTION = re.compile(
    r"\b(?P<dir>higher|greater|increased|elevated|lower|reduced|decreased)\s(?:odds|risk|hazard|rate|likelihood|chance)\b"
    r"|\b(?P<likely>more|less)\slikely\b",
    re.IGNORECASE,
)


def _scan(flat: str) -> list[_Match]:
    found = []
    for rank, (regex, kind, build) in enumerate(_PATTERNS):
        for m in regex.finditer(flat):
            try:
                data = build(m)
            except (ValueError, OverflowError, KeyError):
                data = None
            if data is not None:
                found.append(_Match(m.start(), m.end(), kind, data, rank))
    found.sort(key=lambda x: (x.start, x.rank))
    chosen, last_end = [], 0
    for item in found:
        if item.start >= last_end and item.end > item.start:
            chosen.append(item)
            last_end = item.end
    return chosen


def _gap_ok(flat: str, start: int, end: int, bare: bool) -> bool:
    gap = flat[start:end]
    if bare:
        return _BARE_GAP.fullmatch(gap) is not None
    return len(gap) <= _MAX_GAP and not _BREAKS_LINK.search(gap)


def _assemble(flat: str, items: list[_Match]) -> list[tuple[Effect, int, int]]:
    out: list[tuple[Effect, int, int]] = []
    i = 0
    while i < len(items):
        item = items[i]
        i += 1
        if item.kind == "skip" or (item.kind == "ci"):
            continue  # an interval that follows no estimate carries no effect of its own
        if item.kind == "p":
            effect = Effect(
                "p_value_only", item.data["p"], "not_stated", p_value=item.data["p"], p_operator=item.data["op"]
            )
            out.append((effect, item.start, item.end))
            continue
        if item.kind == "n":
            out.append(
                (Effect("sample_size", float(item.data["n"]), "not_stated", n=item.data["n"]), item.start, item.end)
            )
            continue
        effect, end = item.data, item.end
        if effect.metric == "percent_change" and _PER_UNIT.match(flat, end):
            effect = replace(effect, metric="per_unit_percent_change")
        fields = {}
        cursor = end
        while i < len(items):
            nxt = items[i]
            if nxt.kind == "skip":
                if not _gap_ok(flat, cursor, nxt.start, bare=False):
                    break
                cursor = nxt.end
                i += 1
                continue
            if nxt.kind not in ("ci", "p", "n"):
                break
            bare = nxt.kind == "ci" and nxt.data["bare"]
            if not _gap_ok(flat, cursor, nxt.start, bare and cursor == end):
                break
            if bare and cursor != end:
                break
            key = {"ci": "ci_low", "p": "p_value", "n": "n"}[nxt.kind]
            if key in fields or (key == "n" and effect.n is not None):
                break
            if nxt.kind == "ci":
                fields.update(ci_low=nxt.data["lo"], ci_high=nxt.data["hi"], ci_level=nxt.data["level"])
            elif nxt.kind == "p":
                fields.update(p_value=nxt.data["p"], p_operator=nxt.data["op"])
            else:
                fields["n"] = nxt.data["n"]
            cursor = end = nxt.end
            i += 1
        out.append((replace(effect, **fields), item.start, end))
    return out


def _fmt(x: float) -> str:
    return f"{x:g}"


def consistency_warnings(effect: Effect, context: str = "") -> tuple[str, ...]:
    """Sentences a curator can read saying where the numbers of `effect` disagree with each other or its words.

    `context` is the text around the statistic (not including other statistics), used for stated direction words.
    """
    warnings = []
    v, lo, hi = effect.value, effect.ci_low, effect.ci_high
    metric = effect.metric
    if metric in RATIO_METRICS and v <= 0:
        warnings.append(f"a {metric.replace('_', ' ')} must be positive, got {_fmt(v)}.")
    if metric == "correlation" and abs(v) > 1:
        warnings.append(f"a correlation must lie between -1 and 1, got {_fmt(v)}.")
    if metric == "proportion" and v > 100:
        warnings.append(f"a proportion above 100% ({_fmt(v)}%) is impossible.")
    if lo is not None and hi is not None:
        if lo > hi:
            warnings.append(f"the interval's lower bound {_fmt(lo)} is above its upper bound {_fmt(hi)}.")
        elif lo == hi:
            warnings.append(f"the interval has zero width ({_fmt(lo)} to {_fmt(hi)}).")
        low, high = min(lo, hi), max(lo, hi)
        if metric not in DESCRIPTIVE_METRICS - {"proportion"} and not low <= v <= high:
            warnings.append(f"the estimate {_fmt(v)} lies outside its interval {_fmt(low)} to {_fmt(high)}.")
        elif metric in RATIO_METRICS:
            if low <= 0:
                warnings.append(f"a ratio's interval must be positive, got {_fmt(low)} to {_fmt(high)}.")
            elif v > 0:
                centre = math.sqrt(low * high)
                if abs(math.log(v / centre)) > math.log(1.15):
                    warnings.append(
                        f"the ratio {_fmt(v)} is not near the geometric mean {centre:.3g} of its interval "
                        f"{_fmt(low)} to {_fmt(high)} (more than 15% off): check the figures."
                    )
        elif metric in SIGNED_METRICS and high > low:
            if metric == "correlation" and -1 < low and high < 1 and -1 < v < 1:
                # r's interval is symmetric on Fisher's z scale, not on r's own
                v_c, lo_c, hi_c = math.atanh(v), math.atanh(low), math.atanh(high)
            else:
                v_c, lo_c, hi_c = v, low, high
            centre = (lo_c + hi_c) / 2
            # 15% of the half-width, plus the rounding of a two-decimal figure
            if abs(v_c - centre) > 0.15 * (hi_c - lo_c) / 2 + 0.011:
                warnings.append(
                    f"the estimate {_fmt(v)} is not near the middle {_fmt(round((low + high) / 2, 4))} of its "
                    f"interval {_fmt(low)} to {_fmt(high)}: check the figures."
                )
        null = 1.0 if metric in RATIO_METRICS else 0.0 if metric in SIGNED_METRICS else None
        p, op = effect.p_value, effect.p_operator
        if null is not None and p is not None and effect.ci_level in (None, 95) and low < high:
            excludes_null = not low <= null <= high
            if (
                op in ("<", "<=")
                and p <= 0.05
                and low < null < high
                and min(null - low, high - null) > 0.01 * null + 0.005
            ):
                warnings.append(f"p {op} {_fmt(p)} but the interval {_fmt(low)} to {_fmt(high)} includes {_fmt(null)}.")
            elif (
                op in ("=", ">", ">=") and p > 0.05 and excludes_null and min(abs(low - null), abs(high - null)) > 0.011
            ):
                warnings.append(f"p {op} {_fmt(p)} but the interval {_fmt(low)} to {_fmt(high)} excludes {_fmt(null)}.")
    if effect.p_value is not None and not 0 <= effect.p_value <= 1:
        warnings.append(f"a p-value must lie between 0 and 1, got {_fmt(effect.p_value)}.")
    if metric in RATIO_METRICS and metric != "fold_change" and context and v > 0 and v != 1:
        for m in _STATED_DIRECTION.finditer(context):
            word = m["dir"] or m["likely"]
            stated = _direction_from(word) if m["dir"] else ("increase" if word.lower() == "more" else "decrease")
            if stated != effect.direction:
                warnings.append(
                    f"the words say {m.group(0)!r} but {metric.replace('_', ' ')} {_fmt(v)} means {effect.direction}."
                )
                break
    return tuple(warnings)


class _Flattened:
    """Text with every run of whitespace made one space, and the map back to the original offsets."""

    def __init__(self, text: str):
        pieces, flat_starts, orig_starts = [], [], []
        pos = flat_len = 0
        for m in re.finditer(r"\s+", text):
            chunk = text[pos : m.start()]
            flat_starts.append(flat_len)
            orig_starts.append(pos)
            pieces.append(chunk)
            flat_len += len(chunk)
            flat_starts.append(flat_len)
            orig_starts.append(m.start())
            pieces.append(" ")
            flat_len += 1
            pos = m.end()
        flat_starts.append(flat_len)
        orig_starts.append(pos)
        pieces.append(text[pos:])
        self.text = "".join(pieces)
        self._flat_starts, self._orig_starts, self._original = flat_starts, orig_starts, text

    def original(self, flat_offset: int, is_end: bool = False) -> int:
        if is_end and flat_offset > 0:
            return self.original(flat_offset - 1) + 1
        k = bisect.bisect_right(self._flat_starts, flat_offset) - 1
        return min(self._orig_starts[k] + (flat_offset - self._flat_starts[k]), len(self._original))


def find_statistics(text: str | None) -> list[Effect]:
    """Every statistic in `text`, in order and without overlap, each with its span and consistency warnings.

    An estimate carries the interval, p-value and sample size that follow it; a p-value or sample size
    that follows no estimate is its own statistic (metric `p_value_only` or `sample_size`).
    """
    if not text or not isinstance(text, str):
        return []
    # PDF extraction splits lines mid-phrase; treat every run of whitespace as one space.
    flat = _Flattened(text)
    assembled = _assemble(flat.text, _scan(flat.text))
    results = []
    for k, (effect, start, end) in enumerate(assembled):
        before = assembled[k - 1][2] if k else 0
        after = assembled[k + 1][1] if k + 1 < len(assembled) else len(flat.text)
        context = flat.text[max(before, start - 80) : min(after, end + 40)]
        effect = replace(
            effect,
            matched=flat.text[start:end].strip(),
            start=flat.original(start),
            end=flat.original(end, is_end=True),
        )
        results.append(replace(effect, warnings=consistency_warnings(effect, context)))
    return results


def parse_effect(text: str | None) -> Effect | None:
    """Parse the first effect size in `text` (with its interval, p-value and n); None when there is none.

    Sample sizes, lone p-values and proportions describe a study rather than an effect, so they are skipped.
    """
    for effect in find_statistics(text):
        if effect.metric not in DESCRIPTIVE_METRICS:
            return effect
    return None


def direction_problem(metric: str, value: float | None, direction: str) -> str | None:
    """Say why `direction` contradicts `value` for `metric`, or None if they agree."""
    if value is None or direction == "not_stated":
        return None
    if metric in RATIO_METRICS:
        if value <= 0:
            return f"a {metric} must be positive, got {value}"
        expected = _ratio_direction(value)
        if expected != direction:
            return f"{metric} {value} means {expected}, but direction is {direction}"
    elif metric in SIGNED_METRICS:
        if metric == "correlation" and abs(value) > 1:
            return f"a correlation must lie in [-1, 1], got {value}"
        expected = _signed_direction(value)
        if expected != direction:
            return f"{metric} {value} means {expected}, but direction is {direction}"
    elif metric in MAGNITUDE_METRICS:
        if value < 0:
            return (
                f"{metric} stores a magnitude (the direction carries the sign); got {value} with direction {direction}"
            )
        if value == 0 and direction != "no_difference":
            return f"{metric} of 0 means no_difference, but direction is {direction}"
        if value > 0 and direction == "no_difference":
            return f"{metric} of {value} is not no_difference"
    return None
