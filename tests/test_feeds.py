"""Both feeds hand out the last day seen again and the bars after it, oldest first, validated, on a clock."""

import numpy as np
import pandas as pd
import pytest
from price_bars import bars

from onnx_crossings.data import feeds
from onnx_crossings.data.download import DatasetError
from onnx_crossings.data.stocks import PRICE_COLUMNS


def consecutive_bars(first_day: str, count: int) -> pd.DataFrame:
    """A few plausible daily bars on consecutive business days."""
    return bars(pd.bdate_range(first_day, periods=count))


def history_until(day: str, close: float = 100.0) -> pd.DataFrame:
    """A history whose last bar is on `day`, closing at `close`."""
    return bars([day], first_close=close)


def test_replay_serves_the_next_bars_in_order_with_the_last_day_seen_then_nothing_new():
    recorded = consecutive_bars("2024-01-02", 5)
    feed = feeds.open_feed("AAPL", recorded, online=False)
    history = history_until("2023-12-29")
    served = []
    while True:
        since = feed.bars_since(history)
        new = since.loc[since.index > history.index[-1]]
        if new.empty:
            break
        assert len(new) == 1
        served.append(new.index[0])
        history = pd.concat([history, new])
    assert served == list(recorded.index)
    assert list(since.index) == [recorded.index[-1]], "the last day seen, again"
    assert feed.source == feeds.ReplayFeed.source


def test_replay_can_serve_several_bars_per_poll():
    feed = feeds.open_feed("AAPL", consecutive_bars("2024-01-02", 5), online=False, bars_per_poll=2)
    history = consecutive_bars("2024-01-02", 1)
    assert list(feed.bars_since(history).index) == list(consecutive_bars("2024-01-02", 3).index)


def test_the_replays_clock_is_the_close_of_the_last_day_it_served():
    feed = feeds.ReplayFeed(consecutive_bars("2024-03-04", 5), "AAPL", bars_per_poll=2)
    assert feed.now() == pd.Timestamp("2024-03-03 16:00", tz=feeds.NEW_YORK)
    feed.bars_since(history_until("2024-03-01"))
    assert feed.now() == pd.Timestamp("2024-03-05 16:00", tz=feeds.NEW_YORK)
    assert feeds.last_complete_session(feed.now()) == pd.Timestamp("2024-03-05")


def test_replay_says_the_market_traded_by_the_calendar_or_by_the_days_given():
    calendar = feeds.ReplayFeed(consecutive_bars("2024-03-25", 4), "AAPL")
    assert calendar.market_traded(pd.Timestamp("2024-03-28"))
    assert not calendar.market_traded(pd.Timestamp("2024-03-29")), "Good Friday"
    given = feeds.ReplayFeed(consecutive_bars("2024-03-25", 4), "AAPL", market_days=["2024-03-25"])
    assert not given.market_traded(pd.Timestamp("2024-03-26"))


def test_yahoo_asks_spy_whether_the_market_traded(monkeypatch):
    calls = []

    def fake_download(ticker, start, end):
        calls.append((ticker, start, end))
        return consecutive_bars("2024-03-04", 3).loc[
            lambda frame: (frame.index >= start) & (frame.index < end)
        ]

    monkeypatch.setattr(feeds, "download_prices", fake_download)
    feed = feeds.YahooFeed("AAPL", now=lambda: NEW_YORK_CLOCK["after the close"])
    assert feed.market_traded(pd.Timestamp("2024-03-05"))
    assert not feed.market_traded(pd.Timestamp("2024-03-07"))
    assert calls[0] == ("SPY", "2024-03-05", "2024-03-06")


def test_replay_refuses_broken_bars():
    broken = consecutive_bars("2024-01-02", 3)
    broken.loc[broken.index[1], "Close"] = np.nan
    with pytest.raises(DatasetError, match="blank"):
        feeds.ReplayFeed(broken, "AAPL")


