"""New daily bars as they arrive: Yahoo Finance when online, a replay of held-out bars offline, one interface."""

from collections.abc import Callable

import pandas as pd

from onnx_crossings.data.stocks import FROM_YAHOO, PRICE_COLUMNS, download_prices, validate_prices

NEW_YORK = "America/New_York"
SESSION_CLOSE = pd.Timedelta(hours=16)  # the NYSE's regular session ends at 4 pm, New York time
REBASE_TOLERANCE = 1e-3  # a known day's close that moved more than this was re-based (a split, say)


class HistoryRebased(Exception):
    """The source re-based its prices since the history was fetched: fetch the whole history again."""


class ReplayFeed:
    """Recorded daily bars served a few at a time, as if each poll were a new trading day."""

    source = "replay of held-out bars"

    def __init__(self, bars: pd.DataFrame, ticker: str, bars_per_poll: int = 1):
        self._bars = validate_prices(bars, ticker)
        self.bars_per_poll = bars_per_poll

    def bars_after(self, history: pd.DataFrame) -> pd.DataFrame:
        """The next bars after the history's last day (at most bars_per_poll), oldest first; empty at the end."""
        check_not_rebased(self._bars, history)
        return self._bars.loc[self._bars.index > history.index[-1]].iloc[: self.bars_per_poll]


class YahooFeed:
    """Complete daily bars from Yahoo Finance newer than the history's (an unfinished session is left out)."""

    source = FROM_YAHOO

    def __init__(
        self, ticker: str, now: Callable[[], pd.Timestamp] = lambda: pd.Timestamp.now(tz=NEW_YORK)
    ):
        self.ticker = ticker
        self.now = now

    def bars_after(self, history: pd.DataFrame) -> pd.DataFrame:
        """Every complete bar after the history's last day, oldest first; empty when there is none yet."""
        last_day, closed = history.index[-1], last_complete_session(self.now())
        if last_day >= closed:
            return _no_bars()
        # from the last known day, so that a re-based history shows in the day both downloads hold
        frame = download_prices(
            self.ticker,
            last_day.date().isoformat(),
            (closed + pd.Timedelta(days=1)).date().isoformat(),
        )
        if frame.empty:
            return _no_bars()
        bars = validate_prices(frame, self.ticker)
        check_not_rebased(bars, history)
        return bars.loc[(bars.index > last_day) & (bars.index <= closed)]


def last_complete_session(now: pd.Timestamp) -> pd.Timestamp:
    """The last calendar day whose session has closed, judged in New York: today from 4 pm there, else yesterday."""
    if now.tzinfo is None:
        raise ValueError(
            f"{now} has no time zone: give the clock's time zone, or use pd.Timestamp.now(tz=...)"
        )
    local = now.tz_convert(NEW_YORK)
    today = local.normalize()
    closed = today if local - today >= SESSION_CLOSE else today - pd.Timedelta(days=1)
    return closed.tz_localize(None)


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


def open_feed(ticker: str, held_out: pd.DataFrame, *, online: bool) -> ReplayFeed | YahooFeed:
    """Yahoo Finance when online, otherwise a replay of the held-out bars: the loop cannot tell them apart."""
    return YahooFeed(ticker) if online else ReplayFeed(held_out, ticker)
