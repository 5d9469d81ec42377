"""A check cell runs its function on the notebook's variables of the same names and prints what it confirmed."""

import pytest

from helpers.checks import check

answer, values = 2.0, [1.0, 2.0, 3.0]


def test_a_check_reads_the_variables_its_parameters_name(capsys):
    @check
    def mean_checked(answer, values):
        assert answer == sum(values) / len(values), "the mean"
        return "the mean of values"

    assert capsys.readouterr().out == "✓ the mean of values\n"
    # the function itself is kept
    assert mean_checked(answer=1.0, values=[1.0]) == "the mean of values"


def test_a_failing_check_raises_its_advice():
    with pytest.raises(AssertionError, match="the mean"):

        @check
        def mean_checked(answer, values):
            assert answer == 0, "the mean"


def test_a_check_before_the_chapter_ran_says_so():
    with pytest.raises(
        NameError, match="forecasts not defined: run the chapter's cells above this check first"
    ):

        @check
        def needs_forecasts(answer, forecasts):
            return "never"