NEW_YORK_CLOCK = {
    "before the close": pd.Timestamp("2024-03-06 15:59", tz=feeds.NEW_YORK),
    "after the close": pd.Timestamp("2024-03-06 16:01", tz=feeds.NEW_YORK),
    # 21:30 in Tokyo is 7:30 in New York, the same calendar day there, hours before its session opens
    "Tokyo evening": pd.Timestamp("2024-03-06 21:30", tz="Asia/Tokyo"),
    "Saturday": pd.Timestamp("2024-03-09 12:00", tz=feeds.NEW_YORK),
    "Good Friday evening": pd.Timestamp("2024-03-29 18:00", tz=feeds.NEW_YORK),
}


@pytest.mark.parametrize(
    ("clock", "session"),
    [("Saturday", "2024-03-08"), ("Good Friday evening", "2024-03-28")],
)
def test_the_last_complete_session_is_a_day_the_exchange_traded(clock, session):
    assert feeds.last_complete_session(NEW_YORK_CLOCK[clock]) == pd.Timestamp(session)


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
        return consecutive_bars("2024-03-04", 3)

    monkeypatch.setattr(feeds, "download_prices", fake_download)
    feed = feeds.YahooFeed("AAPL", now=lambda: NEW_YORK_CLOCK[clock])
    new = feed.bars_since(history_until("2024-03-04", close=100.0))
    assert calls == [
        (
            "AAPL",
            "2024-03-04",
            (pd.Timestamp(last_complete) + pd.Timedelta(days=1)).date().isoformat(),
        )
    ]
    assert new.index[-1] == pd.Timestamp(last_complete) and new.index[0] == pd.Timestamp(
        "2024-03-04"
    )


def test_a_clock_without_a_time_zone_is_refused():
    with pytest.raises(ValueError, match="no time zone"):
        feeds.last_complete_session(pd.Timestamp("2024-03-06 17:00"))


def test_yahoo_feed_without_new_bars_returns_an_empty_frame(monkeypatch):
    monkeypatch.setattr(feeds, "download_prices", lambda ticker, start, end: pd.DataFrame())
    feed = feeds.YahooFeed("AAPL", now=lambda: NEW_YORK_CLOCK["after the close"])
    new = feed.bars_since(history_until("2024-03-01"))
    assert new.empty and list(new.columns) == PRICE_COLUMNS


def test_yahoo_feed_does_not_ask_before_another_session_has_closed(monkeypatch):
    monkeypatch.setattr(
        feeds, "download_prices", lambda *args: pytest.fail("nothing complete to ask for")
    )
    feed = feeds.YahooFeed("AAPL", now=lambda: NEW_YORK_CLOCK["before the close"])
    assert feed.bars_since(history_until("2024-03-05")).empty


def test_a_re_based_history_is_detected_by_both_feeds(monkeypatch):
    # a 4-for-1 split: the source now shows every earlier close divided by 4, the history does not
    split = consecutive_bars("2024-03-04", 3)
    split.loc[:, ["Open", "High", "Low", "Close", "Adj Close"]] /= 4
    history = history_until("2024-03-04", close=100.0)
    with pytest.raises(feeds.HistoryRebased, match="re-based its prices.*fetch the history again"):
        feeds.ReplayFeed(split, "AAPL").bars_since(history)
    monkeypatch.setattr(feeds, "download_prices", lambda *args: split)
    with pytest.raises(feeds.HistoryRebased):
        feeds.YahooFeed("AAPL", now=lambda: NEW_YORK_CLOCK["after the close"]).bars_since(history)
    unchanged = consecutive_bars("2024-03-04", 3)
    assert len(feeds.ReplayFeed(unchanged, "AAPL").bars_since(history)) == 2
    revised = consecutive_bars("2024-03-04", 3)
    revised.loc[revised.index[0], ["Close", "Adj Close"]] = 100.05  # the official close, 0.05% off
    assert feeds.ReplayFeed(revised, "AAPL").bars_since(history)["Close"].iloc[0] == 100.05
