"""A check cell, `check(checks.mean_checked)`, runs a check module's function on the notebook's variables."""

import types

import pytest

from onnx_crossings.checks import check

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
