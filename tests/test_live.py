"""The live loop, run after run against a stand-in Yahoo Finance and a settable clock: no network, no model."""

import os
import warnings

import numpy as np
import pandas as pd
import pytest
from price_bars import bars

from onnx_crossings.data import feeds, live
from onnx_crossings.data.download import DatasetError
from onnx_crossings.data.stocks import nyse_trading_days

MODEL = "toy.onnx (sha256 0123456789ab)"


def sessions(start: str, end: str) -> pd.DatetimeIndex:
    """The NYSE's trading days from start to end."""
    return nyse_trading_days(start, end)


def toy_forecast(history: pd.DataFrame) -> dict[str, float]:
    """A forecaster that depends on the last three closes, so a forecast shows which days it saw."""
    forecast = float(history["Close"].iloc[-3:].mean()) + 0.5
    return {"forecast": forecast, "lower": forecast - 2, "upper": forecast + 2}


class Yahoo:
    """A stand-in for Yahoo Finance: what it has published per symbol, and a New York clock set by the test."""

    def __init__(self, monkeypatch, published: dict[str, pd.DataFrame]):
        self.published = published
        self.asked = []
        self.time = None
        monkeypatch.setattr(feeds, "download_prices", self.download)

    def download(self, ticker: str, start: str, end: str) -> pd.DataFrame:
        """The published bars from start up to end (excluded), as yfinance.download serves them."""
        self.asked.append(ticker)
        frame = self.published.get(ticker, pd.DataFrame())
        return frame.loc[(frame.index >= start) & (frame.index < end)] if len(frame) else frame

    def evening_of(self, day: str) -> None:
        """Set the clock to 6 pm in New York on the day."""
        self.time = pd.Timestamp(f"{day} 18:00", tz=feeds.NEW_YORK)

    def feed(self) -> feeds.YahooFeed:
        """A YahooFeed for AAPL reading this stand-in's clock."""
        return feeds.YahooFeed("AAPL", now=lambda: self.time)


@pytest.fixture
def march(monkeypatch):
    """Yahoo with AAPL and SPY published for every session of March 2024, clock unset."""
    days = sessions("2024-03-01", "2024-03-28")
    return Yahoo(monkeypatch, {"AAPL": bars(days), "SPY": bars(days, 500.0)})


def history_until(yahoo: Yahoo, day: str) -> pd.DataFrame:
    """AAPL's published bars up to the day."""
    prices = yahoo.published["AAPL"]
    return prices.loc[prices.index <= day]


def run(yahoo, history, log_path):
    """One run of the loop with the stand-in's feed and a log reopened from disk, as a new session would."""
    return live.run_once(
        history, yahoo.feed(), toy_forecast, live.ForecastLog(log_path), model_name=MODEL
    )


def test_no_new_bars_gives_an_empty_update_and_duplicates_nothing(march, tmp_path):
    march.evening_of("2024-03-06")
    history = history_until(march, "2024-03-06")  # fetched through the last closed session
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = run(march, history, tmp_path / "log.csv")
        again = run(march, history, tmp_path / "log.csv")
    for update in (first, again):
        assert update.new_bars.empty and update.scored.empty and update.warnings == ()
        assert update.next_forecast["day"] == pd.Timestamp("2024-03-07")
    assert len(live.ForecastLog(tmp_path / "log.csv").table) == 1
    assert "no new bars; the newest is from 2024-03-06" in str(again)
    assert march.asked == [], "nothing to ask Yahoo before another session has closed"


def test_new_bars_over_several_runs_are_forecast_kept_on_disk_and_scored(march, tmp_path):
    march.evening_of("2024-03-05")
    first = run(march, history_until(march, "2024-03-04"), tmp_path / "log.csv")
    assert list(first.new_bars.index) == [pd.Timestamp("2024-03-05")]
    assert list(first.scored.index) == [pd.Timestamp("2024-03-05")]
    assert not first.scored["final"].iloc[0], "the last closed session's close is provisional"
    march.evening_of("2024-03-08")
    second = run(march, first.history, tmp_path / "log.csv")
    assert list(second.new_bars.index) == list(sessions("2024-03-06", "2024-03-08"))
    watch = live.ForecastLog(tmp_path / "log.csv").watch(MODEL)
    assert list(watch.index) == list(sessions("2024-03-05", "2024-03-08"))
    assert list(watch["final"]) == [True, True, True, False]
    prices = march.published["AAPL"]
    for day, row in watch.iterrows():
        made = prices.index[prices.index.get_loc(day) - 1]
        assert row["close"] == prices.at[day, "Close"] and row["today"] == prices.at[made, "Close"]
        assert row["forecast"] == toy_forecast(prices.loc[:made])["forecast"]
    assert second.next_forecast["made"] == pd.Timestamp("2024-03-08")
    assert second.next_forecast["day"] == pd.Timestamp("2024-03-11")
    assert (
        "3 new bar(s), 2024-03-06 to 2024-03-08; 3 forecast(s) scored (1 against a provisional"
        in str(second)
    )
    assert MODEL in str(second)


