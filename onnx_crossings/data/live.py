"""The live forecaster, one run at a time: new bars checked against the NYSE calendar, forecasts kept and scored."""

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from onnx_crossings.data.download import DatasetError
from onnx_crossings.data.feeds import REBASE_TOLERANCE, Feed, last_complete_session
from onnx_crossings.data.stocks import (
    follows_nyse_calendar,
    missing_nyse_sessions,
    next_nyse_session,
    nyse_trading_days,
)
from onnx_crossings.plumbing.files import atomic_write, sha256_of

# one row per forecast: the model, the day of the close it starts from (made), the session it forecasts (day),
# that starting close (today), the forecast and its interval, the close that followed and whether it is final
LOG_TYPES = {
    "model": "str",
    "made": "datetime64[ns]",
    "day": "datetime64[ns]",
    "today": "float64",
    "forecast": "float64",
    "lower": "float64",
    "upper": "float64",
    "close": "float64",
    "final": "bool",
}
LOG_COLUMNS = list(LOG_TYPES)
DOLLAR_COLUMNS = ["today", "forecast", "lower", "upper", "close"]
WATCH_COLUMNS = ["today", "forecast", "lower", "upper", "close", "final"]
FORECAST_KEYS = ["forecast", "lower", "upper"]  # what forecast_next_close must return, in dollars


class MissingSession(DatasetError):
    """The source lacks a session the market traded: a return across it would join two days' moves."""


class LiveWarning(UserWarning):
    """Something the live loop carried on through, but whoever watches it should know."""


class UnscheduledClosure(LiveWarning):
    """The NYSE calendar expected a session on a day the market did not trade."""


class StaleBars(LiveWarning):
    """The newest bar is older than the exchange's last closed session."""


