import os
import random

import numpy as np
import torch

from onnx_crossings.plumbing.reproducibility import seed_everything


def draws() -> tuple[float, float, float]:
    """One draw from each of Python's, NumPy's and PyTorch's generators."""
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_same_seed_same_draws_and_deterministic_torch():
    seed_everything(3)
    first = draws()
    seed_everything(3)
    assert draws() == first
    assert torch.are_deterministic_algorithms_enabled()
    seed_everything(4)
    assert draws() != first


def test_seeding_leaves_the_environment_alone():
    before = dict(os.environ)  # PYTHONHASHSEED set in a running interpreter would seed nothing
    seed_everything(5)
    assert dict(os.environ) == before
