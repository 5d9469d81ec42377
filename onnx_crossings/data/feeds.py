"""New daily bars as they arrive: Yahoo Finance when online, a replay of recorded bars offline, one interface."""

from collections.abc import Callable, Iterable
from typing import Protocol

import pandas as pd

from onnx_crossings.data.stocks import (
    FROM_YAHOO,
    PRICE_COLUMNS,
    download_prices,
    nyse_session_on_or_before,
    nyse_trading_days,
    validate_bars,
)

NEW_YORK = "America/New_York"
# the NYSE's regular session ends at 4 pm, New York time (1 pm on its half days, which 4 pm only waits out)
SESSION_CLOSE = pd.Timedelta(hours=16)
REBASE_TOLERANCE = 1e-3  # a known day's close that moved more than this was re-based (a split, say)
MARKET_REFERENCE = "SPY"  # the S&P 500's exchange-traded fund: it trades whenever US stocks do


class HistoryRebased(Exception):
    """The source re-based its prices since the history was fetched: fetch the whole history again."""


class Feed(Protocol):
    """What the live loop asks of a source of daily bars."""

    source: str
    ticker: str

    def bars_since(self, history: pd.DataFrame) -> pd.DataFrame:
        """The history's last day again, as the source has it now, then the complete bars after it."""

    def market_traded(self, day: pd.Timestamp) -> bool:
        """Whether US stocks traded on the day."""

    def now(self) -> pd.Timestamp:
        """The feed's clock, with a time zone: it says which sessions have closed."""


class ReplayFeed:
    """Recorded daily bars served a few at a time, as if each poll came after another trading day's close."""

    source = "replay of recorded bars"

    def __init__(
        self,
        bars: pd.DataFrame,
        ticker: str,
        bars_per_poll: int = 1,
        market_days: Iterable[pd.Timestamp] | None = None,
    ):
        self.ticker = ticker
        self._bars = validate_bars(bars, ticker)
        self.bars_per_poll = bars_per_poll
        # the days US stocks traded; None: every session of the NYSE calendar
        self.market_days = None if market_days is None else pd.DatetimeIndex(market_days)
        self._clock_day = self._bars.index[0] - pd.Timedelta(days=1)  # the last day served so far

    def bars_since(self, history: pd.DataFrame) -> pd.DataFrame:
        """The history's last day again (if recorded) and the next bars after it, at most bars_per_poll."""
        check_not_rebased(self._bars, history)
        last_day = history.index[-1]
        newer = self._bars.index[self._bars.index > last_day][: self.bars_per_poll]
        if len(newer):
            self._clock_day = newer[-1]
        return self._bars.loc[
            (self._bars.index >= last_day) & (self._bars.index <= self._clock_day)
        ]

    def market_traded(self, day: pd.Timestamp) -> bool:
        """Whether US stocks traded on the day: as market_days says, or else as the NYSE calendar does."""
        traded = nyse_trading_days(day, day) if self.market_days is None else self.market_days
        return day in traded

    def now(self) -> pd.Timestamp:
        """The replay's clock: the close of the last day it served (before the first poll, the day before its first)."""
        return (self._clock_day + SESSION_CLOSE).tz_localize(NEW_YORK)


class YahooFeed:
    """Complete daily bars from Yahoo Finance (an unfinished session is left out)."""

    source = FROM_YAHOO

    def __init__(
        self, ticker: str, now: Callable[[], pd.Timestamp] = lambda: pd.Timestamp.now(tz=NEW_YORK)
    ):
        self.ticker = ticker
        self.now = now

    def bars_since(self, history: pd.DataFrame) -> pd.DataFrame:
        """The history's last day again and every complete bar after it; empty until another session closes."""
        last_day, closed = history.index[-1], last_complete_session(self.now())
        if last_day >= closed:
            return _no_bars()
        # from the last known day, so that a revised or re-based close shows in the day both downloads hold
        frame = download_prices(
            self.ticker,
            last_day.date().isoformat(),
            (closed + pd.Timedelta(days=1)).date().isoformat(),
        )
        if frame.empty:
            return _no_bars()
        bars = validate_bars(frame, self.ticker)
        check_not_rebased(bars, history)
        return bars.loc[(bars.index >= last_day) & (bars.index <= closed)]

    def market_traded(self, day: pd.Timestamp) -> bool:
        """Whether US stocks traded on the day: whether Yahoo has a bar of SPY, the S&P 500's fund, for it."""
        reference = download_prices(
            MARKET_REFERENCE,
            day.date().isoformat(),
            (day + pd.Timedelta(days=1)).date().isoformat(),
        )
        return day in reference.index


def last_complete_session(now: pd.Timestamp) -> pd.Timestamp:
    """The last NYSE session that has closed, judged in New York: today's from 4 pm there, else an earlier one."""
    if now.tzinfo is None:
        raise ValueError(
            f"{now} has no time zone: give the clock's time zone, or use pd.Timestamp.now(tz=...)"
        )
    local = now.tz_convert(NEW_YORK)
    today = local.normalize()
    closed = today if local - today >= SESSION_CLOSE else today - pd.Timedelta(days=1)
    return nyse_session_on_or_before(closed.tz_localize(None))


def check_not_rebased(bars: pd.DataFrame, history: pd.DataFrame) -> None:
    """Raise HistoryRebased when the bars hold the history's last day at another close than the history's."""
    last_day, known = history.index[-1], history["Close"].iloc[-1]
    if last_day in bars.index and abs(bars.at[last_day, "Close"] / known - 1) > REBASE_TOLERANCE:
        raise HistoryRebased(
            f"{last_day:%Y-%m-%d} closed at {known:.2f} in the history and at {bars.at[last_day, 'Close']:.2f} "
            "now: the source re-based its prices (a split or a dividend adjustment); fetch the history again"
        )


def _no_bars() -> pd.DataFrame:
    """An empty frame in the prices' schema."""
    return pd.DataFrame(columns=PRICE_COLUMNS, index=pd.DatetimeIndex([], name="Date"))


def open_feed(
    ticker: str, recorded: pd.DataFrame, *, online: bool, bars_per_poll: int = 1
) -> ReplayFeed | YahooFeed:
    """Yahoo Finance when online, otherwise a replay of the recorded bars, bars_per_poll at a time."""
    return YahooFeed(ticker) if online else ReplayFeed(recorded, ticker, bars_per_poll)
