"""Exercise checks: a chapter's check cell, `check(checks.recall_per_digit)`, runs a function of a check module.

The functions live in this package's modules, one per chapter, which the chapter imports
(`from onnx_crossings.checks import mnist_pytorch_to_tensorflow as checks`, each named after its chapter's file):
a student version keeps its check cells, not their code.
"""

import inspect
from collections.abc import Callable


def check(verify: Callable[..., str]) -> None:
    """Call verify with the notebook's variables named like its parameters and print what it confirmed."""
    namespace = inspect.currentframe().f_back.f_globals
    names = list(inspect.signature(verify).parameters)
    missing = [name for name in names if name not in namespace]
    if missing:
        raise NameError(
            f"{', '.join(missing)} not defined: run the chapter's cells above this check first"
        )
    print("✓", verify(**{name: namespace[name] for name in names}))
