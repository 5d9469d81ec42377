from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import norm, t

from onnx_crossings.teaching.forecasting import out_of_sample_r2
from onnx_crossings.teaching.significance import (
    clopper_pearson,
    diebold_mariano,
    holm_adjusted,
    independent_accuracy_difference,
    long_run_variance,
    newey_west_lags,
    out_of_sample_skill,
    paired_accuracy_difference,
)


def answers(both: int, only_first: int, only_second: int, neither: int):
    """Right-or-wrong answers of two models with the given counts of each combination."""
    first = [True] * both + [True] * only_first + [False] * only_second + [False] * neither
    second = [True] * both + [False] * only_first + [True] * only_second + [False] * neither
    return np.array(first), np.array(second)


def test_only_the_disagreements_decide_the_difference_and_its_interval():
    first, second = answers(9_900, 40, 15, 45)
    result = paired_accuracy_difference(first, second, names=("deeper", "chapter"))
    assert result.difference == pytest.approx(25 / 10_000)
    # sqrt(55 - 10000 * 0.0025²) / 10000 × 1.96
    margin = 1.959964 * np.sqrt(55 - 10_000 * 0.0025**2) / 10_000
    assert (result.low, result.high) == pytest.approx((0.0025 - margin, 0.0025 + margin))
    assert result.clear and result.p_value < 0.01
    assert str(result) == (
        "deeper − chapter: +0.25 points, 95% interval +0.10 to +0.40 (McNemar p = 0.001)\n"
        "  of 10,000 examples, only deeper gets 40 right, only chapter 15"
    )


def test_a_difference_within_noise_is_not_clear():
    first, second = answers(9_900, 12, 10, 78)
    result = paired_accuracy_difference(first, second, names=("A", "B"))
    assert result.low < 0 < result.high and not result.clear and result.p_value > 0.5


def test_identical_answers_differ_by_nothing():
    first, second = answers(90, 0, 0, 10)
    result = paired_accuracy_difference(first, second, names=("A", "B"))
    assert (result.difference, result.low, result.high, result.p_value) == (0, 0, 0, 1.0)


def test_answers_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match=r"score both on the same examples"):
        paired_accuracy_difference(np.ones(3, bool), np.ones(4, bool), names=("A", "B"))


def test_diebold_mariano_gives_zero_for_identical_losses():
    loss = np.random.default_rng(0).random(250)
    same = diebold_mariano(loss, loss.copy(), names=("a", "b"), period="2024")
    assert (
        same.statistic == 0 and same.p_value == 1 and same.verdict == "is not distinguishable from"
    )


def test_diebold_mariano_rejects_a_clearly_worse_forecast():
    rng = np.random.default_rng(1)
    actual = rng.normal(size=500)
    good, bad = (actual - rng.normal(0, 0.5, 500)) ** 2, (actual - rng.normal(0, 2.0, 500)) ** 2
    result = diebold_mariano(bad, good, names=("bad", "good"), period="pooled")
    assert result.statistic > 5 and result.p_value < 1e-6 and result.verdict == "loses to"
    assert diebold_mariano(good, bad, names=("good", "bad"), period="pooled").verdict == "beats"


def test_diebold_mariano_matches_a_hand_computed_case():
    loss, benchmark = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 1.0, 1.0, 1.0])
    # d = (0, 1, 2, 3): mean 1.5, variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25; DM = 1.5 / sqrt(1.25 / 4)
    dm = 1.5 / np.sqrt(1.25 / 4)
    hln = dm * np.sqrt((4 + 1 - 2) / 4)  # Harvey-Leybourne-Newbold with h = 1
    result = diebold_mariano(loss, benchmark, names=("a", "b"), period="x")
    assert result.statistic == pytest.approx(hln)
    assert result.p_value == pytest.approx(2 * t.sf(hln, df=3))
    assert result.mean_loss_difference == 1.5 and result.days == 4


def test_diebold_mariano_refuses_losses_on_different_days():
    with pytest.raises(ValueError, match="on the same days"):
        diebold_mariano(np.zeros(3), np.zeros(4), names=("a", "b"), period="x")


def test_diebold_mariano_at_one_day_is_the_plain_variance_test_it_always_was():
    rng = np.random.default_rng(2)
    loss, benchmark = rng.random(300), rng.random(300)
    difference = loss - benchmark
    # the formula before Newey-West weights: the (1/n) variance of the daily differences, HLN with h = 1
    hln = np.sqrt((300 + 1 - 2) / 300) * difference.mean() / np.sqrt(difference.var() / 300)
    result = diebold_mariano(loss, benchmark, names=("a", "b"), period="x")
    assert result.statistic == pytest.approx(hln, rel=1e-12)
    assert result == diebold_mariano(loss, benchmark, names=("a", "b"), period="x", lags=0)


