"""Walk-forward folds cannot look ahead, and the forecast measures compute what their names say."""

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.model_selection import cross_validate

from onnx_crossings.data import stocks
from onnx_crossings.teaching import forecasting

DAYS = pd.bdate_range("2020-01-01", "2023-12-31")


def test_every_fold_tests_one_year_and_trains_on_all_before_it():
    cv = forecasting.WalkForwardSplit(DAYS, [2022, 2023])
    folds = list(cv.split(np.zeros(len(DAYS))))
    assert cv.get_n_splits() == len(folds) == 2
    for (training, test), year in zip(folds, [2022, 2023], strict=True):
        assert set(DAYS[test].year) == {year} and len(test) == np.sum(DAYS.year == year)
        assert training[0] == 0 and training[-1] + 1 == test[0]
    assert forecasting.look_ahead(cv, DAYS, DAYS) == []


def test_a_five_day_target_without_an_embargo_is_caught_and_an_embargo_of_four_fixes_it():
    target_end_days = DAYS[
        4:
    ]  # a 5-day target: each forecast's target ends four trading days later
    forecast_days = DAYS[: len(target_end_days)]
    leaky = forecasting.WalkForwardSplit(forecast_days, [2022, 2023])
    problems = forecasting.look_ahead(leaky, target_end_days, forecast_days)
    assert len(problems) == 2 and "raise the embargo" in problems[0]
    embargoed = forecasting.WalkForwardSplit(forecast_days, [2022, 2023], embargo=4)
    assert forecasting.look_ahead(embargoed, target_end_days, forecast_days) == []


def test_is_a_scikit_learn_splitter_and_refuses_what_it_cannot_split():
    returns = np.random.default_rng(0).normal(size=len(DAYS))
    cv = forecasting.WalkForwardSplit(DAYS, [2022, 2023])
    run = cross_validate(DummyRegressor(), returns[:, None], returns, cv=cv, return_estimator=True)
    means = [float(fitted.predict([[0]])[0]) for fitted in run["estimator"]]
    assert means == pytest.approx(
        [returns[DAYS.year < 2022].mean(), returns[DAYS.year < 2023].mean()]
    )
    with pytest.raises(ValueError, match="build it from the same windows"):
        list(cv.split(np.zeros(10)))
    with pytest.raises(ValueError, match=r"test year\(s\) \[2030\]"):
        forecasting.WalkForwardSplit(DAYS, [2030])
    with pytest.raises(ValueError, match="time order"):
        forecasting.WalkForwardSplit(DAYS[::-1], [2022])


def test_error_measures_mase_and_r2_by_hand():
    actual, forecast = np.array([0.01, -0.02, 0.03]), np.array([0.0, 0.0, 0.01])
    measures = forecasting.error_measures(actual, forecast, naive_mae=0.02)
    assert measures["MAE"] == pytest.approx(0.05 / 3)
    assert measures["RMSE"] == pytest.approx(np.sqrt((0.01**2 + 0.02**2 + 0.02**2) / 3))
    assert measures["MASE"] == pytest.approx(0.05 / 3 / 0.02)
    zero = np.zeros(3)
    assert forecasting.out_of_sample_r2(actual, zero, zero) == 0
    assert forecasting.out_of_sample_r2(actual, forecast, zero) == pytest.approx(1 - 9e-4 / 14e-4)


def test_interval_score_charges_width_plus_twenty_times_each_miss():
    actual = np.array([0.0, 0.05, -0.04])
    lower, upper = np.full(3, -0.02), np.full(3, 0.02)
    np.testing.assert_allclose(
        forecasting.interval_score(actual, lower, upper), [0.04, 0.04 + 20 * 0.03, 0.04 + 20 * 0.02]
    )
    summary = forecasting.interval_scores(actual, lower, upper)
    assert summary["coverage"] == pytest.approx(1 / 3) and summary["width"] == pytest.approx(0.04)
    low, high = forecasting.normal_interval(np.zeros(1), np.ones(1))
    assert high[0] == pytest.approx(1.6449, abs=1e-4) and low[0] == -high[0]


def test_ewma_volatility_uses_past_returns_only():
    returns = pd.Series(np.random.default_rng(1).normal(0, 0.01, 300))
    full = forecasting.ewma_volatility(returns)
    assert full.iloc[:200].equals(forecasting.ewma_volatility(returns.iloc[:200]))
    assert full.iloc[-1] == pytest.approx(
        np.sqrt(0.94 * full.iloc[-2] ** 2 + 0.06 * returns.iloc[-1] ** 2)
    )


def test_simulated_prices_are_valid_bars_with_clustering_volatility_and_no_drift_to_find():
    real = stocks.load_prices("AAPL").prices
    simulated = forecasting.simulate_prices(real, seed=0)
    stocks.validate_prices(simulated, "placebo")
    assert simulated.index.equals(real.index) and list(simulated.columns) == list(real.columns)
    returns = np.log(simulated["Close"]).diff().dropna()
    assert returns.abs().autocorr(1) > 0.05, "volatility clusters"
    assert abs(returns.autocorr(1)) < 0.1, "returns themselves do not"
    assert returns.std() == pytest.approx(np.log(real["Close"]).diff().std(), rel=0.3)
    assert simulated.equals(forecasting.simulate_prices(real, seed=0))
