"""Parity checks between two frameworks' outputs for the same inputs, on the quantity each model outputs."""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

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


def assert_parity(
    parity: Parity, *, rtol: float, atol: float, min_agreement: float = MIN_AGREEMENT
) -> None:
    """Say that every output is within atol + rtol × |reference| and labels agree, or raise saying what broke."""
    problems = _check_labels(parity, min_agreement)
    if not parity.share_of_tolerance(rtol=rtol, atol=atol) <= 1:  # NaN fails too
        outside = int((parity.differences > atol + rtol * parity.magnitudes).sum())
        problems.insert(
            0,
            f"{outside:,} of {parity.differences.size:,} {parity.quantity} differ by more than "
            f"atol {atol:.0e} + rtol {rtol:.0e} × |{parity.reference}'s| "
            f"(max |difference| {parity.max_abs_diff:.2e})",
        )
    _fail_on(problems, parity)
    # only what was asserted is printed, so the line is the same wherever the check passes
    print(
        f"✓ {parity.candidate} matches {parity.reference} on all {parity.samples:,} samples:\n"
        f"  {parity.quantity} within atol {atol:.0e} + rtol {rtol:.0e} × |{parity.reference}'s|, "
        f"labels agreeing on at least {min_agreement:.2%}"
    )


def assert_labels_agree(parity: Parity, *, min_agreement: float) -> None:
    """For lower precision (int8, float16), whose outputs cannot match float32's: labels only, or raise."""
    _fail_on(_check_labels(parity, min_agreement), parity)
    print(
        f"✓ {parity.candidate} agrees with {parity.reference} on all {parity.samples:,} samples:\n"
        f"  labels agreeing on at least {min_agreement:.2%}; {parity.quantity} not held to a tolerance, "
        "since lower precision cannot match float32"
    )