def test_a_missing_session_is_an_error_and_nothing_is_logged(march, tmp_path):
    march.published["AAPL"] = march.published["AAPL"].drop(pd.Timestamp("2024-03-06"))
    march.evening_of("2024-03-07")
    with pytest.raises(live.MissingSession, match="no AAPL bar for 2024-03-06.*run again later"):
        run(march, history_until(march, "2024-03-04"), tmp_path / "log.csv")
    assert not (tmp_path / "log.csv").exists()


@pytest.mark.parametrize(
    ("last_day", "closed", "next_day"),
    [("2024-03-28", "2024-03-29", "2024-04-01"), ("2025-01-08", "2025-01-09", "2025-01-10")],
    ids=["Good Friday", "a closure the calendar knows"],
)
def test_a_day_the_calendar_knows_closed_is_no_gap(
    monkeypatch, tmp_path, last_day, closed, next_day
):
    days = sessions(pd.Timestamp(last_day) - pd.Timedelta(days=7), next_day)
    assert pd.Timestamp(closed) not in days
    yahoo = Yahoo(monkeypatch, {"AAPL": bars(days), "SPY": bars(days, 500.0)})
    yahoo.evening_of(next_day)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        update = run(yahoo, history_until(yahoo, last_day), tmp_path / "log.csv")
    assert list(update.new_bars.index) == [pd.Timestamp(next_day)]
    assert list(update.scored.index) == [pd.Timestamp(next_day)]
    assert yahoo.asked == ["AAPL"], "a known closure needs no look at the market"


def test_an_unscheduled_closure_warns_and_the_loop_carries_on(march, tmp_path):
    closed = pd.Timestamp("2024-03-06")  # as if the exchange had closed that day without notice
    march.published = {ticker: frame.drop(closed) for ticker, frame in march.published.items()}
    march.evening_of("2024-03-07")
    with pytest.warns(live.UnscheduledClosure, match="2024-03-06.*NYSE_UNSCHEDULED_CLOSURES"):
        update = run(march, history_until(march, "2024-03-05"), tmp_path / "log.csv")
    assert list(update.new_bars.index) == [pd.Timestamp("2024-03-07")]
    scored = update.scored.iloc[0]
    assert update.scored.index[0] == pd.Timestamp("2024-03-07"), "scored by the next bar there is"
    assert scored["today"] == march.published["AAPL"].at[pd.Timestamp("2024-03-05"), "Close"]
    assert [type(alarm) for alarm in update.warnings] == [live.UnscheduledClosure]


def test_a_revised_close_is_scored_again_and_a_re_based_one_is_refused(march, tmp_path):
    march.evening_of("2024-03-05")
    first = run(march, history_until(march, "2024-03-04"), tmp_path / "log.csv")
    provisional = first.scored.at[pd.Timestamp("2024-03-05"), "close"]
    aapl = march.published["AAPL"].copy()
    revised = provisional * 1.0005  # the official close, a little off the last trade's price
    aapl.loc[pd.Timestamp("2024-03-05"), ["High", "Close", "Adj Close"]] = [
        revised + 1,
        revised,
        revised,
    ]
    march.published["AAPL"] = aapl
    march.evening_of("2024-03-06")
    second = run(march, first.history, tmp_path / "log.csv")
    assert second.history.at[pd.Timestamp("2024-03-05"), "Close"] == revised
    rescored = second.rescored.loc[pd.Timestamp("2024-03-05")]
    assert rescored["close"] == revised and rescored["final"]
    assert "1 re-scored after a revised close" in str(second)
    aapl.loc[pd.Timestamp("2024-03-06"), ["Close", "Adj Close", "Low"]] /= 4
    march.evening_of("2024-03-07")
    with pytest.raises(feeds.HistoryRebased, match="fetch the history again"):
        run(march, second.history, tmp_path / "log.csv")


