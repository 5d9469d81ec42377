"""Parity checks between two frameworks' outputs for the same inputs."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# The course's parity targets: outputs at most this far apart, labels agreeing this often.
MAX_ABS_DIFF = 1e-4
MIN_AGREEMENT = 0.9999


@dataclass(frozen=True)
class Parity:
    """How closely a candidate framework's outputs match the reference framework's."""

    reference: str
    candidate: str
    samples: int
    max_abs_diff: float
    label_agreement: float
    disagreements: int

    def __str__(self) -> str:
        return (
            f"{self.candidate} vs {self.reference} on {self.samples:,} samples:\n"
            f"  max |difference| = {self.max_abs_diff:.2e}\n"
            f"  labels agree on {self.label_agreement:.2%} ({self.disagreements} disagreements)"
        )


def labels_of(outputs: np.ndarray) -> np.ndarray:
    """Predicted labels: argmax over classes, or a 0.5 threshold for single-column probabilities."""
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        return outputs.argmax(axis=1)
    return (outputs.reshape(len(outputs)) >= 0.5).astype(np.int64)


def compare(
    reference: np.ndarray,
    candidate: np.ndarray,
    *,
    names: tuple[str, str],
    labels: Callable[[np.ndarray], np.ndarray] = labels_of,
) -> Parity:
    """Maximum absolute difference and label agreement (labels_of, or e.g. np.sign for a forecast's direction)."""
    if reference.shape != candidate.shape:
        raise ValueError(
            f"{names[1]} outputs have shape {candidate.shape} but {names[0]} outputs have "
            f"{reference.shape}: run both on the same inputs, in the same order"
        )
    agree = labels(reference) == labels(candidate)
    return Parity(
        reference=names[0],
        candidate=names[1],
        samples=len(reference),
        max_abs_diff=float(np.abs(reference.astype(np.float64) - candidate).max()),
        label_agreement=float(agree.mean()),
        disagreements=int((~agree).sum()),
    )


def assert_parity(
    parity: Parity,
    *,
    max_abs_diff: float | None = MAX_ABS_DIFF,
    min_agreement: float = MIN_AGREEMENT,
) -> None:
    """Say that parity holds, or raise AssertionError saying what broke (max_abs_diff None: labels only)."""
    problems = []
    if max_abs_diff is not None and not parity.max_abs_diff <= max_abs_diff:
        problems.append(f"max |difference| {parity.max_abs_diff:.2e} exceeds {max_abs_diff:.0e}")
    if not parity.label_agreement >= min_agreement:
        problems.append(
            f"label agreement {parity.label_agreement:.4%} is below {min_agreement:.2%}"
        )
    if problems:
        raise AssertionError(
            f"Parity broken for {parity.candidate} vs {parity.reference}: " + "; ".join(problems)
        )
    within = (
        f"within {max_abs_diff:.0e}"
        if max_abs_diff is not None
        else f"(max |difference| {parity.max_abs_diff:.1e}, no tolerance at this precision)"
    )
    print(
        f"✓ {parity.candidate} matches {parity.reference} {within} on all "
        f"{parity.samples:,} samples, labels agreeing on at least {min_agreement:.2%}"
    )
