"""Forecasts judged as forecasters judge them: walk-forward folds, benchmarks' errors and prediction intervals."""

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

INTERVAL_LEVEL = 0.9  # the prediction intervals' nominal coverage
RISKMETRICS_DECAY = 0.94  # J.P. Morgan's RiskMetrics smoothing for daily volatility


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
