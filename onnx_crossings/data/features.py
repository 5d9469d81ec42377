"""Technical indicators from daily bars, each computed from that day and earlier days only."""

import numpy as np
import pandas as pd

LONGEST_WINDOW = 50  # days of history the slowest indicator needs; earlier rows are dropped


def technical_features(prices: pd.DataFrame) -> pd.DataFrame:
    """Returns, trend, momentum, volatility and volume indicators for every day with enough history."""
    close = prices["Close"]
    log_close = np.log(close)
    daily_return = log_close.diff()
    features = pd.DataFrame(
        {
            "return_1d": daily_return,
            "return_5d": log_close.diff(5),
            "return_20d": log_close.diff(20),
            "close_vs_sma_10": close / close.rolling(10).mean() - 1,
            "close_vs_sma_50": close / close.rolling(LONGEST_WINDOW).mean() - 1,
            "volatility_20d": daily_return.rolling(20).std(),
            "rsi_14": relative_strength_index(close, 14),
            "macd": macd_histogram(close),
            "day_range": (prices["High"] - prices["Low"]) / close,
            "volume_z_20": zscore(np.log(prices["Volume"]), 20),
        },
        index=prices.index,
    )
    return features.iloc[LONGEST_WINDOW:]


def relative_strength_index(close: pd.Series, days: int) -> pd.Series:
    """Wilder's RSI scaled to 0-1: the share of recent movement that was upward, smoothed exponentially."""
    change = close.diff()
    gains = change.clip(lower=0).ewm(alpha=1 / days, adjust=False, min_periods=days).mean()
    losses = (-change).clip(lower=0).ewm(alpha=1 / days, adjust=False, min_periods=days).mean()
    return gains / (gains + losses)


def macd_histogram(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.Series:
    """MACD minus its signal line, relative to the price: positive when momentum is picking up."""
    macd = close.ewm(span=fast, adjust=False).mean() - close.ewm(span=slow, adjust=False).mean()
    return (macd - macd.ewm(span=signal, adjust=False).mean()) / close


def zscore(series: pd.Series, days: int) -> pd.Series:
    """How unusual each value is against the previous days' mean and spread (today included)."""
    window = series.rolling(days)
    return (series - window.mean()) / window.std()


def next_day_return(close: pd.Series) -> pd.Series:
    """Log return from each day's close to the next day's close (blank on the last day): the forecast target."""
    return np.log(close).diff().shift(-1).rename("next_day_return")


def sliding_windows(features: pd.DataFrame, length: int) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Every run of `length` consecutive days as float32 (windows, length, features), and each run's last day."""
    if len(features) < length:
        raise ValueError(
            f"need at least {length} days of features for one window, got {len(features)}"
        )
    values = features.to_numpy(np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(values, length, axis=0).transpose(0, 2, 1)
    return np.ascontiguousarray(windows), features.index[length - 1 :]
