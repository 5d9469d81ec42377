"""Daily prices: the pinned snapshot, the Yahoo Finance path (with a stand-in download), the cache and the checks."""

import pandas as pd
import pytest

from onnx_crossings.data import stocks
from onnx_crossings.data.download import FROM_CACHE, DatasetError


def bars(days: int = 6, start: str = "2024-01-02") -> pd.DataFrame:
    """A small, valid table of bars on the NYSE's trading days, in yfinance's schema."""
    dates = stocks.nyse_trading_days(start, pd.Timestamp(start) + pd.Timedelta(days=3 * days))[
        :days
    ]
    dates.name = "Date"
    close = pd.Series(range(100, 100 + days), index=dates, dtype=float)
    return pd.DataFrame(
        {
            "Open": close - 0.5,
            "High": close + 1,
            "Low": close - 1,
            "Close": close,
            "Adj Close": close * 0.98,
            "Volume": 1_000,
        }
    )


@pytest.fixture
def yahoo(monkeypatch, tmp_path):
    """Send downloads to a stand-in and the cache to a temporary folder; returns the list of calls made."""
    calls = []
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))

    def download(ticker, start, end):
        calls.append(ticker)
        return bars() if ticker == "AAPL" else pd.DataFrame()

    monkeypatch.setattr(stocks, "download_prices", download)
    return calls


def test_snapshot_is_aapl_daily_2019_to_2024_in_yfinance_schema():
    history = stocks.load_prices()
    assert history.source == stocks.FROM_SNAPSHOT and history.ticker == "AAPL"
    prices = history.prices
    assert list(prices.columns) == stocks.PRICE_COLUMNS and prices.index.name == "Date"
    assert len(prices) == 1_509
    assert (prices.index[0].date().isoformat(), prices.index[-1].date().isoformat()) == (
        "2019-01-02",
        "2024-12-30",
    )
    assert prices.loc["2019-01-02", "Close"] == 39.48


def test_snapshot_holds_aapl_only():
    with pytest.raises(DatasetError, match="AAPL only.*online=True"):
        stocks.load_prices("MSFT")


def test_corrupt_snapshot_says_how_to_reinstall(monkeypatch):
    monkeypatch.setattr(stocks, "SNAPSHOT_SHA256", "0" * 64)
    with pytest.raises(
        DatasetError, match=r"corrupt.*pip install --force-reinstall hvsampledata==0\.1\.5"
    ):
        stocks.load_prices()


def test_online_download_is_validated_cached_and_reused(yahoo, tmp_path):
    first = stocks.load_prices("aapl", online=True, start="2024-01-01", end="2024-02-01")
    assert first.source == stocks.FROM_YAHOO and first.ticker == "AAPL"
    assert [path.name for path in (tmp_path / "stocks").iterdir()] == [
        "AAPL_2024-01-01_2024-02-01.csv"
    ]
    second = stocks.load_prices("AAPL", online=True, start="2024-01-01", end="2024-02-01")
    assert second.source == FROM_CACHE and yahoo == ["AAPL"]
    pd.testing.assert_frame_equal(second.prices, first.prices, check_freq=False)


def test_unknown_ticker_is_named_and_nothing_is_cached(yahoo, tmp_path):
    with pytest.raises(DatasetError, match="no prices for 'NOSUCHTICKER'.*Check the symbol"):
        stocks.load_prices("NOSUCHTICKER", online=True)
    assert not (tmp_path / "stocks").exists() or not any((tmp_path / "stocks").iterdir())


def test_damaged_cache_is_named_for_deletion(yahoo, tmp_path):
    cached = tmp_path / "stocks" / "AAPL_2019-01-01_2025-01-01.csv"
    cached.parent.mkdir()
    cached.write_text("Date,Open\n2024-01-02,1\n")
    with pytest.raises(DatasetError, match="unusable.*delete the file"):
        stocks.load_prices("AAPL", online=True)


