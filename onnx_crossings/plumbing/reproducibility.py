"""One call that seeds every source of randomness a chapter uses."""

import random
import sys

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and (when imported) PyTorch, Keras and TensorFlow; ask for deterministic kernels."""
    # String hashing is salted when the interpreter starts (PYTHONHASHSEED), too late to seed here, so no
    # chapter depends on the order of a set of strings.
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)
    if "tensorflow" in sys.modules:
        tensorflow = sys.modules["tensorflow"]
        tensorflow.random.set_seed(seed)
        tensorflow.config.experimental.enable_op_determinism()
