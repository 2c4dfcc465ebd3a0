"""Parse effect sizes out of the words a document uses.

The deck says things like "50% lower requirement for opiates", "41% lower odds
of complications" or "33% less likely to return". Curators write those words in
`effect.text`; this parser turns them into (metric, value, direction) so they can
be queried, and `kb check` can tell when a curated override contradicts itself.

Percent-type metrics store the magnitude (always >= 0); the direction carries
the sign. Ratio metrics store the ratio; signed metrics (d, SMD, r) keep their sign.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

METRICS = (
    "percent_change",  # "50% lower", "30% longer", "51% fewer"
    "odds_percent_change",  # "41% lower odds"
    "likelihood_percent_change",  # "33% less likely"
    "percent_difference",  # "a difference of 5.6%"
    "percentage_point_change",  # "5 percentage points higher"
    "odds_ratio",
    "risk_ratio",
    "hazard_ratio",
    "cohens_d",
    "smd",
    "correlation",
    "fold_change",  # "2-fold", "three times higher", "doubled"
    "count",
)

RATIO_METRICS = {"odds_ratio", "risk_ratio", "hazard_ratio", "fold_change"}
SIGNED_METRICS = {"cohens_d", "smd", "correlation"}
MAGNITUDE_METRICS = {
    "percent_change",
    "odds_percent_change",
    "likelihood_percent_change",
    "percentage_point_change",
}


@dataclass(frozen=True)
class Effect:
    metric: str
    value: float
    direction: str
    matched: str = ""


UP_WORDS = (
    "higher|greater|more|longer|larger|better|increase|increased|increases|rise|rose|"
    "up|improvement|improved|gain|bigger|faster|extra"
)
DOWN_WORDS = (
    "lower|less|fewer|shorter|smaller|reduced|reduction|reductions|decrease|decreased|"
    "decreases|drop|fall|fell|down|cut|worse|slower|lowered|saving|savings"
)

_NUM = r"[-−–]?\d+(?:[.,]\d+)?"
_PCT = r"(?:%|\s?per\s?cent\b|\s?percent\b)"

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
    "half": 0.5,
    "halved": 0.5,
}


def _num(text: str) -> float:
    text = text.replace("−", "-").replace("–", "-").replace(",", ".")
    return float(text)


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


# Each pattern is tried in order; the first that matches wins, so the more
# specific phrasings ("% lower odds", "% less likely") come before "% lower".
_PATTERNS: list[tuple[re.Pattern, callable]] = []


def _pattern(regex: str, flags=re.IGNORECASE):
    def register(fn):
        _PATTERNS.append((re.compile(regex, flags), fn))
        return fn

    return register


# Abbreviations are matched case-sensitively: "4 or 5" is not an odds ratio.
@_pattern(r"(?:\b[Oo]dds ratio\b|\b(?:a|adjusted )?OR\b|\bAOR\b)\s*(?:[:=]|of|was|is)?\s*(?P<v>" + _NUM + r")", 0)
def _odds_ratio(m):
    v = _num(m["v"])
    return Effect("odds_ratio", v, _ratio_direction(v))


@_pattern(
    r"(?:\b(?:[Rr]elative risk|[Rr]isk ratio|[Rr]ate ratio)\b|\b(?:RR|IRR)\b)\s*(?:[:=]|of|was|is)?\s*(?P<v>"
    + _NUM
    + r")",
    0,
)
def _risk_ratio(m):
    v = _num(m["v"])
    return Effect("risk_ratio", v, _ratio_direction(v))


@_pattern(r"(?:\b[Hh]azard ratio\b|\bHR\b)\s*(?:[:=]|of|was|is)?\s*(?P<v>" + _NUM + r")", 0)
def _hazard_ratio(m):
    v = _num(m["v"])
    return Effect("hazard_ratio", v, _ratio_direction(v))


@_pattern(r"(?:\bcohen['’]?s\s+d\s*(?:[:=]|of|was|is)?|(?<![\w.'’])d\s*[:=])\s*(?P<v>" + _NUM + r")")
def _cohens_d(m):
    v = _num(m["v"])
    return Effect("cohens_d", v, _signed_direction(v))


@_pattern(r"(?:\b(?:SMD|hedges['’]?\s*g)\s*(?:[:=]|of|was|is)?|(?<![\w.'’])g\s*[:=])\s*(?P<v>" + _NUM + r")")
def _smd(m):
    v = _num(m["v"])
    return Effect("smd", v, _signed_direction(v))


@_pattern(r"(?:\bcorrelation(?: of| was| is)?\s*[:=]?|(?<![\w.'’])r\s*[:=])\s*(?P<v>" + _NUM + r")")
def _correlation(m):
    v = _num(m["v"])
    return Effect("correlation", v, _signed_direction(v))


@_pattern(r"\bno (?:significant |statistically significant )?(?:difference|change|effect)\b")
def _no_difference(m):
    return Effect("percent_change", 0.0, "no_difference")


@_pattern(r"(?P<v>" + _NUM + r")" + _PCT + r"\s+(?P<dir>" + UP_WORDS + "|" + DOWN_WORDS + r")\s+odds\b")
def _odds_percent(m):
    return Effect("odds_percent_change", abs(_num(m["v"])), _direction_from(m["dir"]))


@_pattern(r"(?P<v>" + _NUM + r")" + _PCT + r"\s+(?P<dir>more|less|higher|lower)\s+likely\b")
def _likelihood_percent(m):
    return Effect("likelihood_percent_change", abs(_num(m["v"])), _direction_from(m["dir"]))


@_pattern(r"(?P<v>" + _NUM + r")\s+percentage[- ]points?\s+(?P<dir>" + UP_WORDS + "|" + DOWN_WORDS + r")\b")
def _pp_change(m):
    return Effect("percentage_point_change", abs(_num(m["v"])), _direction_from(m["dir"]))


@_pattern(r"\bdifference of\s+(?P<v>" + _NUM + r")" + _PCT)
def _percent_difference(m):
    return Effect("percent_difference", abs(_num(m["v"])), "not_stated")


@_pattern(r"(?P<v>" + _NUM + r")" + _PCT + r"\s+(?:\w+\s+)?(?P<dir>" + UP_WORDS + "|" + DOWN_WORDS + r")\b")
def _percent_word(m):
    # "50% lower", "33% higher adherence", "40% less diagnostic testing"
    v = _num(m["v"])
    direction = _direction_from(m["dir"])
    return Effect("percent_change", abs(v), direction)


@_pattern(
    r"\b(?P<dir>"
    + UP_WORDS
    + "|"
    + DOWN_WORDS
    + r")\s+(?:by\s+)?(?:of\s+)?(?:about\s+|around\s+|~)?(?P<v>"
    + _NUM
    + r")"
    + _PCT
)
def _word_percent(m):
    # "reduced by 50%", "a reduction of 25%", "increased by 20%"
    return Effect("percent_change", abs(_num(m["v"])), _direction_from(m["dir"]))


@_pattern(
    r"(?P<v>" + _NUM + r")" + _PCT + r"\s+(?P<dir>reduction|increase|decrease|rise|drop|fall|improvement|saving)\b"
)
def _percent_noun(m):
    return Effect("percent_change", abs(_num(m["v"])), _direction_from(m["dir"]))


@_pattern(
    r"(?P<v>"
    + _NUM
    + r"|two|three|four|five|six|seven|eight|nine|ten)[- ](?:fold|times)\s*(?P<dir>"
    + UP_WORDS
    + "|"
    + DOWN_WORDS
    + r")?"
)
def _fold(m):
    raw = m["v"].lower()
    v = float(_WORD_NUMBERS[raw]) if raw in _WORD_NUMBERS else _num(raw)
    if m["dir"] and _direction_from(m["dir"]) == "decrease":
        v = 1 / v if v else v
    return Effect("fold_change", v, _ratio_direction(v))


@_pattern(r"\b(?P<w>twice|doubled|double|tripled|triple|halved)\b")
def _fold_words(m):
    v = float(_WORD_NUMBERS[m["w"].lower()])
    return Effect("fold_change", v, _ratio_direction(v))


def parse_effect(text: str | None) -> Effect | None:
    """Parse the first effect size in `text`; None when there is no recognisable figure."""
    if not text:
        return None
    # PDF extraction splits lines mid-phrase; treat every run of whitespace as one space.
    flat = re.sub(r"\s+", " ", text)
    for pattern, build in _PATTERNS:
        match = pattern.search(flat)
        if match:
            effect = build(match)
            return Effect(effect.metric, effect.value, effect.direction, match.group(0).strip())
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
