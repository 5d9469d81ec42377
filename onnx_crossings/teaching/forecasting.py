"""Forecasts judged as forecasters judge them: walk-forward folds, benchmarks' errors and prediction intervals."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import xlogy
from scipy.stats import chi2, norm
from sklearn.model_selection import TimeSeriesSplit
from threadpoolctl import threadpool_limits  # scikit-learn's own dependency

from onnx_crossings.data import features
from onnx_crossings.teaching import significance

INTERVAL_LEVEL = 0.9  # the prediction intervals' nominal coverage
RISKMETRICS_DECAY = 0.94  # J.P. Morgan's RiskMetrics smoothing for daily volatility
HISTORY_DAYS = 250  # about a trading year: the returns a historical simulation draws from
# the quantile levels a calibration check asks every method for
QUANTILE_LEVELS = (
    0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
    0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95,
)  # fmt: skip


class WalkForwardSplit:
    """Expanding-window folds for scikit-learn: each test year's forecasts, trained on every earlier forecast."""

    def __init__(
        self, forecast_days: pd.DatetimeIndex, test_years: Sequence[int], *, embargo: int = 0
    ):
        self.forecast_days = pd.DatetimeIndex(forecast_days)
        self.test_years = list(test_years)
        self.embargo = embargo
        if not self.forecast_days.is_monotonic_increasing:
            raise ValueError("forecast_days must be in time order, as the windows are")
        missing = sorted(set(self.test_years) - set(self.forecast_days.year))
        if missing:
            raise ValueError(
                f"no forecasts fall in test year(s) {missing}: choose years the data covers"
            )

    def split(self, X=None, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (training indices, test indices) per test year; the last `embargo` training samples are dropped."""
        if X is not None and len(X) != len(self.forecast_days):
            raise ValueError(
                f"the splitter knows {len(self.forecast_days)} forecast days but got {len(X)} samples: "
                "build it from the same windows"
            )
        for year in self.test_years:
            test = np.flatnonzero(self.forecast_days.year == year)
            training_end = max(test[0] - self.embargo, 0)
            yield np.arange(training_end), test

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of folds: one per test year."""
        return len(self.test_years)


def look_ahead(
    cv: WalkForwardSplit, target_end_days: pd.DatetimeIndex, forecast_days: pd.DatetimeIndex
) -> list[str]:
    """Every fold whose training targets reach into its first forecast day or later (empty when there is none)."""
    problems = []
    for (training, test), year in zip(cv.split(), cv.test_years, strict=True):
        last_known, first_forecast = target_end_days[training].max(), forecast_days[test].min()
        if last_known >= first_forecast:
            problems.append(
                f"test year {year}: a training target ends on {last_known:%Y-%m-%d}, on or after the first "
                f"forecast day {first_forecast:%Y-%m-%d}; raise the embargo to the horizon minus one"
            )
    return problems


def error_measures(actual: np.ndarray, forecast: np.ndarray, *, naive_mae) -> dict[str, float]:
    """RMSE and MAE of log-return forecasts, and MASE: each error over its training period's random-walk MAE."""
    error = np.abs(np.asarray(actual, float) - np.asarray(forecast, float))
    return {
        "RMSE": float(np.sqrt(np.mean(error**2))),
        "MAE": float(np.mean(error)),
        "MASE": float(np.mean(error / naive_mae)),
    }


def out_of_sample_r2(actual: np.ndarray, forecast: np.ndarray, benchmark: np.ndarray) -> float:
    """1 − the forecast's squared error over the benchmark's: above 0 it beats the benchmark."""
    actual = np.asarray(actual, float)
    return float(1 - np.sum((actual - forecast) ** 2) / np.sum((actual - benchmark) ** 2))


def ewma_volatility(returns: pd.Series, decay: float = RISKMETRICS_DECAY) -> pd.Series:
    """Each day's volatility forecast for the next day, from that day's and earlier returns (RiskMetrics)."""
    return np.sqrt((returns**2).ewm(alpha=1 - decay, adjust=False).mean())


def normal_interval(
    center: np.ndarray, volatility: np.ndarray, level: float = INTERVAL_LEVEL
) -> tuple[np.ndarray, np.ndarray]:
    """The central `level` interval of a normal distribution around `center` with the given spread."""
    half_width = norm.ppf(0.5 + level / 2) * np.asarray(volatility, float)
    return center - half_width, center + half_width


def interval_score(
    actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float = INTERVAL_LEVEL
) -> np.ndarray:
    """Each day's interval score (Gneiting and Raftery): the width plus 2/α times any miss; lower is better."""
    actual, lower, upper = (np.asarray(values, float) for values in (actual, lower, upper))
    miss = np.maximum(lower - actual, 0) + np.maximum(actual - upper, 0)
    return (upper - lower) + 2 / (1 - level) * miss


def interval_scores(
    actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float = INTERVAL_LEVEL
) -> dict[str, float]:
    """Coverage, mean width and mean interval score of prediction intervals over some days."""
    actual, lower, upper = (np.asarray(values, float) for values in (actual, lower, upper))
    return {
        "coverage": float(np.mean((actual >= lower) & (actual <= upper))),
        "width": float(np.mean(upper - lower)),
        "interval score": float(np.mean(interval_score(actual, lower, upper, level))),
    }


@dataclass(frozen=True)
class CoverageTests:
    """Whether an interval's misses come as often as its level says (Kupiec) and one at a time (Christoffersen)."""

    days: int
    misses: int  # days outside the interval
    expected_miss_rate: float  # 1 − the level
    miss_rate: float
    # likelihood-ratio statistics and their p-values: small p-values reject a correct interval
    unconditional_statistic: float  # Kupiec: the miss rate is the expected one (χ², 1 df)
    unconditional_p_value: float
    independence_statistic: float  # Christoffersen: a miss makes the next no likelier (χ², 1 df)
    independence_p_value: float
    conditional_p_value: float  # both at once (χ², 2 df)

    def __str__(self) -> str:
        return (
            f"{self.misses} of {self.days} days outside ({self.miss_rate:.1%}, {self.expected_miss_rate:.1%} "
            f"expected): Kupiec p = {self.unconditional_p_value:.2g}, independence p = "
            f"{self.independence_p_value:.2g}, conditional coverage p = {self.conditional_p_value:.2g}"
        )


def coverage_tests(
    actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float = INTERVAL_LEVEL
) -> CoverageTests:
    """Kupiec's and Christoffersen's likelihood-ratio tests of an interval's misses, day by day in time order."""
    actual, lower, upper = _same_days(actual, lower, upper)
    if not 0 < level < 1:
        raise ValueError(f"level is {level}: give the intervals' coverage as a share, e.g. 0.9")
    missed = (actual < lower) | (actual > upper)
    days, misses, expected = len(missed), int(missed.sum()), 1 - level
    hits = days - misses
    at_observed_rate = _bernoulli_log_likelihood(hits, misses)
    unconditional = max(2 * (at_observed_rate - _log_likelihood_at(hits, misses, expected)), 0.0)
    # the first-order Markov chain of misses: (hits, misses) the day after a hit, and after a miss
    before, after = missed[:-1], missed[1:]
    after_hit = int(np.sum(~before & ~after)), int(np.sum(~before & after))
    after_miss = int(np.sum(before & ~after)), int(np.sum(before & after))
    pooled = (after_hit[0] + after_miss[0], after_hit[1] + after_miss[1])
    markov = _bernoulli_log_likelihood(*after_hit) + _bernoulli_log_likelihood(*after_miss)
    independence = max(2 * (markov - _bernoulli_log_likelihood(*pooled)), 0.0)
    return CoverageTests(
        days=days,
        misses=misses,
        expected_miss_rate=expected,
        miss_rate=misses / days,
        unconditional_statistic=unconditional,
        unconditional_p_value=float(chi2.sf(unconditional, df=1)),
        independence_statistic=independence,
        independence_p_value=float(chi2.sf(independence, df=1)),
        conditional_p_value=float(chi2.sf(unconditional + independence, df=2)),
    )


def _log_likelihood_at(hits: int, misses: int, miss_probability: float) -> float:
    """The log-likelihood of independent hits and misses at a miss probability, with 0 · log 0 = 0."""
    return float(xlogy(hits, 1 - miss_probability) + xlogy(misses, miss_probability))


def _bernoulli_log_likelihood(hits: int, misses: int) -> float:
    """The largest log-likelihood of independent hits and misses: at the observed miss rate (0 with no days)."""
    days = hits + misses
    return _log_likelihood_at(hits, misses, misses / days) if days else 0.0


def _same_days(*series: np.ndarray) -> list[np.ndarray]:
    """The arrays as floats, after checking that they hold one finite value per day, on the same days."""
    arrays = [np.asarray(values, float) for values in series]
    shapes = {array.shape for array in arrays}
    if len(shapes) != 1 or arrays[0].ndim != 1 or len(arrays[0]) == 0:
        raise ValueError(
            f"got shapes {[array.shape for array in arrays]}: pass one value per day, on the same days"
        )
    if not all(np.isfinite(array).all() for array in arrays):
        raise ValueError(
            "some values are NaN or infinite: pass only the days that have a forecast, e.g. values[tested]"
        )
    return arrays


def historical_quantile(returns: pd.Series, level: float, window: int = HISTORY_DAYS) -> pd.Series:
    """Each day's forecast of the next day's `level` quantile: that of the last `window` returns (NaN before)."""
    return returns.rolling(window).quantile(level)


def historical_simulation_interval(
    returns: pd.Series, window: int = HISTORY_DAYS, level: float = INTERVAL_LEVEL
) -> tuple[pd.Series, pd.Series]:
    """Each day's central `level` interval for the next day's return, from the last `window` returns' quantiles."""
    return (
        historical_quantile(returns, 0.5 - level / 2, window),
        historical_quantile(returns, 0.5 + level / 2, window),
    )


def normal_quantile(center: np.ndarray, volatility: np.ndarray, level: float) -> np.ndarray:
    """The `level` quantile of a normal distribution around `center` with the given spread."""
    return np.asarray(center, float) + norm.ppf(level) * np.asarray(volatility, float)


def quantile_hit_rates(
    actual: np.ndarray, quantile_forecasts: dict[float, np.ndarray]
) -> dict[float, float]:
    """The share of days at or below each level's forecast quantile: the level itself when calibrated."""
    rates = {}
    for level, quantile in quantile_forecasts.items():
        days, forecast = _same_days(actual, quantile)
        rates[level] = float(np.mean(days <= forecast))
    return rates


def pinball_loss(actual: np.ndarray, quantile: np.ndarray, level: float) -> float:
    """The mean quantile (pinball) loss of a `level` quantile forecast: lower is better."""
    actual, quantile = _same_days(actual, quantile)
    miss = actual - quantile
    return float(np.mean(np.maximum(level * miss, (level - 1) * miss)))


def simulate_prices(like: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    """Daily bars on `like`'s dates from a random walk whose volatility clusters (GARCH(1,1)): nothing to forecast."""
    rng = np.random.default_rng(seed)
    log_returns = np.log(like["Close"]).diff().dropna().to_numpy()
    variance = log_returns.var()
    # weights of yesterday's variance and yesterday's squared shock
    persistence, reaction = 0.97, 0.08
    omega = variance * (1 - persistence)  # so that the long-run variance matches the real stock's
    returns, shock_variance = np.empty(len(like)), variance
    for day in range(len(like)):
        returns[day] = np.sqrt(shock_variance) * rng.standard_normal()
        shock_variance = (
            omega + (persistence - reaction) * shock_variance + reaction * returns[day] ** 2
        )
    returns[0] = 0.0
    close = like["Close"].iloc[0] * np.exp(np.cumsum(returns))
    open_ = np.concatenate([[close[0]], close[:-1]])
    swing = np.abs(rng.normal(0, np.sqrt(variance) / 2, size=(2, len(like))))
    volume = like["Volume"].median() * np.exp(rng.normal(0, 0.3, len(like)) + 20 * np.abs(returns))
    return pd.DataFrame(
        {
            "Open": open_,
            "High": np.maximum(open_, close) * np.exp(swing[0]),
            "Low": np.minimum(open_, close) * np.exp(-swing[1]),
            "Close": close,
            "Adj Close": close,
            "Volume": volume.round().astype("int64"),
        },
        index=like.index,
    )


PLACEBO_COMPARISONS = (("drift", "persistence"), ("ridge", "persistence"), ("ridge", "drift"))


@dataclass(frozen=True)
class PlaceboStudy:
    """Diebold-Mariano tests of the cheap forecasts on many simulated price paths, where none can have skill."""

    seeds: tuple[int, ...]
    days: int  # pooled test days per seed
    comparisons: tuple[tuple[str, str], ...]  # (model, benchmark)
    # one row per seed, one column per comparison
    statistics: np.ndarray
    p_values: np.ndarray
    adjusted_p_values: np.ndarray  # Holm-adjusted within each seed's family of comparisons

    def table(self) -> pd.DataFrame:
        """Per comparison, and for any of them after Holm: seeds rejected at 5%, their share and its 95% interval."""
        rejected = {
            f"{model} vs {benchmark}": self.p_values[:, column] < significance.SIGNIFICANCE_LEVEL
            for column, (model, benchmark) in enumerate(self.comparisons)
        }
        rejected["any of them, Holm-adjusted"] = np.any(
            self.adjusted_p_values < significance.SIGNIFICANCE_LEVEL, axis=1
        )
        rows = {}
        for name, seed_rejected in rejected.items():
            count = int(seed_rejected.sum())
            low, high = significance.clopper_pearson(count, len(seed_rejected))
            rows[name] = {
                "rejected": count,
                "share": count / len(seed_rejected),
                "low": low,
                "high": high,
            }
        return pd.DataFrame.from_dict(rows, orient="index")

    def __str__(self) -> str:
        lines = [
            f"{len(self.seeds)} simulated price paths, {self.days} test days each: a test at the 5% level "
            "should reject about 5% of them"
        ]
        for name, row in self.table().to_dict("index").items():
            lines.append(
                f"  {name}: {row['rejected']} rejected ({row['share']:.1%}, 95% interval "
                f"{row['low']:.1%} to {row['high']:.1%})"
            )
        return "\n".join(lines)


def placebo_study(
    prices: pd.DataFrame,
    seeds: Sequence[int],
    *,
    window: int,
    test_years: Sequence[int],
    ridge_alphas: Sequence[float],
) -> PlaceboStudy:
    """Persistence, drift and the ridge walked forward on a simulated price path per seed, compared as chapter 3."""
    if not seeds:
        raise ValueError("no seeds given: pass one seed per simulated price path, e.g. range(100)")
    # on matrices this small, one BLAS thread is faster than several waiting for each other and for the cores
    with threadpool_limits(limits=1):
        families = [
            _placebo_comparisons(
                simulate_prices(prices, seed=seed), window, test_years, ridge_alphas
            )
            for seed in seeds
        ]
    return PlaceboStudy(
        seeds=tuple(seeds),
        days=families[0][0].days,
        comparisons=PLACEBO_COMPARISONS,
        statistics=np.array([[each.statistic for each in family] for family in families]),
        p_values=np.array([[each.p_value for each in family] for family in families]),
        adjusted_p_values=np.array(
            [[each.adjusted_p_value for each in family] for family in families]
        ),
    )


def _placebo_comparisons(
    prices: pd.DataFrame,
    window: int,
    test_years: Sequence[int],
    ridge_alphas: Sequence[float],
) -> list[significance.ForecastComparison]:
    """Persistence, drift and the ridge walked forward on one price path, compared on the pooled test days (Holm)."""
    windows, returns, forecast_days = _next_day_windows(prices, window)
    forecasts = {name: np.zeros(len(returns)) for name in ("persistence", "drift", "ridge")}
    for training, test in WalkForwardSplit(forecast_days, test_years).split(windows):
        forecasts["drift"][test] = returns[training].mean()
        _, forecasts["ridge"][test] = ridge_forecast(
            windows[training], returns[training], windows[test], alphas=ridge_alphas
        )
    tested = np.isin(forecast_days.year, test_years)
    errors = {
        name: (returns[tested] - forecast[tested]) ** 2 for name, forecast in forecasts.items()
    }
    return significance.holm_adjusted(
        [
            significance.diebold_mariano(
                errors[model], errors[benchmark], names=(model, benchmark), period="placebo"
            )
            for model, benchmark in PLACEBO_COMPARISONS
        ]
    )


def _next_day_windows(
    prices: pd.DataFrame, window: int
) -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex]:
    """Chapter 3's windows of indicators, each one's next-day log return and the day it forecasts."""
    close = prices["Close"]
    windows, window_ends = features.sliding_windows(features.technical_features(prices), window)
    target = features.next_day_return(close)
    known = target.reindex(window_ends).notna().to_numpy()  # the last day has no tomorrow yet
    windows, window_ends = windows[known], window_ends[known]
    forecast_days = pd.DatetimeIndex(close.index.to_series().shift(-1).reindex(window_ends))
    return windows, target.reindex(window_ends).to_numpy(), forecast_days


def ridge_forecast(
    training_windows: np.ndarray,
    training_returns: np.ndarray,
    test_windows: np.ndarray,
    *,
    alphas: Sequence[float],
    inner_splits: int = 5,
) -> tuple[float, np.ndarray]:
    """Chapter 3's ridge (flattened windows, StandardScaler, RidgeCV with TimeSeriesSplit) fitted: (alpha, forecasts).

    Scikit-learn's choice of alpha and its forecasts, from one SVD per split instead of a fit per split and alpha.
    """
    x_train = np.asarray(training_windows, float).reshape(len(training_windows), -1)
    x_test = np.asarray(test_windows, float).reshape(len(test_windows), -1)
    y_train, alphas = np.asarray(training_returns, float), np.asarray(alphas, float)
    # StandardScaler: the training rows' mean and population standard deviation
    mean, spread = x_train.mean(axis=0), x_train.std(axis=0)
    if np.any(spread == 0):
        raise ValueError(
            f"features {np.flatnonzero(spread == 0).tolist()} are constant over the training windows: "
            "drop them, they cannot be standardised"
        )
    x_train, x_test = (x_train - mean) / spread, (x_test - mean) / spread
    # RidgeCV with cv: GridSearchCV's default score, R², averaged over the inner splits
    scores = []
    for fit, validate in TimeSeriesSplit(inner_splits).split(x_train):
        actual = y_train[validate]
        forecasts = _ridge_forecasts(x_train[fit], y_train[fit], x_train[validate], alphas)
        squared_errors = np.sum((actual[:, None] - forecasts) ** 2, axis=0)
        scores.append(1 - squared_errors / np.sum((actual - actual.mean()) ** 2))
    best = alphas[np.argmax(np.mean(scores, axis=0))]  # the first of equal scores, as GridSearchCV
    return float(best), _ridge_forecasts(x_train, y_train, x_test, best[None])[:, 0]


def _ridge_forecasts(
    x_fit: np.ndarray, y_fit: np.ndarray, x_new: np.ndarray, alphas: np.ndarray
) -> np.ndarray:
    """Ridge regression's forecasts (with an intercept) for x_new, one column per alpha, from one SVD."""
    x_mean, y_mean = x_fit.mean(axis=0), y_fit.mean()
    u, singular, vt = np.linalg.svd(x_fit - x_mean, full_matrices=False)
    shrinkage = singular[:, None] / (singular[:, None] ** 2 + alphas)  # (components, alphas)
    coefficients = vt.T @ (shrinkage * (u.T @ (y_fit - y_mean))[:, None])  # (features, alphas)
    return (x_new - x_mean) @ coefficients + y_mean
