from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import t

from onnx_crossings.teaching.significance import (
    diebold_mariano,
    holm_adjusted,
    independent_accuracy_difference,
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
