"""A check cell, `check(checks.mean_checked)`, runs a check module's function on the notebook's variables."""

import types

import numpy as np
import pytest

from onnx_crossings.checks import check
from onnx_crossings.checks import mnist_pytorch_to_tensorflow as mnist_checks

answer, values = 2.0, [1.0, 2.0, 3.0]

checks = types.ModuleType("checks")
exec(
    """
answer = "the module's own, never read"


def mean_checked(answer, values):
    assert answer == sum(values) / len(values), "the mean"
    return "the mean of values"


def zero_checked(answer):
    assert answer == 0, "zero"
    return "never"


def needs_forecasts(answer, forecasts):
    return "never"
""",
    checks.__dict__,
)


def test_a_check_reads_the_callers_variables_its_parameters_name(capsys):
    # None: a check call as a cell's last line displays nothing but what it printed
    assert check(checks.mean_checked) is None
    assert capsys.readouterr().out == "✓ the mean of values\n"


def test_a_failing_check_raises_its_advice():
    with pytest.raises(AssertionError, match="zero"):
        check(checks.zero_checked)


def test_a_check_before_the_chapter_ran_says_so():
    with pytest.raises(
        NameError, match="forecasts not defined: run the chapter's cells above this check first"
    ):
        check(checks.needs_forecasts)


def test_the_hardest_digit_check_accepts_every_digit_within_noise_of_the_lowest_recall():
    true_labels = np.repeat(np.arange(10), 1_000)
    predicted = true_labels.copy()
    for digit, mistakes in ((9, 16), (6, 12), (0, 2)):  # recalls 98.4%, 98.8% and 99.8%
        predicted[np.flatnonzero(true_labels == digit)[:mistakes]] = (digit + 1) % 10
    recalls = [np.mean(predicted[true_labels == d] == d) for d in range(10)]
    for tied in (9, 6):
        assert "hardest" in mnist_checks.recall_per_digit(recalls, tied, predicted, true_labels)
    with pytest.raises(AssertionError, match="above the lowest, more than the noise"):
        mnist_checks.recall_per_digit(recalls, 3, predicted, true_labels)
