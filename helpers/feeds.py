"""New daily bars as they arrive: Yahoo Finance when online, a replay of held-out bars offline, one interface."""

import pandas as pd

from helpers.stocks import FROM_YAHOO, PRICE_COLUMNS, download_prices, validate_prices


class ReplayFeed:
    """Recorded daily bars served a few at a time, as if each poll were a new trading day."""

    source = "replay of held-out bars"

    def __init__(self, bars: pd.DataFrame, ticker: str, bars_per_poll: int = 1):
        self._bars = validate_prices(bars, ticker)
        self.bars_per_poll = bars_per_poll

    def bars_after(self, day: pd.Timestamp) -> pd.DataFrame:
        """The next bars after `day` (at most bars_per_poll), oldest first; empty once the replay is over."""
        return self._bars.loc[self._bars.index > day].iloc[: self.bars_per_poll]


class YahooFeed:
    """Complete daily bars from Yahoo Finance newer than a given day (today's unfinished bar is left out)."""

    source = FROM_YAHOO

    def __init__(self, ticker: str):
        self.ticker = ticker

    def bars_after(self, day: pd.Timestamp) -> pd.DataFrame:
        """Every complete bar after `day` up to yesterday, oldest first; empty when there is none yet."""
        start, today = day + pd.Timedelta(days=1), pd.Timestamp.today().normalize()
        if start >= today:
            return _no_bars()
        frame = download_prices(self.ticker, start.date().isoformat(), today.date().isoformat())
        if frame.empty:
            return _no_bars()
        bars = validate_prices(frame, self.ticker)
        return bars.loc[bars.index > day]


def _no_bars() -> pd.DataFrame:
    """An empty frame in the prices' schema."""
    return pd.DataFrame(columns=PRICE_COLUMNS, index=pd.DatetimeIndex([], name="Date"))


def open_feed(ticker: str, held_out: pd.DataFrame, *, online: bool) -> ReplayFeed | YahooFeed:
    """Yahoo Finance when online, otherwise a replay of the held-out bars: the loop cannot tell them apart."""
    return YahooFeed(ticker) if online else ReplayFeed(held_out, ticker)