def test_diebold_mariano_at_two_days_weights_the_lag_and_stays_finite_where_equal_weights_go_negative():
    # d alternates 1.5, -0.5: mean 0.5, centred ±1, so γ0 = 1 and γ1 = -7/8 over 8 days
    benchmark = np.ones(8)
    loss = benchmark + np.tile([1.5, -0.5], 4)
    assert (
        1 + 2 * (-7 / 8) < 0
    )  # equal weights (the old variance) go negative: the test fell back to p = 1
    variance = (1 + 2 * (1 - 1 / 2) * (-7 / 8)) / 8  # Bartlett's weight at lag 1 of 1: 1/2
    hln = np.sqrt((8 + 1 - 2 * 2 + 2 * 1 / 8) / 8) * 0.5 / np.sqrt(variance)
    result = diebold_mariano(loss, benchmark, names=("a", "b"), period="x", horizon=2)
    assert result.statistic == pytest.approx(hln) and np.isfinite(result.statistic)
    assert result.p_value == pytest.approx(2 * t.sf(hln, df=7)) and 0 < result.p_value < 0.05
    more_lags = diebold_mariano(loss, benchmark, names=("a", "b"), period="x", horizon=2, lags=3)
    assert np.isfinite(more_lags.statistic) and 0 < more_lags.p_value < 1


def test_diebold_mariano_calls_the_same_nonzero_difference_every_day_clear():
    worse = diebold_mariano(np.full(20, 2.0), np.ones(20), names=("a", "b"), period="x", horizon=3)
    assert worse.statistic == np.inf and worse.p_value == 0 and worse.verdict == "loses to"
    same = diebold_mariano(np.ones(20), np.ones(20), names=("a", "b"), period="x", horizon=3)
    assert (same.statistic, same.p_value) == (0, 1)


def test_diebold_mariano_refuses_impossible_horizons_lags_and_missing_losses():
    loss = np.ones(5)
    with pytest.raises(ValueError, match="horizon in days, 1 or more"):
        diebold_mariano(loss, loss, names=("a", "b"), period="x", horizon=0)
    with pytest.raises(ValueError, match="choose between 0 and 4 lags"):
        diebold_mariano(loss, loss, names=("a", "b"), period="x", lags=5)
    with pytest.raises(ValueError, match="pass only the days that both forecast"):
        diebold_mariano(np.array([1.0, np.nan]), np.ones(2), names=("a", "b"), period="x")


def test_long_run_variance_by_hand_and_never_negative():
    values = np.array([1.0, 3.0, 2.0, 6.0])  # centred: -2, 0, -1, 3
    gamma = [14 / 4, (0 + 0 - 3) / 4, (2 + 0) / 4]  # γ0, γ1, γ2
    assert long_run_variance(values, 0) == pytest.approx(np.var(values))
    assert long_run_variance(values, 2) == pytest.approx(
        gamma[0] + 2 * (2 / 3 * gamma[1] + 1 / 3 * gamma[2])
    )
    alternating = np.tile([1.0, -1.0], 50) + np.random.default_rng(3).normal(0, 0.1, 100)
    assert all(long_run_variance(alternating, lags) >= 0 for lags in range(30))
    with pytest.raises(ValueError, match="choose between 0 and 3 lags"):
        long_run_variance(values, 4)


def test_newey_west_rule_of_thumb():
    assert [newey_west_lags(days) for days in (100, 250, 752, 5000)] == [4, 4, 6, 9]