def test_after_a_split_the_log_follows_the_re_based_history(march, tmp_path):
    march.evening_of("2024-03-07")
    before = run(march, history_until(march, "2024-03-04"), tmp_path / "log.csv")
    split = before.history.copy()
    split[["Open", "High", "Low", "Close", "Adj Close"]] /= 4  # fetched again after a 4-for-1 split
    after = run(march, split, tmp_path / "log.csv")
    assert after.new_bars.empty and after.rescaled == len(before.scored) + 1
    assert "4 logged forecast(s) rescaled" in str(after)
    rescaled = live.ForecastLog(tmp_path / "log.csv").watch(MODEL)
    assert np.allclose(rescaled[live.DOLLAR_COLUMNS], before.scored[live.DOLLAR_COLUMNS] / 4)


def test_a_stale_newest_bar_warns(march, tmp_path):
    march.published["AAPL"] = history_until(march, "2024-03-05")  # the source stopped there
    march.evening_of("2024-03-08")
    with pytest.warns(live.StaleBars, match="from 2024-03-05; the exchange has closed 3 session"):
        update = run(march, history_until(march, "2024-03-04"), tmp_path / "log.csv")
    assert list(update.new_bars.index) == [pd.Timestamp("2024-03-05")]


def test_an_interrupted_save_leaves_the_previous_log_whole(march, tmp_path, monkeypatch):
    path = tmp_path / "log.csv"
    march.evening_of("2024-03-05")
    first = run(march, history_until(march, "2024-03-04"), path)
    saved = path.read_bytes()

    def power_cut(descriptor):
        raise OSError("power cut")

    monkeypatch.setattr(os, "fsync", power_cut)
    march.evening_of("2024-03-08")
    with pytest.raises(OSError, match="power cut"):
        run(march, first.history, path)
    assert path.read_bytes() == saved and [file.name for file in tmp_path.iterdir()] == ["log.csv"]


def test_a_damaged_log_is_named_and_not_overwritten(march, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("model,made\nhalf a row")
    with pytest.raises(DatasetError, match=r"forecast log .*log\.csv is unusable.*move it aside"):
        live.ForecastLog(path)
    assert path.read_text() == "model,made\nhalf a row"


def test_a_replay_in_one_go_forecasts_as_a_day_at_a_time_does(tmp_path):
    recorded = bars(sessions("2024-01-02", "2024-02-29"))
    history, held_out = recorded.iloc[:10], recorded.iloc[10:]
    at_once = live.run_once(
        history,
        feeds.ReplayFeed(held_out, "AAPL", bars_per_poll=len(held_out)),
        toy_forecast,
        live.ForecastLog(tmp_path / "at_once.csv"),
        model_name=MODEL,
    )
    assert at_once.history.equals(recorded) and at_once.warnings == ()
    day_by_day, feed = history, feeds.ReplayFeed(held_out, "AAPL")
    log = live.ForecastLog(tmp_path / "day_by_day.csv")
    while not (
        update := live.run_once(day_by_day, feed, toy_forecast, log, model_name=MODEL)
    ).new_bars.empty:
        day_by_day = update.history
    watch = live.ForecastLog(tmp_path / "at_once.csv").watch(MODEL)
    pd.testing.assert_frame_equal(watch, log.watch(MODEL))
    assert list(watch.index) == list(held_out.index)
    batch = [toy_forecast(recorded.loc[recorded.index < day])["forecast"] for day in watch.index]
    assert list(watch["forecast"]) == batch
    assert list(watch["final"]) == [True] * (len(watch) - 1) + [False], (
        "the replay's last close is provisional"
    )


def test_a_symbol_of_another_market_is_refused(march, tmp_path):
    with pytest.raises(ValueError, match="'SAP.DE' does not trade on the NYSE's days"):
        live.run_once(
            history_until(march, "2024-03-04"),
            feeds.YahooFeed("SAP.DE"),
            toy_forecast,
            live.ForecastLog(tmp_path / "log.csv"),
            model_name=MODEL,
        )


def test_a_forecaster_returning_the_wrong_keys_is_told_what_to_return(march, tmp_path):
    march.evening_of("2024-03-04")
    with pytest.raises(ValueError, match=r"without \['lower', 'upper'\]"):
        live.run_once(
            history_until(march, "2024-03-04"),
            march.feed(),
            lambda history: {"forecast": 1.0},
            live.ForecastLog(tmp_path / "log.csv"),
            model_name=MODEL,
        )


def test_the_model_id_names_the_file_and_its_digest(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"onnx")
    assert live.model_id(path) == "model.onnx (sha256 87e93f89f2be)"
