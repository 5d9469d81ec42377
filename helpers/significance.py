"""Is a difference real? Two models scored on the same examples, compared with an interval and a test."""

from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest

Z_95 = 1.959964  # the standard normal's 97.5th percentile: a two-sided 95% interval


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