def test_network_failure_points_to_the_snapshot(monkeypatch):
    import yfinance

    def offline(*args, **kwargs):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(yfinance, "download", offline)
    with pytest.raises(
        DatasetError, match="could not download AAPL.*ConnectionError.*offline snapshot"
    ):
        stocks.download_prices("AAPL", "2024-01-01", "2024-02-01")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.iloc[0:0], "the table of bars is empty"),
        (lambda f: f.drop(columns=["Adj Close"]), r"lack columns \['Adj Close'\]"),
        (lambda f: f.reset_index(drop=True), "not indexed by date"),
        (lambda f: pd.concat([f, f.iloc[[2]]]).sort_index(), "repeat dates"),
        (lambda f: f.iloc[::-1], "not in date order"),
        (
            lambda f: f.assign(Close=f["Close"].where(f.index != f.index[3])),
            "blanks, first on 2024-01-05",
        ),
        (lambda f: f.assign(Low=0.0), "zero or negative"),
        (lambda f: f.assign(High=f["Low"] - 1), "High below or a Low above"),
        (
            lambda f: f.drop(index=f.index[1:5]),
            r"lack 4 NYSE trading day\(s\) \(2024-01-03, 2024-01-04, 2024-01-05, \.\.\.\): "
            r"a return across a missing day.*Download again later",
        ),
    ],
    ids=[
        "empty",
        "missing column",
        "no dates",
        "duplicates",
        "order",
        "blank",
        "non-positive",
        "high-low",
        "missing trading day",
    ],
)
def test_bad_prices_get_a_clear_error(change, message):
    with pytest.raises(DatasetError, match=message):
        stocks.validate_prices(change(bars()), "AAPL")


def test_an_empty_table_not_from_yahoo_is_not_blamed_on_yahoo():
    with pytest.raises(DatasetError) as refused:
        stocks.validate_prices(bars().iloc[0:0], "AAPL")
    assert "Yahoo" not in str(refused.value)


def test_valid_prices_come_back_in_schema_order_and_types():
    frame = bars()[["Volume", "Close", "Adj Close", "Low", "High", "Open"]]
    checked = stocks.validate_prices(frame.assign(Volume=frame["Volume"].astype(float)), "AAPL")
    assert list(checked.columns) == stocks.PRICE_COLUMNS
    assert checked["Volume"].dtype == "int64" and checked["Close"].dtype == "float64"


def test_refresh_downloads_again_and_replaces_the_cache(yahoo, tmp_path):
    stocks.load_prices("AAPL", online=True, start="2024-01-01", end="2024-02-01")
    again = stocks.load_prices(
        "AAPL", online=True, start="2024-01-01", end="2024-02-01", refresh=True
    )
    assert again.source == stocks.FROM_YAHOO and yahoo == ["AAPL", "AAPL"]
    assert len(list((tmp_path / "stocks").iterdir())) == 1


def test_the_nyse_calendar_knows_its_holidays_and_the_snapshot_lacks_only_new_years_eve_2024():
    days = stocks.nyse_trading_days("2019-01-01", "2024-12-31")
    assert [int((days.year == year).sum()) for year in range(2019, 2025)] == [
        252,
        253,
        252,
        251,
        250,
        252,
    ]
    closed = ["2022-06-20", "2021-12-24", "2020-07-03", "2023-01-02", "2024-03-29", "2018-12-05"]
    assert not any(
        pd.Timestamp(day) in stocks.nyse_trading_days("2018-01-01", "2024-12-31") for day in closed
    )
    assert pd.Timestamp("2021-12-31") in days, (
        "a Saturday New Year's Day is not observed on the Friday"
    )
    snapshot = stocks.load_prices().prices.index
    assert (
        list(days.difference(snapshot)) == [pd.Timestamp("2024-12-31")]
        and snapshot.difference(days).empty
    )


@pytest.mark.parametrize("start", ["2024-03-25", "2025-01-06"], ids=["Good Friday", "a funeral"])
def test_a_holiday_or_a_known_closure_is_no_missing_day(start):
    prices = bars(8, start)
    assert len(pd.bdate_range(prices.index[0], prices.index[-1])) == 9, (
        "one weekday without a session"
    )
    stocks.validate_prices(prices, "AAPL")


@pytest.mark.parametrize(
    ("ticker", "follows"),
    [
        ("AAPL", True),
        ("BRK-B", True),
        ("SPY", True),
        ("SAP.DE", False),
        ("7203.T", False),
        ("^N225", False),
        ("BTC-USD", False),
        ("EURUSD=X", False),
    ],
)
def test_only_us_symbols_are_held_to_the_nyse_calendar(ticker, follows):
    assert stocks.follows_nyse_calendar(ticker) is follows


def test_other_markets_and_years_before_the_calendar_keep_the_gap_rule():
    frankfurt = bars(8, "2024-03-25").drop(pd.Timestamp("2024-03-28"))  # a session New York had
    stocks.validate_prices(frankfurt, "SAP.DE")
    three_weeks = bars(12, "2024-03-18")
    with pytest.raises(
        DatasetError, match=r"1 gap\(s\) longer than 5 days, the first from 2024-03-22"
    ):
        stocks.validate_prices(three_weeks.drop(three_weeks.index[5:8]), "SAP.DE")
    before_2012 = bars(4, "2011-03-01")
    stocks.validate_prices(before_2012.drop(before_2012.index[1]), "AAPL")
