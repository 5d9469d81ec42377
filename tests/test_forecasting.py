"""Walk-forward folds cannot look ahead, and the forecast measures compute what their names say."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import TimeSeriesSplit, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from onnx_crossings.data import stocks
from onnx_crossings.teaching import forecasting, significance, sklearn_onnx

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


def intervals_missed_on(missed: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Actual values and ±0.5 intervals that miss exactly on the days marked 1."""
    actual = np.array(missed, float)
    return actual, np.full(len(actual), -0.5), np.full(len(actual), 0.5)


def test_coverage_tests_match_the_likelihood_ratios_by_hand():
    result = forecasting.coverage_tests(*intervals_missed_on([0, 0, 1, 1, 1, 0, 0, 0, 0, 1]))
    # 4 misses in 10 days against 10% expected
    kupiec = -2 * (6 * np.log(0.9) + 4 * np.log(0.1) - 6 * np.log(0.6) - 4 * np.log(0.4))
    # transitions: hit→hit 4, hit→miss 2, miss→hit 1, miss→miss 2; pooled miss rate 4/9
    christoffersen = -2 * (
        5 * np.log(5 / 9)
        + 4 * np.log(4 / 9)
        - (4 * np.log(2 / 3) + 2 * np.log(1 / 3))
        - (1 * np.log(1 / 3) + 2 * np.log(2 / 3))
    )
    assert (result.days, result.misses, result.miss_rate) == (10, 4, 0.4)
    assert result.expected_miss_rate == pytest.approx(0.1)
    assert result.unconditional_statistic == pytest.approx(kupiec)
    assert result.independence_statistic == pytest.approx(christoffersen)
    assert result.unconditional_p_value == pytest.approx(chi2.sf(kupiec, 1))
    assert result.independence_p_value == pytest.approx(chi2.sf(christoffersen, 1))
    assert result.conditional_p_value == pytest.approx(chi2.sf(kupiec + christoffersen, 2))
    assert str(result) == (
        f"4 of 10 days outside (40.0%, 10.0% expected): Kupiec p = {chi2.sf(kupiec, 1):.2g}, "
        f"independence p = {chi2.sf(christoffersen, 1):.2g}, conditional coverage p = "
        f"{chi2.sf(kupiec + christoffersen, 2):.2g}"
    )


def test_clustered_misses_fail_independence_and_scattered_ones_at_the_right_rate_pass():
    clustered = np.zeros(500, int)
    for start in (40, 140, 240, 340, 440):
        clustered[start : start + 10] = 1  # 50 misses, 10% of days, in five runs of ten
    result = forecasting.coverage_tests(*intervals_missed_on(clustered.tolist()))
    assert result.unconditional_p_value == pytest.approx(1)
    assert result.independence_p_value < 1e-10 and result.conditional_p_value < 1e-10
    scattered = np.random.default_rng(5).permutation(clustered)
    result = forecasting.coverage_tests(*intervals_missed_on(scattered.tolist()))
    assert result.unconditional_p_value == pytest.approx(1)
    assert result.independence_p_value > 0.2 and result.conditional_p_value > 0.2


def test_coverage_tests_take_no_misses_only_misses_and_a_single_day_in_their_stride():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        none = forecasting.coverage_tests(*intervals_missed_on([0] * 20))
        every = forecasting.coverage_tests(*intervals_missed_on([1] * 20))
        single = forecasting.coverage_tests(*intervals_missed_on([1]))
    assert none.unconditional_statistic == pytest.approx(-2 * 20 * np.log(0.9))
    assert every.unconditional_statistic == pytest.approx(-2 * 20 * np.log(0.1))
    assert single.unconditional_statistic == pytest.approx(-2 * np.log(0.1))
    for result in (none, every, single):
        assert result.independence_statistic == 0 and result.independence_p_value == 1
        assert np.isfinite([result.unconditional_p_value, result.conditional_p_value]).all()
    # a value on a bound is inside, as interval_scores counts it
    assert (
        forecasting.coverage_tests(np.array([0.5]), np.array([-0.5]), np.array([0.5])).misses == 0
    )


def test_coverage_tests_refuse_missing_days_mismatched_shapes_and_odd_levels():
    actual, lower, upper = intervals_missed_on([0, 1, 0])
    with pytest.raises(ValueError, match="pass only the days that have a forecast"):
        forecasting.coverage_tests(actual, np.array([np.nan, -0.5, -0.5]), upper)
    with pytest.raises(ValueError, match="one value per day, on the same days"):
        forecasting.coverage_tests(actual, lower[:2], upper)
    with pytest.raises(ValueError, match="as a share, e.g. 0.9"):
        forecasting.coverage_tests(actual, lower, upper, level=90)


def test_historical_simulation_uses_the_last_window_of_returns_and_nothing_later():
    returns = pd.Series(np.random.default_rng(6).normal(0, 0.01, 300)).where(lambda r: r.index > 0)
    lower, upper = forecasting.historical_simulation_interval(returns, window=50)
    # the first return is blank, as a price series' first difference is
    assert lower.iloc[:50].isna().all() and lower.iloc[50:].notna().all()
    assert lower.iloc[120] == pytest.approx(np.quantile(returns.iloc[71:121], 0.05))
    assert upper.iloc[120] == pytest.approx(np.quantile(returns.iloc[71:121], 0.95))
    shorter_lower, shorter_upper = forecasting.historical_simulation_interval(
        returns.iloc[:200], window=50
    )
    assert shorter_lower.equals(lower.iloc[:200]) and shorter_upper.equals(upper.iloc[:200])
    median = forecasting.historical_quantile(returns, 0.5, window=50)
    assert median.iloc[120] == pytest.approx(returns.iloc[71:121].median())