class ForecastLog:
    """Forecasts of the next close, one row per model and starting day, kept in a CSV file between runs."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.table = read_log(self.path) if self.path.exists() else empty_log()

    def add(self, rows: list[dict]) -> None:
        """Append forecasts (rows of LOG_COLUMNS), in order of model and starting day."""
        if rows:
            added = pd.DataFrame(rows, columns=LOG_COLUMNS).astype(LOG_TYPES)
            table = pd.concat([self.table, added], ignore_index=True)
            self.table = table.sort_values(["model", "made"], ignore_index=True)

    def made_on(self, model: str) -> pd.DatetimeIndex:
        """The days the model's logged forecasts start from."""
        return pd.DatetimeIndex(self.table.loc[self.table["model"] == model, "made"])

    def follow_rebasing(self, model: str, closes: pd.Series) -> int:
        """Rescale the model's rows whose starting close the history now shows re-based (a split); how many were."""
        rows = self.table.index[
            (self.table["model"] == model) & self.table["made"].isin(closes.index)
        ]
        factor = (
            closes.reindex(self.table.loc[rows, "made"]).to_numpy()
            / self.table.loc[rows, "today"].to_numpy()
        )
        moved = np.abs(factor - 1) > REBASE_TOLERANCE
        self.table.loc[rows[moved], DOLLAR_COLUMNS] *= factor[moved, None]
        return int(moved.sum())

    def score(
        self, model: str, closes: pd.Series, session: pd.Timestamp
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Give the model's forecasts without a final close the close after their starting day; the newly scored
        rows and the re-scored ones (a revised close). A close on the exchange's last closed session is provisional.
        """
        unsettled = self.table.index[(self.table["model"] == model) & ~self.table["final"]]
        position = closes.index.searchsorted(self.table.loc[unsettled, "made"], side="right")
        arrived = position < len(closes)
        rows, position = unsettled[arrived], position[arrived]
        before = self.table.loc[rows, "close"].to_numpy()
        after = closes.to_numpy()[position]
        self.table.loc[rows, "day"] = closes.index[position]
        self.table.loc[rows, "close"] = after
        self.table.loc[rows, "final"] = closes.index[position] < session
        scored, rescored = rows[np.isnan(before)], rows[~np.isnan(before) & (before != after)]
        return by_day(self.table.loc[scored]), by_day(self.table.loc[rescored])

    def watch(self, model: str) -> pd.DataFrame:
        """The model's scored forecasts by the day they forecast: today, forecast, lower, upper, close, final."""
        return by_day(self.table[(self.table["model"] == model) & self.table["close"].notna()])

    def save(self) -> None:
        """Write the log whole or not at all: an interrupted save leaves the previous file."""
        with atomic_write(self.path) as out:
            out.write(self.table.to_csv(index=False).encode())


@dataclass(frozen=True)
class LiveUpdate:
    """What one run of the live loop did: the bars it took, the forecasts it scored and the one it made."""

    model: str
    source: str
    session: pd.Timestamp  # the exchange's last closed session at the run
    history: pd.DataFrame  # the history with the new bars: start the next run from it
    new_bars: pd.DataFrame
    scored: pd.DataFrame  # forecasts that got their close in this run, by the day they forecast
    rescored: pd.DataFrame  # forecasts whose close the source revised since it scored them
    rescaled: int  # logged forecasts rescaled to the prices of a re-based history (after a split)
    next_forecast: pd.Series  # the forecast for the session after the newest bar
    warnings: tuple[LiveWarning, ...]  # also issued with warnings.warn

    def __str__(self) -> str:
        newest, forecast = self.history.index[-1], self.next_forecast
        if self.new_bars.empty:
            bars = f"no new bars; the newest is from {newest:%Y-%m-%d}"
        else:
            bars = f"{len(self.new_bars)} new bar(s), {self.new_bars.index[0]:%Y-%m-%d} to {newest:%Y-%m-%d}"
        provisional = int((~self.scored["final"]).sum())
        lines = [
            f"model {self.model}; feed: {self.source}; the NYSE's last closed session: {self.session:%Y-%m-%d}",
            f"{bars}; {len(self.scored)} forecast(s) scored ({provisional} against a provisional close), "
            f"{len(self.rescored)} re-scored after a revised close",
            f"next close, for {forecast['day']:%Y-%m-%d} from {forecast['made']:%Y-%m-%d}'s "
            f"${forecast['today']:.2f}: ${forecast['forecast']:.2f} "
            f"(interval ${forecast['lower']:.2f} to ${forecast['upper']:.2f})",
        ]
        if self.rescaled:
            lines.append(
                f"{self.rescaled} logged forecast(s) rescaled: the source re-based its prices"
            )
        return "\n".join(lines)


def run_once(
    history: pd.DataFrame,
    feed: Feed,
    forecast_next_close: Callable[[pd.DataFrame], Mapping[str, float]],
    log: ForecastLog,
    *,
    model_name: str,
) -> LiveUpdate:
    """Take the feed's new bars, forecast the session after each, score the log's forecasts, save the log.

    Each forecast sees the history up to its starting day only, as a batch forecast would; a forecast already in
    the log is kept, not made again. Raises MissingSession (and saves nothing) when the source skipped a session.
    """
    if history.empty:
        raise ValueError("the history is empty: start from the bars stocks.load_prices gives")
    if not follows_nyse_calendar(feed.ticker):
        raise ValueError(
            f"{feed.ticker!r} does not trade on the NYSE's days, the only calendar the live loop knows: "
            "use the symbol of a US stock or fund (for example 'AAPL')"
        )
    fetched = feed.bars_since(history)
    history = with_revised_last_bar(history, fetched)
    new_bars = fetched.loc[fetched.index > history.index[-1]]
    closures = check_sessions(history.index[-1], new_bars.index, feed)
    session = last_complete_session(feed.now())
    rescaled = log.follow_rebasing(model_name, history["Close"])
    logged = log.made_on(model_name)
    forecasts = []
    if (
        history.index[-1] not in logged
    ):  # the first run, or a history fetched afresh since the last one
        forecasts.append(forecast_row(history, forecast_next_close, model_name))
    for day in new_bars.index:  # one at a time, so each forecast sees the days up to its own only
        history = pd.concat([history, new_bars.loc[[day]]])
        if day not in logged:
            forecasts.append(forecast_row(history, forecast_next_close, model_name))
    log.add(forecasts)
    scored, rescored = log.score(model_name, history["Close"], session)
    log.save()
    alarms = [*closures, *stale_bars(history.index[-1], session)]
    for alarm in alarms:
        warnings.warn(alarm, stacklevel=2)
    newest = log.table[
        (log.table["model"] == model_name) & (log.table["made"] == history.index[-1])
    ]
    return LiveUpdate(
        model=model_name,
        source=feed.source,
        session=session,
        history=history,
        new_bars=new_bars,
        scored=scored,
        rescored=rescored,
        rescaled=rescaled,
        next_forecast=newest.iloc[0],
        warnings=tuple(alarms),
    )


def forecast_row(
    history: pd.DataFrame,
    forecast_next_close: Callable[[pd.DataFrame], Mapping[str, float]],
    model_name: str,
) -> dict:
    """A log row for the forecast of the session after the history's last day, not yet scored."""
    made = history.index[-1]
    forecast = forecast_next_close(history)
    missing = [key for key in FORECAST_KEYS if key not in forecast]
    if missing:
        raise ValueError(
            f"forecast_next_close returned {sorted(forecast)}, without {missing}: "
            f"return a dict of {FORECAST_KEYS} in dollars"
        )
    return {
        "model": model_name,
        "made": made,
        "day": next_nyse_session(made),
        "today": float(history["Close"].iloc[-1]),
        **{key: float(forecast[key]) for key in FORECAST_KEYS},
        "close": np.nan,
        "final": False,
    }


def with_revised_last_bar(history: pd.DataFrame, fetched: pd.DataFrame) -> pd.DataFrame:
    """The history with its last bar replaced by the source's, when the source revised that day's close."""
    last_day = history.index[-1]
    if last_day not in fetched.index or fetched.at[last_day, "Close"] == history["Close"].iloc[-1]:
        return history
    return pd.concat([history.iloc[:-1], fetched.loc[[last_day]]])


def check_sessions(
    last_day: pd.Timestamp, new_days: pd.DatetimeIndex, feed: Feed
) -> list[UnscheduledClosure]:
    """Raise MissingSession for a NYSE session between the bars on which the market traded; one it did not is a
    closure the calendar does not know, returned as a warning. Holidays the calendar knows pass unremarked.
    """
    if new_days.empty:
        return []
    skipped = missing_nyse_sessions(new_days.insert(0, last_day))
    traded = [day for day in skipped if feed.market_traded(day)]
    if traded:
        raise MissingSession(
            f"{feed.source} has no {feed.ticker} bar for {', '.join(f'{day:%Y-%m-%d}' for day in traded)}, "
            "though the market traded then: a return across it would join two days' moves into one. "
            "Nothing was logged; run again later, when the source has the day"
        )
    return [
        UnscheduledClosure(
            f"the NYSE calendar expected a session on {day:%Y-%m-%d}, but the market did not trade: an "
            "unscheduled closure, so the loop carries on. Add the day to stocks.NYSE_UNSCHEDULED_CLOSURES, "
            "or reloading the history will refuse the gap"
        )
        for day in skipped
    ]


def stale_bars(newest: pd.Timestamp, session: pd.Timestamp) -> list[StaleBars]:
    """A warning when the exchange has closed a session since the newest bar, else none."""
    since = nyse_trading_days(newest + pd.Timedelta(days=1), session)
    if since.empty:
        return []
    return [
        StaleBars(
            f"the newest bar is from {newest:%Y-%m-%d}; the exchange has closed {len(since)} session(s) since, "
            f"the last on {session:%Y-%m-%d}: the source is late or the feed is stuck (or the exchange closed "
            "unscheduled). Run again later; if the bars stay behind, check the feed"
        )
    ]


def by_day(rows: pd.DataFrame) -> pd.DataFrame:
    """Log rows indexed by the day they forecast, with the columns the watch needs."""
    return rows.set_index("day").sort_index()[WATCH_COLUMNS]


def empty_log() -> pd.DataFrame:
    """A forecast log without rows."""
    return pd.DataFrame(columns=LOG_COLUMNS).astype(LOG_TYPES)


def read_log(path: Path) -> pd.DataFrame:
    """A saved forecast log, checked; a damaged one is named so that it can be moved aside."""
    try:
        table = pd.read_csv(path, parse_dates=["made", "day"])
        if list(table.columns) != LOG_COLUMNS:
            raise ValueError(f"its columns are {list(table.columns)}, not {LOG_COLUMNS}")
        return table.astype(LOG_TYPES)
    except (ValueError, TypeError) as error:  # pandas' parser errors are ValueErrors
        raise DatasetError(
            f"the forecast log {path} is unusable ({error}): move it aside, or delete it to start a new log"
        ) from error


def model_id(path: str | Path) -> str:
    """Which model makes the forecasts: its file's name and the first 12 hex digits of its sha256."""
    return f"{Path(path).name} (sha256 {sha256_of(Path(path))[:12]})"
