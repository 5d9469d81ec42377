"""Parity checks between two frameworks' outputs for the same inputs, on the quantity each model outputs."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from onnx_crossings.teaching.significance import (
    PairedDifference,
    clopper_pearson,
    paired_accuracy_difference,
)

# The course's target for labels: the two frameworks pick the same label this often.
MIN_AGREEMENT = 0.9999


@dataclass(frozen=True)
class Parity:
    """How closely a candidate framework's outputs match the reference framework's, output by output."""

    reference: str
    candidate: str
    quantity: str
    samples: int
    label_agreement: float
    disagreements: int
    differences: np.ndarray = field(repr=False, compare=False)
    magnitudes: np.ndarray = field(repr=False, compare=False)

    @property
    def max_abs_diff(self) -> float:
        """The largest absolute difference between two outputs."""
        return float(self.differences.max())

    def share_of_tolerance(self, *, rtol: float, atol: float) -> float:
        """The largest difference as a share of what the tolerance allows there (above 1: outside it)."""
        return float((self.differences / (atol + rtol * self.magnitudes)).max())

    def __str__(self) -> str:
        return (
            f"{self.candidate} vs {self.reference} on {self.samples:,} samples, {self.quantity}:\n"
            f"  max |difference| = {self.max_abs_diff:.2e} "
            f"({self.reference}'s {self.quantity} reach {self.magnitudes.max():.3g} in size)\n"
            f"  labels agree on {self.label_agreement:.2%} ({self.disagreements} disagreements)"
        )


def labels_of(outputs: np.ndarray) -> np.ndarray:
    """Predicted labels: argmax over classes, or for a single logit column, 1 where it is at least 0."""
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        return outputs.argmax(axis=1)
    return (outputs.reshape(len(outputs)) >= 0).astype(np.int64)


def compare(
    reference: np.ndarray,
    candidate: np.ndarray,
    *,
    names: tuple[str, str],
    quantity: str,
    labels: Callable[[np.ndarray], np.ndarray] = labels_of,
) -> Parity:
    """Every output's difference and the label agreement (labels_of, or e.g. np.sign for a forecast's direction)."""
    if reference.shape != candidate.shape:
        raise ValueError(
            f"{names[1]} outputs have shape {candidate.shape} but {names[0]} outputs have "
            f"{reference.shape}: run both on the same inputs, in the same order"
        )
    agree = labels(reference) == labels(candidate)
    exact = reference.astype(np.float64).reshape(-1)
    return Parity(
        reference=names[0],
        candidate=names[1],
        quantity=quantity,
        samples=len(reference),
        label_agreement=float(agree.mean()),
        disagreements=int((~agree).sum()),
        differences=np.abs(exact - candidate.astype(np.float64).reshape(-1)),
        magnitudes=np.abs(exact),
    )


def _check_labels(parity: Parity, min_agreement: float) -> list[str]:
    """The label agreement's shortfall, if any, as a problem to report."""
    if parity.label_agreement >= min_agreement:
        return []
    return [f"label agreement {parity.label_agreement:.4%} is below {min_agreement:.2%}"]


def _fail_on(problems: list[str], parity: Parity) -> None:
    """Raise AssertionError listing every problem found, if there is one."""
    if problems:
        raise AssertionError(
            f"Parity broken for {parity.candidate} vs {parity.reference}: " + "; ".join(problems)
        )


def _tolerance_problems(
    parity: Parity, rtol: float, atol: float, min_agreement: float
) -> list[str]:
    """Every way the outputs break atol + rtol × |reference| or the label agreement, as problems to report."""
    problems = _check_labels(parity, min_agreement)
    if not parity.share_of_tolerance(rtol=rtol, atol=atol) <= 1:  # NaN fails too
        outside = int((parity.differences > atol + rtol * parity.magnitudes).sum())
        problems.insert(
            0,
            f"{outside:,} of {parity.differences.size:,} {parity.quantity} differ by more than "
            f"atol {atol:.0e} + rtol {rtol:.0e} × |{parity.reference}'s| "
            f"(max |difference| {parity.max_abs_diff:.2e})",
        )
    return problems


def assert_parity(
    parity: Parity, *, rtol: float, atol: float, min_agreement: float = MIN_AGREEMENT
) -> None:
    """Say that every output is within atol + rtol × |reference| and labels agree, or raise saying what broke."""
    _fail_on(_tolerance_problems(parity, rtol, atol, min_agreement), parity)
    # only what was asserted is printed, so the line is the same wherever the check passes
    print(
        f"✓ {parity.candidate} matches {parity.reference} on all {parity.samples:,} samples:\n"
        f"  {parity.quantity} within atol {atol:.0e} + rtol {rtol:.0e} × |{parity.reference}'s|, "
        f"labels agreeing on at least {min_agreement:.2%}"
    )