def skill_data(days: int, skill: float, seed: int = 4):
    """iid returns, a forecast of the share `skill` of their variance (plus a little noise), and the squared errors
    of that forecast and of a zero forecast."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(0, np.sqrt(skill), days)
    actual = signal + rng.normal(0, np.sqrt(1 - skill), days)
    forecast = signal + rng.normal(0, 0.1, days)
    return actual, forecast, (actual - forecast) ** 2, actual**2


def test_skill_is_the_out_of_sample_r2_and_iid_days_need_no_correction():
    actual, forecast, loss, benchmark = skill_data(2000, 0.0)
    skill = out_of_sample_skill(loss, benchmark, names=("model", "zero"), period="x")
    assert skill.r2 == pytest.approx(out_of_sample_r2(actual, forecast, np.zeros(2000)))
    assert skill.lags == newey_west_lags(2000) == 7
    hac_error = (skill.high - skill.low) / (2 * 1.959964) * benchmark.mean()
    plain_error = (loss - benchmark).std() / np.sqrt(2000)
    assert hac_error == pytest.approx(plain_error, rel=0.1)
    assert skill.statistic == pytest.approx((loss - benchmark).mean() / hac_error)
    assert skill.p_value == pytest.approx(2 * norm.sf(abs(skill.statistic)))
    assert skill.minimum_detectable_r2 == pytest.approx(
        (1.959964 + 0.841621) * hac_error / benchmark.mean()
    )


def test_the_detectable_skill_shrinks_as_one_over_the_root_of_the_days():
    _, _, loss, benchmark = skill_data(500, 0.01)
    # the same days four times over: the same mean and variance, four times as many days
    short = out_of_sample_skill(loss, benchmark, names=("a", "b"), period="x", lags=0)
    long = out_of_sample_skill(
        np.tile(loss, 4), np.tile(benchmark, 4), names=("a", "b"), period="x", lags=0
    )
    assert long.r2 == pytest.approx(short.r2)
    assert long.minimum_detectable_r2 == pytest.approx(short.minimum_detectable_r2 / 2)


def test_strong_skill_is_detected_and_no_skill_is_never_claimed():
    _, _, skilled, zero = skill_data(752, 0.1)
    strong = out_of_sample_skill(skilled, zero, names=("ridge", "persistence"), period="2022–2024")
    assert strong.verdict == "beats" and strong.low > 0 and strong.p_value < 1e-4
    assert strong.lags == 6 and strong.minimum_detectable_r2 < 0.1
    _, _, loss, benchmark = skill_data(752, 0.0)
    none = out_of_sample_skill(loss, benchmark, names=("ridge", "persistence"), period="2022–2024")
    assert none.verdict == "is not distinguishable from" and none.low < 0 < none.high
    text = str(none)
    assert text.startswith(
        "2022–2024: ridge is not distinguishable from persistence: out-of-sample R² "
    )
    assert "over 6 lags" in text and f"R² of ±{none.minimum_detectable_r2:.2%} or larger" in text
    assert "no skill" not in text and "smaller skill could not have been detected" in text
    worse = out_of_sample_skill(zero, skilled, names=("persistence", "ridge"), period="x")
    assert worse.r2 < 0 and worse.high < 0 and worse.verdict == "loses to"


def test_skill_refuses_a_benchmark_without_losses():
    with pytest.raises(ValueError, match="pass squared errors"):
        out_of_sample_skill(np.ones(10), np.zeros(10), names=("a", "b"), period="x")
    with pytest.raises(ValueError, match="on the same days"):
        out_of_sample_skill(np.ones(10), np.ones(9), names=("a", "b"), period="x")


def test_clopper_pearson_by_the_closed_form_at_the_extremes():
    # with no successes the upper bound solves (1 − p)^n = 0.025; with all, p^n = 0.025
    assert clopper_pearson(0, 10) == pytest.approx((0, 1 - 0.025 ** (1 / 10)))
    assert clopper_pearson(10, 10) == pytest.approx((0.025 ** (1 / 10), 1))
    low, high = clopper_pearson(5, 100)
    assert low < 0.05 < high and (low, high) == pytest.approx((0.0164, 0.1128), abs=1e-4)
    with pytest.raises(ValueError, match="give 1 or more trials"):
        clopper_pearson(3, 2)


def test_holm_adjusts_step_down_and_keeps_the_order():
    comparisons = [
        diebold_mariano(np.zeros(2), np.zeros(2), names=(name, "b"), period="x") for name in "abc"
    ]
    comparisons = [
        replace(c, p_value=p) for c, p in zip(comparisons, [0.04, 0.01, 0.03], strict=True)
    ]
    adjusted = [c.adjusted_p_value for c in holm_adjusted(comparisons)]
    # sorted: 0.01 × 3 = 0.03, 0.03 × 2 = 0.06, 0.04 × 1 = 0.04 → kept monotone at 0.06
    assert adjusted == pytest.approx([0.06, 0.03, 0.06])


def test_two_accuracies_on_separate_samples_add_their_sampling_errors():
    ahead = independent_accuracy_difference(0.895, 25_000, 0.873, 1_000, names=("LSTM", "MiniLM"))
    margin = 1.959964 * np.sqrt(0.895 * 0.105 / 25_000 + 0.873 * 0.127 / 1_000)
    assert (ahead.low, ahead.high) == pytest.approx((0.022 - margin, 0.022 + margin))
    assert ahead.verdict == "LSTM is ahead"
    level = independent_accuracy_difference(0.88, 1_000, 0.873, 1_000, names=("LSTM", "MiniLM"))
    assert level.verdict == "the two are level within this noise"
    behind = independent_accuracy_difference(0.80, 1_000, 0.873, 1_000, names=("LSTM", "MiniLM"))
    assert behind.verdict == "MiniLM is ahead" and "scored separately" in str(behind)
