"""The effect-size parser on the deck's phrasings and many others."""

import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.effects import (
    DESCRIPTIVE_METRICS,
    MAGNITUDE_METRICS,
    METRICS,
    RATIO_METRICS,
    SIGNED_METRICS,
    Effect,
    direction_problem,
    find_statistics,
    parse_effect,
)


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
        # Changed: this once asserted that "d=.67" is not Cohen's d, a bug the ingest brief names
        # ("r = .32", "P = .03" are how APA-style papers print values below 1).
        ("d=.67", "cohens_d", 0.67, "increase"),
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


# ---- one parse yields everything ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text, metric, value, low, high, level",
    [
        ("OR = 1.89, 95% CI = 1.27–2.80", "odds_ratio", 1.89, 1.27, 2.80, 95),
        ("OR 1.89 (95% CI 1.27 to 2.80)", "odds_ratio", 1.89, 1.27, 2.80, 95),
        ("HR 0.71 (0.55 to 0.92)", "hazard_ratio", 0.71, 0.55, 0.92, None),
        ("aOR 2.1 [1.3, 3.4]", "odds_ratio", 2.1, 1.3, 3.4, None),
        ("RR: 0.80; 95% CI: 0.70-0.91", "risk_ratio", 0.80, 0.70, 0.91, 95),
        ("IRR 1.12 (95% confidence interval 1.01, 1.25)", "risk_ratio", 1.12, 1.01, 1.25, 95),
        ("SMD −0.32 (−0.50 to −0.14)", "smd", -0.32, -0.50, -0.14, None),
        ("MD −2.3 (95% CI −3.1 to −1.5)", "mean_difference", -2.3, -3.1, -1.5, 95),
        ("HR 0·71 (0·55–0·92)", "hazard_ratio", 0.71, 0.55, 0.92, None),
        ("OR 2,1 (IC 95% 1,3-3,4)", "odds_ratio", 2.1, 1.3, 3.4, 95),
        ("OR 1.5 (99% CI 1.1 to 2.0)", "odds_ratio", 1.5, 1.1, 2.0, 99),
    ],
)
def test_interval_in_every_punctuation(text, metric, value, low, high, level):
    effect = parse_effect(text)
    assert (effect.metric, effect.value, effect.ci_low, effect.ci_high) == (metric, value, low, high)
    assert effect.ci_level == level
    assert effect.warnings == ()


def test_old_callers_still_build_effects_positionally():
    effect = Effect("odds_ratio", 0.5, "decrease")
    assert (effect.ci_low, effect.p_value, effect.n, effect.warnings) == (None, None, None, ())


def test_interval_p_and_n_follow_the_estimate():
    text = "Burnout predicted turnover (OR 2.1, 95% CI 1.6–2.8, p < 0.001, n = 1,200)."
    effect = parse_effect(text)
    assert (effect.ci_low, effect.ci_high, effect.ci_level) == (1.6, 2.8, 95)
    assert (effect.p_operator, effect.p_value, effect.n) == ("<", 0.001, 1200)
    assert text[effect.start : effect.end] == "OR 2.1, 95% CI 1.6–2.8, p < 0.001, n = 1,200"


@pytest.mark.parametrize(
    "text, operator, value",
    [
        ("p<0.0001", "<", 0.0001),
        ("P = .03", "=", 0.03),
        ("p ≤ 0.05", "<=", 0.05),
        ("p-value of 0.002", "=", 0.002),
        ("(p < .001)", "<", 0.001),
        ("p = 3.2 × 10−5", "=", 3.2e-5),
        ("P=2.1E-04", "=", 2.1e-4),
        ("p > 0.05", ">", 0.05),
    ],
)
def test_p_values(text, operator, value):
    (stat,) = find_statistics(text)
    assert (stat.metric, stat.p_operator) == ("p_value_only", operator)
    assert stat.p_value == pytest.approx(value)


@pytest.mark.parametrize(
    "text, metric, value, direction",
    [
        ("decreased by 64%", "percent_change", 64, "decrease"),
        ("rose from 12% to 18%", "percentage_point_change", 6, "increase"),
        ("increased 2% for each additional day", "per_unit_percent_change", 2, "increase"),
        ("g = 0.5", "smd", 0.5, "increase"),
        ("r = .32", "correlation", 0.32, "increase"),
        ("β = 0.21", "regression_coefficient", 0.21, "increase"),
        ("a 2.5-fold increase", "fold_change", 2.5, "increase"),
        ("3-fold lower", "fold_change", 1 / 3, "decrease"),
        ("costs rose by 1,500%", "percent_change", 1500, "increase"),
        ("fell by 12,5%", "percent_change", 12.5, "decrease"),
    ],
)
def test_more_shapes(text, metric, value, direction):
    effect = parse_effect(text)
    assert (effect.metric, effect.direction) == (metric, direction)
    assert effect.value == pytest.approx(value)


@pytest.mark.parametrize(
    "text, value, n",
    [("305 (19%) died", 19, None), ("12 of 40 (30%)", 30, 40), ("19% of respondents", 19, None)],
)
def test_counts_with_proportions(text, value, n):
    (stat,) = find_statistics(text)
    assert (stat.metric, stat.value, stat.n) == ("proportion", value, n)


