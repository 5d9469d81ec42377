"""Is a difference real? Two models scored on the same examples, compared with an interval and a test."""

from dataclasses import dataclass, replace

import numpy as np
from scipy.stats import binomtest, norm, t

Z_95 = 1.959964  # the standard normal's 97.5th percentile: a two-sided 95% interval
# the standard normal's 80th percentile: for a test that detects an effect 4 times in 5 (80% power)
Z_80_POWER = 0.841621
SIGNIFICANCE_LEVEL = 0.05  # the family-wise error rate the forecast comparisons hold to


@dataclass(frozen=True)
class PairedDifference:
    """The accuracy of one model minus another's on the same examples, its 95% interval and McNemar's test."""

    first: str
    second: str
    examples: int
    difference: float
    low: float
    high: float
    only_first_right: int
    only_second_right: int
    p_value: float

    @property
    def clear(self) -> bool:
        """Whether the 95% interval leaves out zero: a difference the examples can tell from chance."""
        return self.low > 0 or self.high < 0

    def __str__(self) -> str:
        return (
            f"{self.first} − {self.second}: {100 * self.difference:+.2f} points, 95% interval "
            f"{100 * self.low:+.2f} to {100 * self.high:+.2f} (McNemar p = {self.p_value:.2g})\n"
            f"  of {self.examples:,} examples, only {self.first} gets {self.only_first_right:,} right, "
            f"only {self.second} {self.only_second_right:,}"
        )


def paired_accuracy_difference(
    first_correct: np.ndarray, second_correct: np.ndarray, *, names: tuple[str, str]
) -> PairedDifference:
    """Compare two models' right and wrong answers on the same examples, which only their disagreements tell apart."""
    first, second = np.asarray(first_correct, bool), np.asarray(second_correct, bool)
    if first.shape != second.shape or first.ndim != 1:
        raise ValueError(
            f"{names[0]} has {first.shape} answers and {names[1]} {second.shape}: score both on the "
            "same examples, one right-or-wrong per example"
        )
    examples = len(first)
    only_first, only_second = int((first & ~second).sum()), int((second & ~first).sum())
    difference = (only_first - only_second) / examples
    # the variance of a difference of paired proportions (the discordant pairs carry all of it)
    variance = (only_first + only_second - examples * difference**2) / examples**2
    margin = Z_95 * np.sqrt(max(variance, 0.0))
    discordant = only_first + only_second
    p_value = binomtest(only_first, discordant, 0.5).pvalue if discordant else 1.0
    return PairedDifference(
        first=names[0],
        second=names[1],
        examples=examples,
        difference=difference,
        low=difference - margin,
        high=difference + margin,
        only_first_right=only_first,
        only_second_right=only_second,
        p_value=float(p_value),
    )


@dataclass(frozen=True)
class IndependentDifference:
    """One model's accuracy minus another's, each scored on its own examples, with its 95% interval."""

    first: str
    second: str
    first_examples: int
    second_examples: int
    difference: float
    low: float
    high: float

    @property
    def verdict(self) -> str:
        """Which model is ahead where the interval leaves out zero; that they are level within the noise otherwise."""
        if self.low > 0:
            return f"{self.first} is ahead"
        if self.high < 0:
            return f"{self.second} is ahead"
        return "the two are level within this noise"

    def __str__(self) -> str:
        return (
            f"{self.first} − {self.second}: {100 * self.difference:+.2f} points, 95% interval "
            f"{100 * self.low:+.2f} to {100 * self.high:+.2f}\n"
            f"  ({self.first_examples:,} and {self.second_examples:,} examples, scored separately): "
            f"{self.verdict}"
        )


def independent_accuracy_difference(
    first_accuracy: float,
    first_examples: int,
    second_accuracy: float,
    second_examples: int,
    *,
    names: tuple[str, str],
) -> IndependentDifference:
    """Compare two accuracies measured on different examples, whose sampling errors add up."""
    variance = (
        first_accuracy * (1 - first_accuracy) / first_examples
        + second_accuracy * (1 - second_accuracy) / second_examples
    )
    difference = first_accuracy - second_accuracy
    margin = Z_95 * np.sqrt(variance)
    return IndependentDifference(
        names[0],
        names[1],
        first_examples,
        second_examples,
        difference,
        difference - margin,
        difference + margin,
    )


