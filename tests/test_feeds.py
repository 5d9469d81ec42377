"""Both feeds hand out only bars newer than the last one seen, oldest first, validated."""

import numpy as np
import pandas as pd
import pytest

from helpers import feeds
from helpers.download import DatasetError
from helpers.stocks import PRICE_COLUMNS


def bars(first_day: str, count: int) -> pd.DataFrame:
    """A few plausible daily bars on consecutive business days."""
    days = pd.bdate_range(first_day, periods=count, name="Date")
    close = 100 + np.arange(count, dtype=float)
    frame = pd.DataFrame(
        {
            "Open": close,
            "High": close + 1,
            "Low": close - 1,
            "Close": close,
            "Adj Close": close,
            "Volume": np.full(count, 1_000),
        },
        index=days,
    )
    return frame[PRICE_COLUMNS]


def test_replay_serves_the_next_bars_in_order_then_nothing():
    recorded = bars("2024-01-02", 5)
    feed = feeds.open_feed("AAPL", recorded, online=False)
    seen = pd.Timestamp("2023-12-29")
    served = []
    while not (new := feed.bars_after(seen)).empty:
        assert len(new) == 1
        served.append(new.index[0])
        seen = new.index[-1]
    assert served == list(recorded.index)
    assert feed.source == feeds.ReplayFeed.source


def test_replay_can_serve_several_bars_per_poll():
    feed = feeds.ReplayFeed(bars("2024-01-02", 5), "AAPL", bars_per_poll=2)
    assert list(feed.bars_after(pd.Timestamp("2024-01-02")).index) == list(
        bars("2024-01-03", 2).index
    )


def test_replay_refuses_broken_bars():
    broken = bars("2024-01-02", 3)
    broken.loc[broken.index[1], "Close"] = np.nan
    with pytest.raises(DatasetError, match="blank"):
        feeds.ReplayFeed(broken, "AAPL")


def test_yahoo_feed_asks_from_the_next_day_and_keeps_only_newer_bars(monkeypatch):
    calls = []

    def fake_download(ticker, start, end):
        calls.append((ticker, start, end))
        return bars("2024-03-01", 4)  # Yahoo may repeat the last known bar

    monkeypatch.setattr(feeds, "download_prices", fake_download)
    new = feeds.open_feed("AAPL", bars("2024-01-02", 3), online=True).bars_after(
        pd.Timestamp("2024-03-01")
    )
    assert calls[0][:2] == ("AAPL", "2024-03-02")
    assert list(new.index) == list(bars("2024-03-04", 3).index)


def test_yahoo_feed_without_new_bars_returns_an_empty_frame(monkeypatch):
    monkeypatch.setattr(feeds, "download_prices", lambda ticker, start, end: pd.DataFrame())
    new = feeds.YahooFeed("AAPL").bars_after(pd.Timestamp("2024-03-01"))
    assert new.empty and list(new.columns) == PRICE_COLUMNS


def test_yahoo_feed_does_not_ask_for_todays_unfinished_bar(monkeypatch):
    monkeypatch.setattr(
        feeds, "download_prices", lambda *args: pytest.fail("nothing complete to ask for")
    )
    yesterday = pd.Timestamp.today().normalize() - pd.Timedelta(days=1)
    assert feeds.YahooFeed("AAPL").bars_after(yesterday).empty