@pytest.mark.parametrize(
    "text, n",
    [
        ("n = 1,234", 1234),
        ("N=400", 400),
        ("1,500 patients", 1500),
        ("46 studies", 46),
        ("a meta-analysis of 23 trials", 23),
    ],
)
def test_sample_sizes_are_statistics_but_not_effects(text, n):
    (stat,) = find_statistics(text)
    assert (stat.metric, stat.n) == ("sample_size", n)
    assert parse_effect(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "The 0-fold change",
        "OR 0 is impossible",
        "OR -1.2",
        "published in 2019",
        "COVID-19 patients",
        "version 2.0",
        "Figure 3",
        "call 0800 123 4567",
        "on 12/03/2021",
        "1 in 4 nurses",
        "as discussed on p. 45",
        "exercise 3 or 4 times a week",
        "a double-blind trial",
        "taken twice a day",
        "the top 10 hospitals",
    ],
)
def test_nonsense_and_non_statistics_yield_nothing(text):
    assert find_statistics(text) == []


def test_ci_level_outside_0_100_is_not_an_interval():
    effect = parse_effect("OR 1.5 (150% CI 1.1 to 2.0)")
    assert effect.ci_low is None and effect.ci_level is None


def test_every_statistic_in_order_without_overlap_and_with_spans():
    text = "In 23 trials (n = 4,500),\nexercise cut relapse by 30% (RR 0.70, 95% CI 0.58–0.84; P = .002); d = 0.4."
    stats = find_statistics(text)
    assert [s.metric for s in stats] == ["sample_size", "sample_size", "percent_change", "risk_ratio", "cohens_d"]
    assert [s.n for s in stats[:2]] == [23, 4500]
    assert (stats[3].p_value, stats[3].ci_high) == (0.002, 0.84)
    ends = [0]
    for stat in stats:
        assert stat.start >= ends[-1] and stat.end > stat.start
        assert " ".join(text[stat.start : stat.end].split()) == stat.matched
        ends.append(stat.end)


# ---- consistency warnings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("OR 2.5 (95% CI 1.1 to 2.0)", "outside its interval"),
        ("OR 1.5 (95% CI 2.0 to 1.1)", "lower bound"),
        ("OR 1.2 (95% CI 1.1 to 3.0)", "geometric mean"),
        ("MD 2.0 (95% CI 0.1 to 2.4)", "middle"),
        ("OR 0.6, higher odds of survival", "higher odds"),
        ("r = 0.4, p = 1.3", "p-value must lie between 0 and 1"),
        ("RR 0.80 (95% CI 0.60 to 1.10), p < 0.01", "includes 1"),
        ("r = 1.4", "between -1 and 1"),
    ],
)
def test_warnings_name_the_inconsistency(text, fragment):
    warnings = " ".join(w for s in find_statistics(text) for w in s.warnings)
    assert fragment in warnings, warnings


@pytest.mark.parametrize(
    "text",
    [
        "OR 1.89 (95% CI 1.27 to 2.80)",
        "HR 0.71 (0.55 to 0.92), p = 0.009",
        "lower odds of death (OR 0.59, 95% CI 0.44-0.79)",
        "r = 0.80 (95% CI 0.65 to 0.89)",
        "SMD −0.32 (−0.50 to −0.14)",
    ],
)
def test_consistent_statistics_carry_no_warning(text):
    assert all(s.warnings == () for s in find_statistics(text))


def test_new_metrics_are_registered_in_their_categories():
    for metric in ("mean_difference", "regression_coefficient", "proportion", "p_value_only", "sample_size"):
        assert metric in METRICS
    assert {"mean_difference", "regression_coefficient"} <= SIGNED_METRICS
    assert "per_unit_percent_change" in MAGNITUDE_METRICS
    assert not DESCRIPTIVE_METRICS & (RATIO_METRICS | SIGNED_METRICS | MAGNITUDE_METRICS)


# ---- linear time on hostile input ----------------------------------------------------------------

_BUDGET = 0.5  # seconds per parse


def _timed(text):
    start = time.perf_counter()
    stats = find_statistics(text)
    elapsed = time.perf_counter() - start
    assert elapsed < _BUDGET, f"{elapsed:.2f}s on {text[:60]!r}..."
    for stat in stats:
        for x in (stat.value, stat.ci_low, stat.ci_high, stat.p_value):
            assert x is None or math.isfinite(x)
    return stats


@pytest.mark.parametrize(
    "text",
    [
        "1" * 10000,
        "1" * 20000 + "%",
        "%" * 20000,
        "OR " * 7000,
        "1,5" * 6000,
        "9" * 400 + "% lower",
        "p = 9e999 " * 100,
        ("OR 1.5 (95% CI 1.1 to 2.0), p < 0.01; " * 500)[:20000],
        "reduced " + "the " * 5000 + "by 5%",
        "-" * 10000 + "1" * 10000,
        "(" * 10000 + "1.2-" * 2000,
        "n = " * 5000,
        " \n\t" * 7000,
    ],
)
def test_adversarial_inputs_parse_in_linear_time(text):
    _timed(text)


def test_old_quadratic_case_is_now_milliseconds():
    start = time.perf_counter()
    assert parse_effect("1" * 10000) is None
    assert time.perf_counter() - start < 0.1


_FRAGMENTS = st.sampled_from(
    [
        "1",
        "1" * 50,
        "%",
        "OR",
        " OR ",
        "95% CI",
        "(",
        ")",
        "-",
        "–",
        "−",
        ",",
        ".",
        " to ",
        "p",
        "<",
        "=",
        "e-",
        "× 10",
        "fold",
        " times ",
        "lower",
        "by",
        "n =",
        "patients",
        "from",
        " ",
        "\n",
        "·",
        "[",
        "]",
        ";",
        "RR",
        "d",
    ]
)


@settings(deadline=None, max_examples=60)
@given(st.lists(_FRAGMENTS, min_size=1, max_size=3000))
def test_random_statistic_soup_parses_in_budget(fragments):
    _timed("".join(fragments)[:20000])


@settings(deadline=None, max_examples=40)
@given(st.text(max_size=20000))
def test_random_text_parses_in_budget(text):
    _timed(text)