def test_normal_quantiles_agree_with_the_normal_interval():
    center, volatility = np.array([0.001, -0.002]), np.array([0.01, 0.02])
    low, high = forecasting.normal_interval(center, volatility)
    np.testing.assert_allclose(forecasting.normal_quantile(center, volatility, 0.05), low)
    np.testing.assert_allclose(forecasting.normal_quantile(center, volatility, 0.95), high)
    np.testing.assert_array_equal(forecasting.normal_quantile(center, volatility, 0.5), center)
    assert forecasting.QUANTILE_LEVELS == tuple(round(0.05 * step, 2) for step in range(1, 20))


def test_hit_rates_count_days_at_or_below_and_pinball_loss_by_hand():
    actual = np.array([0.1, 0.2, 0.3, 0.4])
    rates = forecasting.quantile_hit_rates(actual, {0.25: np.full(4, 0.25), 0.5: np.full(4, 0.2)})
    assert rates == {0.25: 0.5, 0.5: 0.5}
    # misses −0.5 and +0.5 at level 0.9: 0.1 × 0.5 and 0.9 × 0.5
    assert forecasting.pinball_loss(
        np.array([1.0, 2.0]), np.array([1.5, 1.5]), 0.9
    ) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="pass only the days that have a forecast"):
        forecasting.quantile_hit_rates(np.array([np.nan, 0.1]), {0.5: np.zeros(2)})


ALPHAS = np.logspace(-1, 5, 13)


def chapter_ridge():
    """Chapter 3's ridge pipeline."""
    return make_pipeline(
        sklearn_onnx.WindowFlattener(),
        StandardScaler(),
        RidgeCV(alphas=ALPHAS, cv=TimeSeriesSplit(5)),
    )


def assert_same_ridge(training_windows, training_returns, test_windows):
    """The fast ridge chooses scikit-learn's alpha and forecasts what it forecasts."""
    fitted = chapter_ridge().fit(training_windows, training_returns)
    alpha, forecasts = forecasting.ridge_forecast(
        training_windows, training_returns, test_windows, alphas=ALPHAS
    )
    assert alpha == fitted[-1].alpha_
    np.testing.assert_allclose(forecasts, fitted.predict(test_windows), rtol=1e-8, atol=0)
    return alpha


@pytest.fixture(scope="module")
def prices():
    return stocks.load_prices("AAPL").prices


def test_the_fast_ridge_is_scikit_learns_on_placebo_folds(prices):
    for seed in (0, 1):
        windows, returns, forecast_days = forecasting._next_day_windows(
            forecasting.simulate_prices(prices, seed=seed), 20
        )
        training, test = next(forecasting.WalkForwardSplit(forecast_days, [2022]).split(windows))
        windows = windows.astype(
            float
        )  # the fast ridge computes in float64, as scikit-learn does here
        assert assert_same_ridge(windows[training], returns[training], windows[test]) == 1e5


def test_the_fast_ridge_is_scikit_learns_where_it_chooses_a_small_alpha():
    rng = np.random.default_rng(7)
    for noise, windows in (
        (0.1, rng.normal(size=(180, 20, 10))),
        (1.0, rng.normal(size=(400, 5, 4))),
    ):
        flat = windows.reshape(len(windows), -1)
        returns = flat @ rng.normal(0, 0.3, flat.shape[1]) + rng.normal(0, noise, len(windows))
        split = len(windows) - 30
        alpha = assert_same_ridge(windows[:split], returns[:split], windows[split:])
        assert alpha < 1e3  # a signal to find: less shrinkage than on noise
    with pytest.raises(ValueError, match="constant over the training windows: drop them"):
        forecasting.ridge_forecast(
            np.ones((30, 2, 1)), np.zeros(30), np.ones((2, 2, 1)), alphas=ALPHAS
        )


def test_placebo_study_compares_the_cheap_forecasts_seed_by_seed(prices):
    study = forecasting.placebo_study(
        prices, [0, 1, 2], window=20, test_years=[2022, 2023, 2024], ridge_alphas=ALPHAS
    )
    assert study.days == 752 and study.p_values.shape == study.statistics.shape == (3, 3)
    # seed 1's drift against persistence, walked forward by hand
    windows, returns, forecast_days = forecasting._next_day_windows(
        forecasting.simulate_prices(prices, seed=1), 20
    )
    drift = np.zeros(len(returns))
    for training, test in forecasting.WalkForwardSplit(forecast_days, [2022, 2023, 2024]).split():
        drift[test] = returns[training].mean()
    tested = np.isin(forecast_days.year, [2022, 2023, 2024])
    by_hand = significance.diebold_mariano(
        (returns[tested] - drift[tested]) ** 2,
        returns[tested] ** 2,
        names=("drift", "persistence"),
        period="x",
    )
    assert study.statistics[1, 0] == pytest.approx(by_hand.statistic)
    assert study.p_values[1, 0] == pytest.approx(by_hand.p_value)
    assert (study.adjusted_p_values >= study.p_values).all()
    table = study.table()
    assert list(table.index) == [
        "drift vs persistence",
        "ridge vs persistence",
        "ridge vs drift",
        "any of them, Holm-adjusted",
    ]
    for row in table.to_dict("records"):
        low, high = significance.clopper_pearson(int(row["rejected"]), 3)
        assert row["share"] == row["rejected"] / 3 and (row["low"], row["high"]) == (low, high)
    text = str(study)
    assert text.startswith("3 simulated price paths, 752 test days each")
    assert len(text.splitlines()) == 5 and "95% interval" in text.splitlines()[1]
    with pytest.raises(ValueError, match="pass one seed per simulated price path"):
        forecasting.placebo_study(prices, [], window=20, test_years=[2022], ridge_alphas=ALPHAS)