def assert_parity_table(
    parities: Sequence[Parity], *, rtol: float, atol: float, min_agreement: float = MIN_AGREEMENT
) -> pd.DataFrame:
    """assert_parity for several crossings at once, reported as one table (one row each), or raise naming each break."""
    problems = [
        f"{parity.candidate} vs {parity.reference}: {problem}"
        for parity in parities
        for problem in _tolerance_problems(parity, rtol, atol, min_agreement)
    ]
    if problems:
        raise AssertionError("Parity broken: " + "; ".join(problems))
    print(
        f"✓ all {len(parities)} within atol {atol:.0e} + rtol {rtol:.0e} × |reference|, "
        f"labels agreeing on at least {min_agreement:.2%}"
    )
    return pd.DataFrame(
        {
            "reference": [parity.reference for parity in parities],
            "samples": [parity.samples for parity in parities],
            "max |difference|": [f"{parity.max_abs_diff:.1e}" for parity in parities],
            "share of tolerance": [
                f"{parity.share_of_tolerance(rtol=rtol, atol=atol):.0%}" for parity in parities
            ],
            "labels agreeing": [f"{parity.label_agreement:.2%}" for parity in parities],
        },
        index=pd.Index([parity.candidate for parity in parities], name="crossing"),
    )


# The course's one rule for a lower-precision model (int8, float16) against its float32 original, judged on 95%
# intervals: it keeps the original's label on at least 99.5% of inputs and loses at most half a point of accuracy.
MIN_LOWER_PRECISION_AGREEMENT = 0.995
MAX_ACCURACY_DROP = 0.005


def _judged(low: float, high: float, threshold: float) -> str:
    """'meets' where a 95% interval lies at or above the threshold, 'misses' where below it, else 'undecided'."""
    if low >= threshold:
        return "meets"
    if high < threshold:
        return "misses"
    return "undecided"


@dataclass(frozen=True)
class LowerPrecisionVerdict:
    """A lower-precision model against its float original under the course's rule: labels kept, accuracy lost."""

    candidate: str
    reference: str
    samples: int
    kept: int
    kept_low: float
    kept_high: float
    accuracy_change: PairedDifference

    @property
    def agreement(self) -> str:
        """Whether the share of labels kept meets the rule, misses it, or is undecided on this many samples."""
        return _judged(self.kept_low, self.kept_high, MIN_LOWER_PRECISION_AGREEMENT)

    @property
    def accuracy(self) -> str:
        """Whether the accuracy change meets the rule, misses it, or is undecided on this many samples."""
        change = self.accuracy_change
        return _judged(change.low, change.high, -MAX_ACCURACY_DROP)

    @property
    def verdict(self) -> str:
        """'misses' if either part misses, 'meets' if both meet, else 'undecided' (too few samples to tell)."""
        parts = {self.agreement, self.accuracy}
        return "misses" if "misses" in parts else "meets" if parts == {"meets"} else "undecided"

    def __str__(self) -> str:
        change = self.accuracy_change
        outcome = {
            "meets": "meets the rule",
            "misses": "misses the rule",
            "undecided": f"undecided: {self.samples:,} samples are too few to tell",
        }[self.verdict]
        return (
            f"{self.candidate} against {self.reference} on {self.samples:,} samples, 95% intervals:\n"
            f"  labels kept on {self.kept / self.samples:.2%} ({self.kept_low:.2%} to {self.kept_high:.2%}); "
            f"the rule asks for at least {MIN_LOWER_PRECISION_AGREEMENT:.1%}: {self.agreement}\n"
            f"  accuracy {100 * change.difference:+.2f} points ({100 * change.low:+.2f} to "
            f"{100 * change.high:+.2f}); the rule allows a drop of at most {100 * MAX_ACCURACY_DROP:.1f}: "
            f"{self.accuracy}\n"
            f"  {self.candidate} {outcome}"
        )


def judge_lower_precision(
    reference: np.ndarray, candidate: np.ndarray, true_labels: np.ndarray, *, names: tuple[str, str]
) -> LowerPrecisionVerdict:
    """Judge a lower-precision model's outputs against its float original's, on the same labelled inputs."""
    reference_labels, candidate_labels = labels_of(reference), labels_of(candidate)
    if reference_labels.shape != candidate_labels.shape or len(reference_labels) != len(
        true_labels
    ):
        raise ValueError(
            f"{names[0]} labelled {len(reference_labels):,} inputs, {names[1]} {len(candidate_labels):,} and "
            f"there are {len(true_labels):,} true labels: run both models on the same labelled inputs"
        )
    kept = int((reference_labels == candidate_labels).sum())
    kept_low, kept_high = clopper_pearson(kept, len(true_labels))
    return LowerPrecisionVerdict(
        candidate=names[1],
        reference=names[0],
        samples=len(true_labels),
        kept=kept,
        kept_low=kept_low,
        kept_high=kept_high,
        accuracy_change=paired_accuracy_difference(
            candidate_labels == true_labels, reference_labels == true_labels, names=names[::-1]
        ),
    )


def assert_meets_lower_precision_rule(verdict: LowerPrecisionVerdict) -> None:
    """Say that a lower-precision model meets the course's rule, or raise saying which part does not."""
    if verdict.verdict != "meets":
        raise AssertionError(f"Lower precision rule not met.\n{verdict}")
    print(f"✓ {verdict}")
