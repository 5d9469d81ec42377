"""Both feeds hand out only bars newer than the last one seen, oldest first, validated."""

import numpy as np
import pandas as pd
import pytest

from onnx_crossings.data import feeds
from onnx_crossings.data.download import DatasetError
from onnx_crossings.data.stocks import PRICE_COLUMNS


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


def history_until(day: str, close: float = 100.0) -> pd.DataFrame:
    """A history whose last bar is on `day`, closing at `close`."""
    frame = bars(day, 1)
    frame.loc[:, ["Open", "High", "Low", "Close", "Adj Close"]] = [
        close,
        close + 1,
        close - 1,
        close,
        close,
    ]
    return frame


def test_replay_serves_the_next_bars_in_order_then_nothing():
    recorded = bars("2024-01-02", 5)
    feed = feeds.open_feed("AAPL", recorded, online=False)
    history = history_until("2023-12-29")
    served = []
    while not (new := feed.bars_after(history)).empty:
        assert len(new) == 1
        served.append(new.index[0])
        history = pd.concat([history, new])
    assert served == list(recorded.index)
    assert feed.source == feeds.ReplayFeed.source


def test_replay_can_serve_several_bars_per_poll():
    feed = feeds.ReplayFeed(bars("2024-01-02", 5), "AAPL", bars_per_poll=2)
    history = bars("2024-01-02", 1)
    assert list(feed.bars_after(history).index) == list(bars("2024-01-03", 2).index)


def test_replay_refuses_broken_bars():
    broken = bars("2024-01-02", 3)
    broken.loc[broken.index[1], "Close"] = np.nan
    with pytest.raises(DatasetError, match="blank"):
        feeds.ReplayFeed(broken, "AAPL")


NEW_YORK_CLOCK = {
    "before the close": pd.Timestamp("2024-03-06 15:59", tz=feeds.NEW_YORK),
    "after the close": pd.Timestamp("2024-03-06 16:01", tz=feeds.NEW_YORK),
    # 21:30 in Tokyo is 7:30 in New York, the same calendar day there, hours before its session opens
    "Tokyo evening": pd.Timestamp("2024-03-06 21:30", tz="Asia/Tokyo"),
}


@pytest.mark.parametrize(
    ("clock", "last_complete"),
    [
        ("before the close", "2024-03-05"),
        ("after the close", "2024-03-06"),
        ("Tokyo evening", "2024-03-05"),
    ],
)
def test_a_session_is_complete_only_after_four_pm_in_new_york(monkeypatch, clock, last_complete):
    calls = []

    def fake_download(ticker, start, end):
        calls.append((ticker, start, end))
        # Yahoo serves the unfinished session too, as it does while it trades
        return bars("2024-03-04", 3)

    monkeypatch.setattr(feeds, "download_prices", fake_download)
    feed = feeds.YahooFeed("AAPL", now=lambda: NEW_YORK_CLOCK[clock])
    new = feed.bars_after(history_until("2024-03-04", close=100.0))
    assert calls == [
        (
            "AAPL",
            "2024-03-04",
            (pd.Timestamp(last_complete) + pd.Timedelta(days=1)).date().isoformat(),
        )
    ]
    assert new.index[-1] == pd.Timestamp(last_complete) and new.index[0] == pd.Timestamp(
        "2024-03-05"
    )


def test_a_clock_without_a_time_zone_is_refused():
    with pytest.raises(ValueError, match="no time zone"):
        feeds.last_complete_session(pd.Timestamp("2024-03-06 17:00"))


def test_yahoo_feed_without_new_bars_returns_an_empty_frame(monkeypatch):
    monkeypatch.setattr(feeds, "download_prices", lambda ticker, start, end: pd.DataFrame())
    feed = feeds.YahooFeed("AAPL", now=lambda: NEW_YORK_CLOCK["after the close"])
    new = feed.bars_after(history_until("2024-03-01"))
    assert new.empty and list(new.columns) == PRICE_COLUMNS


def test_yahoo_feed_does_not_ask_before_another_session_has_closed(monkeypatch):
    monkeypatch.setattr(
        feeds, "download_prices", lambda *args: pytest.fail("nothing complete to ask for")
    )
    feed = feeds.YahooFeed("AAPL", now=lambda: NEW_YORK_CLOCK["before the close"])
    assert feed.bars_after(history_until("2024-03-05")).empty


def test_a_re_based_history_is_detected_by_both_feeds(monkeypatch):
    # a 4-for-1 split: the source now shows every earlier close divided by 4, the history does not
    split = bars("2024-03-04", 3)
    split.loc[:, ["Open", "High", "Low", "Close", "Adj Close"]] /= 4
    history = history_until("2024-03-04", close=100.0)
    with pytest.raises(feeds.HistoryRebased, match="re-based its prices.*fetch the history again"):
        feeds.ReplayFeed(split, "AAPL").bars_after(history)
    monkeypatch.setattr(feeds, "download_prices", lambda *args: split)
    with pytest.raises(feeds.HistoryRebased):
        feeds.YahooFeed("AAPL", now=lambda: NEW_YORK_CLOCK["after the close"]).bars_after(history)
    unchanged = bars("2024-03-04", 3)
    assert len(feeds.ReplayFeed(unchanged, "AAPL").bars_after(history)) == 1
