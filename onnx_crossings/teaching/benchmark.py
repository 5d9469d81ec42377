"""Timing predictions: one pass over a whole data set, and races of contenders in interleaved rounds, with intervals."""

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binom
from tqdm import tqdm

from onnx_crossings.plumbing import batching


@dataclass(frozen=True)
class TimedRun:
    """Outputs of a batched run and the wall-clock seconds it took."""

    outputs: np.ndarray
    seconds: float

    @property
    def per_second(self) -> float:
        """Samples processed per second."""
        return len(self.outputs) / self.seconds


def run_in_batches(
    predict: Callable[[np.ndarray], np.ndarray], inputs: np.ndarray, batch_size: int = 1000
) -> TimedRun:
    """Run predict over inputs in batches, concatenate its outputs and time the whole pass."""
    start = time.perf_counter()
    outputs = batching.in_batches(predict, inputs, batch_size)
    return TimedRun(outputs=outputs, seconds=time.perf_counter() - start)


def run_onnx_in_batches(onnx_path, inputs: np.ndarray, batch_size: int = 1000) -> TimedRun:
    """Run an ONNX file in ONNX Runtime on the CPU over inputs, fed to its one input, batch by batch."""
    # imported here: TimedRun travels to processes that never run a model
    from onnx_crossings.teaching import runtimes

    return run_in_batches(runtimes.onnxruntime_predictor(onnx_path), inputs, batch_size)


CONFIDENCE = 0.95  # every speed interval in the course
NEGLIGIBLE = (
    0.05  # contenders whose whole interval lies within 5% of each other are practically level
)


def median_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """A distribution-free interval for the median of values: two of their order statistics (the sign test's).

    The k-th smallest and k-th largest of n values bracket the median with probability 1 - 2 P(B < k), B binomial
    (n, 1/2), whatever the values' distribution: timings are skewed, so no normal approximation is assumed.
    """
    ordered = np.sort(np.asarray(values, dtype=float))
    k = int(binom.ppf((1 - confidence) / 2, len(ordered), 0.5))  # P(B < k) <= (1 - confidence) / 2
    if k < 1:
        raise ValueError(
            f"{len(ordered)} values cannot bracket a median with {confidence:.0%} confidence: "
            "time at least 6 rounds"
        )
    return float(ordered[k - 1]), float(ordered[-k])


@dataclass(frozen=True)
class SpeedRatio:
    """How many times faster one contender ran than another: the median over rounds of their time ratio, with its
    interval."""

    first: str
    second: str
    times: float
    low: float
    high: float
    rounds: int
    confidence: float = CONFIDENCE

    @property
    def negligible(self) -> bool:
        """Whether the whole interval lies within NEGLIGIBLE of 1: a difference too small to act on, if any."""
        return 1 / (1 + NEGLIGIBLE) <= self.low and self.high <= 1 + NEGLIGIBLE

    @property
    def winner(self) -> str | None:
        """The faster contender where the interval leaves out 1 and the difference is not negligible; else None."""
        if self.negligible:
            return None
        if self.low > 1:
            return self.first
        if self.high < 1:
            return self.second
        return None

    @property
    def resolution(self) -> float:
        """The interval's half-width as a share of the ratio: differences much smaller than this go unseen."""
        return max(self.high / self.times, self.times / self.low) - 1

    def __str__(self) -> str:
        interval = f"{self.confidence:.0%} interval"
        ratio = (
            f"{self.first} is {self.times:.2f}× as fast, {interval} {self.low:.2f}–{self.high:.2f}×"
        )
        if self.negligible:
            return (
                f"{self.first} and {self.second} are within {NEGLIGIBLE:.0%} of each other: {ratio}"
            )
        if self.winner is None:
            return (
                f"{self.first} and {self.second} are level on this machine: {ratio} (it includes 1)"
            )
        if self.winner == self.first:
            times, low, high, loser = self.times, self.low, self.high, self.second
        else:
            times, low, high, loser = 1 / self.times, 1 / self.high, 1 / self.low, self.first
        return (
            f"{self.winner} is {times:.2f}× as fast as {loser} ({interval} {low:.2f}–{high:.2f}×)"
        )


@dataclass(frozen=True)
class Race:
    """The seconds of every timed call of each contender: one row per round, one column per call within it."""

    seconds: dict[str, np.ndarray]
    batch_size: int
    threads: int

    @property
    def rounds(self) -> int:
        """How many interleaved rounds were timed."""
        return len(next(iter(self.seconds.values())))

    def round_medians(self, name: str) -> np.ndarray:
        """Each round's median call time of one contender, in seconds."""
        return np.median(self.seconds[name], axis=1)

    def median_ms(self, name: str) -> float:
        """One contender's time per call in milliseconds: the median of its round medians."""
        return float(np.median(self.round_medians(name))) * 1e3

    def percentile_ms(self, name: str, percentile: float) -> float:
        """The given percentile of all of one contender's timed calls, in milliseconds (99: its slow tail)."""
        return float(np.percentile(self.seconds[name], percentile)) * 1e3

    def per_second(self, name: str) -> float:
        """Samples per second at one contender's median call time."""
        return self.batch_size / (self.median_ms(name) / 1e3)

    def ratio(self, first: str, second: str) -> SpeedRatio:
        """How many times faster first ran than second: their time ratio within each round, summarised over rounds.

        Both ran in every round, one after the other, so what slowed the machine in one round slowed both, and
        the ratio's spread over rounds is the uncertainty of the comparison.
        """
        ratios = self.round_medians(second) / self.round_medians(first)
        low, high = median_interval(ratios)
        return SpeedRatio(first, second, float(np.median(ratios)), low, high, self.rounds)

    def table(self) -> pd.DataFrame:
        """Each contender's median time per call with its interval, its 99th percentile and its throughput."""
        rows = {}
        for name in self.seconds:
            low, high = median_interval(self.round_medians(name))
            rows[name] = {
                "median (ms)": self.median_ms(name),
                "interval (ms)": f"{low * 1e3:.3g}–{high * 1e3:.3g}",
                "p99 (ms)": self.percentile_ms(name, 99),
                "per second": self.per_second(name),
            }
        return pd.DataFrame(rows).T


def race(
    contenders: Mapping[str, Callable[[], object]],
    *,
    batch_size: int,
    threads: int,
    rounds: int,
    calls: int,
    warmup: int = 3,
    untimed_each_turn: bool = True,
    seed: int = 0,
    clock: Callable[[], float] = time.perf_counter,
) -> Race:
    """Time contenders in interleaved rounds: each round runs each one, in a shuffled order, for calls timed calls.

    Every contender is called warmup times before the first round, and once untimed at the start of each of its
    turns (the others have just filled the caches with their own data), so no timed call pays for a first run;
    untimed_each_turn=False skips that call, for calls so long that a cache refill is lost in them.
    """
    if rounds < 1 or calls < 1:
        raise ValueError(f"time at least one round of one call, not {rounds} rounds of {calls}")
    names = list(contenders)
    for call in contenders.values():
        for _ in range(warmup):
            call()
    seconds = {name: np.empty((rounds, calls)) for name in names}
    order = np.random.default_rng(seed)
    for round_ in tqdm(range(rounds), desc="Timing", unit="round", file=sys.stdout):
        for name in order.permutation(names):
            call = contenders[name]
            if untimed_each_turn:
                call()
            for k in range(calls):
                start = clock()
                call()
                seconds[name][round_, k] = clock() - start
    return Race(seconds, batch_size, threads)
