"""Technical indicators: values on known inputs, and proof that no feature looks ahead."""

import numpy as np
import pandas as pd
import pytest

from onnx_crossings.data import features
from onnx_crossings.data.stocks import load_prices


@pytest.fixture(scope="module")
def prices():
    return load_prices().prices


def computed_from_the_past_only(make_features, prices, cuts) -> bool:
    """True when the features of every day up to each cut are the same whether or not later days exist."""
    full = make_features(prices)
    for cut in cuts:
        partial = make_features(prices.iloc[: cut + 1])
        assert partial.index[-1] == prices.index[cut], (
            "features must reach the last day they are given"
        )
        if not np.allclose(
            partial.to_numpy(), full.loc[: prices.index[cut]].to_numpy(), rtol=0, atol=1e-12
        ):
            return False
    return True


def test_no_feature_looks_ahead(prices):
    cuts = range(features.LONGEST_WINDOW + 1, len(prices), 97)
    assert computed_from_the_past_only(features.technical_features, prices, cuts)


def test_the_look_ahead_check_catches_a_centred_average(prices):
    def centred(frame):
        return frame[["Close"]].rolling(5, center=True, min_periods=1).mean()

    assert not computed_from_the_past_only(centred, prices, range(100, 1_400, 97))


def test_features_start_after_the_longest_window_and_have_no_blanks(prices):
    table = features.technical_features(prices)
    assert table.index[0] == prices.index[features.LONGEST_WINDOW]
    assert not table.isna().any(axis=None)


def test_rsi_is_one_after_only_gains_and_zero_after_only_losses():
    rising = pd.Series(np.arange(1.0, 40.0))
    assert features.relative_strength_index(rising, 14).dropna().eq(1).all()
    assert (
        features.relative_strength_index(rising[::-1].reset_index(drop=True), 14)
        .dropna()
        .eq(0)
        .all()
    )


def test_macd_histogram_is_zero_on_a_flat_price():
    assert np.allclose(features.macd_histogram(pd.Series(np.full(60, 50.0))), 0)


def test_returns_are_log_differences(prices):
    table = features.technical_features(prices)
    day = table.index[10]
    previous = prices.index[prices.index.get_loc(day) - 1]
    assert table.loc[day, "return_1d"] == pytest.approx(
        np.log(prices.loc[day, "Close"] / prices.loc[previous, "Close"])
    )


def test_windows_end_on_the_day_they_are_labelled_with():
    days = pd.date_range("2024-01-01", periods=6, name="Date")
    frame = pd.DataFrame({"a": np.arange(6.0), "b": 10 + np.arange(6.0)}, index=days)
    windows, last_days = features.sliding_windows(frame, 3)
    assert windows.shape == (4, 3, 2) and windows.dtype == np.float32
    assert list(last_days) == list(days[2:])
    assert windows[0].tolist() == [[0, 10], [1, 11], [2, 12]]
    assert windows[-1, -1].tolist() == frame.loc[last_days[-1]].tolist()


def test_too_few_days_for_a_window_is_a_clear_error():
    frame = pd.DataFrame({"a": [1.0, 2.0]}, index=pd.date_range("2024-01-01", periods=2))
    with pytest.raises(ValueError, match="at least 3 days"):
        features.sliding_windows(frame, 3)


def test_next_day_return_is_tomorrows_log_change():
    close = pd.Series([100.0, 110.0, 99.0], index=pd.date_range("2024-01-01", periods=3))
    target = features.next_day_return(close)
    assert np.allclose(target.iloc[:2], [np.log(1.1), np.log(0.9)])
    assert np.isnan(target.iloc[-1])