@dataclass(frozen=True)
class ForecastComparison:
    """Two forecasts' daily losses on the same days: Diebold-Mariano's test, Harvey-Leybourne-Newbold corrected."""

    model: str
    benchmark: str
    period: str
    days: int
    # the model's mean loss minus the benchmark's: below 0 the model is better
    mean_loss_difference: float
    statistic: float
    p_value: float
    # after Holm's correction for the family of comparisons, else equal to p_value
    adjusted_p_value: float

    @property
    def verdict(self) -> str:
        """'beats', 'loses to' or 'is not distinguishable from', read from the adjusted p-value."""
        if self.adjusted_p_value >= SIGNIFICANCE_LEVEL:
            return "is not distinguishable from"
        return "beats" if self.mean_loss_difference < 0 else "loses to"

    def __str__(self) -> str:
        return (
            f"{self.period}: {self.model} {self.verdict} {self.benchmark} "
            f"(DM {self.statistic:+.2f}, adjusted p = {self.adjusted_p_value:.2g}, {self.days} days)"
        )


def diebold_mariano(
    loss: np.ndarray,
    benchmark_loss: np.ndarray,
    *,
    names: tuple[str, str],
    period: str,
    horizon: int = 1,
    lags: int | None = None,
) -> ForecastComparison:
    """Is one forecast's mean daily loss different from another's on the same days? (HLN's small-sample t test)

    The long-run variance has Newey-West (Bartlett) weights over `lags` lags, horizon − 1 unless given.
    """
    loss_difference = _loss_difference(loss, benchmark_loss, names)
    if horizon < 1:
        raise ValueError(f"horizon is {horizon}: give the forecasts' horizon in days, 1 or more")
    lags = horizon - 1 if lags is None else lags
    days, mean = len(loss_difference), float(loss_difference.mean())
    variance = long_run_variance(loss_difference, lags) / days
    if variance > 0:
        correction = np.sqrt((days + 1 - 2 * horizon + horizon * (horizon - 1) / days) / days)
        statistic = correction * mean / np.sqrt(variance)
        p_value = float(2 * t.sf(abs(statistic), df=days - 1))
    else:
        statistic, p_value = _without_variance(mean)
    return ForecastComparison(
        model=names[0],
        benchmark=names[1],
        period=period,
        days=days,
        mean_loss_difference=mean,
        statistic=float(statistic),
        p_value=p_value,
        adjusted_p_value=p_value,
    )


def _without_variance(mean: float) -> tuple[float, float]:
    """The statistic and p-value of a loss difference the same every day: none, or as clear as one can be."""
    return (0.0, 1.0) if mean == 0 else (float(np.copysign(np.inf, mean)), 0.0)


def _loss_difference(
    loss: np.ndarray, benchmark_loss: np.ndarray, names: tuple[str, str]
) -> np.ndarray:
    """Each day's loss minus the benchmark's, after checking that both are one finite loss per day."""
    loss, benchmark_loss = np.asarray(loss, float), np.asarray(benchmark_loss, float)
    if loss.shape != benchmark_loss.shape or loss.ndim != 1:
        raise ValueError(
            f"{names[0]} has {loss.shape} daily losses and {names[1]} {benchmark_loss.shape}: compare one loss "
            "per day, on the same days"
        )
    if not (np.isfinite(loss).all() and np.isfinite(benchmark_loss).all()):
        raise ValueError(
            f"{names[0]}'s or {names[1]}'s losses include NaN or infinite values: pass only the days that both "
            "forecast"
        )
    return loss - benchmark_loss


def long_run_variance(values: np.ndarray, lags: int) -> float:
    """Newey-West's variance of a serially correlated series: autocovariances up to `lags`, Bartlett-weighted.

    The weights 1 − k/(lags + 1) keep it from going negative; `lags` = 0 gives the plain (1/n) variance.
    """
    values = np.asarray(values, float)
    if not 0 <= lags < len(values):
        raise ValueError(
            f"{lags} lags for {len(values)} values: choose between 0 and {len(values) - 1} lags"
        )
    centred = values - values.mean()
    variance = np.dot(centred, centred) / len(values)
    for lag in range(1, lags + 1):
        autocovariance = np.dot(centred[lag:], centred[:-lag]) / len(values)
        variance += 2 * (1 - lag / (lags + 1)) * autocovariance
    return float(variance)


