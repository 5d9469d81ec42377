import numpy as np
import pytest

from helpers.significance import paired_accuracy_difference


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
