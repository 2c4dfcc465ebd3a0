"""The effect-size parser on the deck's phrasings and many others."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.effects import direction_problem, parse_effect


@pytest.mark.parametrize(
    "text, metric, value, direction",
    [
        # the deck's own wording, line breaks included
        ("50% lower requirement for \nopiates post surgery", "percent_change", 50, "decrease"),
        ("survived 30% longer", "percent_change", 30, "increase"),
        ("optimal blood sugar \ncontrol 80% higher", "percent_change", 80, "increase"),
        ("41% lower odds \nof complications", "odds_percent_change", 41, "decrease"),
        ("33% higher adherence", "percent_change", 33, "increase"),
        ("20% lower odds \ndetectable virus", "odds_percent_change", 20, "decrease"),
        ("33% less \nlikely to return to A&E", "likelihood_percent_change", 33, "decrease"),
        ("51% fewer referrals to \na specialist", "percent_change", 51, "decrease"),
        ("40% less diagnostic \ntesting", "percent_change", 40, "decrease"),
        ("51% lower medical bill", "percent_change", 51, "decrease"),
        ("difference of 5.6%", "percent_difference", 5.6, "not_stated"),
        # other common reporting styles
        ("50% more likely", "likelihood_percent_change", 50, "increase"),
        ("OR 0.59", "odds_ratio", 0.59, "decrease"),
        ("OR = 1.33 (95% CI 1.02 to 1.73)", "odds_ratio", 1.33, "increase"),
        ("adjusted OR 1.20", "odds_ratio", 1.20, "increase"),
        ("odds ratio of 0.8", "odds_ratio", 0.8, "decrease"),
        ("RR 0.67", "risk_ratio", 0.67, "decrease"),
        ("relative risk 1.5", "risk_ratio", 1.5, "increase"),
        ("HR = 0.72", "hazard_ratio", 0.72, "decrease"),
        ("d = 0.11", "cohens_d", 0.11, "increase"),
        ("Cohen's d = -0.25", "cohens_d", -0.25, "decrease"),
        ("Cohen’s d 0.67", "cohens_d", 0.67, "increase"),
        ("d=.67", None, None, None),  # a bare leading point is not a number we accept
        ("SMD 0.45", "smd", 0.45, "increase"),
        ("hedges g = -0.3", "smd", -0.3, "decrease"),
        ("r = 0.30", "correlation", 0.30, "increase"),
        ("r = −0.21", "correlation", -0.21, "decrease"),
        ("reduced by 50%", "percent_change", 50, "decrease"),
        ("increased by 12.5%", "percent_change", 12.5, "increase"),
        ("a 25% reduction", "percent_change", 25, "decrease"),
        ("50 per cent lower", "percent_change", 50, "decrease"),
        ("25 percent higher", "percent_change", 25, "increase"),
        ("5 percentage points higher", "percentage_point_change", 5, "increase"),
        ("2-fold higher", "fold_change", 2, "increase"),
        ("three times higher", "fold_change", 3, "increase"),
        ("twice as likely", "fold_change", 2, "increase"),
        ("halved", "fold_change", 0.5, "decrease"),
        ("no significant difference", "percent_change", 0, "no_difference"),
    ],
)
def test_parses_phrasing(text, metric, value, direction):
    effect = parse_effect(text)
    if metric is None:
        assert effect is None or effect.metric != "cohens_d"
        return
    assert effect is not None, text
    assert (effect.metric, effect.direction) == (metric, direction)
    assert effect.value == pytest.approx(value)


@pytest.mark.parametrize(
    "text",
    ["", None, "More compassion does not take time", "(4 or 5 max)", "21 RCTs", "in 2 or 3 cases", "Om Shanti"],
)
def test_no_effect_in_plain_text(text):
    assert parse_effect(text) is None


def test_matched_words_are_reported():
    assert parse_effect("patients survived 30% longer overall").matched == "30% longer"


@pytest.mark.parametrize(
    "metric, value, direction, ok",
    [
        ("odds_ratio", 0.59, "decrease", True),
        ("odds_ratio", 0.59, "increase", False),
        ("odds_ratio", 1.0, "no_difference", True),
        ("odds_ratio", -1, "decrease", False),
        ("cohens_d", 0.11, "increase", True),
        ("cohens_d", -0.11, "increase", False),
        ("correlation", 1.5, "increase", False),
        ("percent_change", 50, "decrease", True),
        ("percent_change", -50, "increase", False),
        ("percent_change", 0, "increase", False),
        ("percent_change", 30, "no_difference", False),
        ("percent_difference", 5.6, "decrease", True),
        ("odds_ratio", 0.59, "not_stated", True),
    ],
)
def test_direction_must_agree_with_value(metric, value, direction, ok):
    assert (direction_problem(metric, value, direction) is None) == ok


@given(
    st.floats(min_value=0.1, max_value=99.9, allow_nan=False), st.sampled_from(["lower", "higher", "fewer", "longer"])
)
def test_any_percentage_round_trips(value, word):
    text = f"{value:.1f}% {word}"
    effect = parse_effect(text)
    assert effect.metric == "percent_change"
    assert effect.value == pytest.approx(round(value, 1))
    assert effect.direction == ("decrease" if word in ("lower", "fewer") else "increase")
    assert direction_problem(effect.metric, effect.value, effect.direction) is None


@given(st.text(max_size=80))
def test_never_raises_on_arbitrary_text(text):
    effect = parse_effect(text)
    if effect is not None:
        assert effect.metric and effect.direction