def newey_west_lags(days: int) -> int:
    """Newey and West's (1994) rule of thumb for the lags of a daily series' long-run variance: ⌊4 (days/100)^(2/9)⌋."""
    return int(np.floor(4 * (days / 100) ** (2 / 9)))


@dataclass(frozen=True)
class SkillEstimate:
    """A forecast's out-of-sample R² against a benchmark, with its interval, test and smallest detectable size."""

    model: str
    benchmark: str
    period: str
    days: int
    lags: int  # of the Newey-West standard error
    r2: float  # 1 − the model's summed loss over the benchmark's: above 0 the model is better
    low: float  # the R²'s 95% interval
    high: float
    # the mean loss difference over its standard error: below 0 the model is better
    statistic: float
    p_value: float  # two-sided, normal reference
    # the smallest |R²| this many days detect 80% of the time in a two-sided test at the 5% level
    minimum_detectable_r2: float

    @property
    def verdict(self) -> str:
        """'beats', 'loses to' or 'is not distinguishable from', at the 5% level."""
        if self.p_value >= SIGNIFICANCE_LEVEL:
            return "is not distinguishable from"
        return "beats" if self.r2 > 0 else "loses to"

    def __str__(self) -> str:
        return (
            f"{self.period}: {self.model} {self.verdict} {self.benchmark}: out-of-sample R² {self.r2:+.2%}, "
            f"95% interval {self.low:+.2%} to {self.high:+.2%} (p = {self.p_value:.2g}, {self.days} days, "
            f"Newey-West standard error over {self.lags} lags)\n"
            f"  at 80% power this design detects an R² of ±{self.minimum_detectable_r2:.2%} or larger; "
            "smaller skill could not have been detected reliably"
        )


def out_of_sample_skill(
    loss: np.ndarray,
    benchmark_loss: np.ndarray,
    *,
    names: tuple[str, str],
    period: str,
    lags: int | None = None,
) -> SkillEstimate:
    """The out-of-sample R² of one forecast's daily losses against a benchmark's, with a Newey-West (HAC) interval.

    `lags` defaults to Newey-West's rule of thumb for the number of days (6 for 752 days).
    """
    loss_difference = _loss_difference(loss, benchmark_loss, names)
    benchmark_mean = float(np.mean(benchmark_loss))
    if benchmark_mean <= 0:
        raise ValueError(
            f"{names[1]}'s mean loss is {benchmark_mean}: an R² needs a benchmark whose losses are positive on "
            "average; pass squared errors, not signed errors"
        )
    days = len(loss_difference)
    lags = newey_west_lags(days) if lags is None else lags
    standard_error = np.sqrt(long_run_variance(loss_difference, lags) / days)
    mean = float(loss_difference.mean())
    r2, r2_error = -mean / benchmark_mean, standard_error / benchmark_mean
    if standard_error > 0:
        statistic = mean / standard_error
        p_value = float(2 * norm.sf(abs(statistic)))
    else:
        statistic, p_value = _without_variance(mean)
    return SkillEstimate(
        model=names[0],
        benchmark=names[1],
        period=period,
        days=days,
        lags=lags,
        r2=r2,
        low=r2 - Z_95 * r2_error,
        high=r2 + Z_95 * r2_error,
        statistic=float(statistic),
        p_value=p_value,
        minimum_detectable_r2=float((Z_95 + Z_80_POWER) * r2_error),
    )


def clopper_pearson(successes: int, trials: int) -> tuple[float, float]:
    """The exact (Clopper-Pearson) 95% interval of a proportion: never narrower than it should be."""
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(
            f"{successes} successes in {trials} trials: give 1 or more trials and 0 to {trials} successes"
        )
    interval = binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="exact")
    return float(interval.low), float(interval.high)


def holm_adjusted(comparisons: list[ForecastComparison]) -> list[ForecastComparison]:
    """The comparisons with Holm's step-down adjusted p-values: the family-wise error rate stays at the level."""
    order = np.argsort([comparison.p_value for comparison in comparisons], kind="stable")
    adjusted, running_max = [0.0] * len(comparisons), 0.0
    for rank, index in enumerate(order):
        running_max = max(running_max, (len(comparisons) - rank) * comparisons[index].p_value)
        adjusted[index] = min(running_max, 1.0)
    return [
        replace(comparison, adjusted_p_value=p_value)
        for comparison, p_value in zip(comparisons, adjusted, strict=True)
    ]
