"""Exercise checks: each check is a function of the answer and of the chapter values it reads, by name."""

import inspect
from collections.abc import Callable


def check(verify: Callable[..., str]) -> Callable[..., str]:
    """Call verify with the notebook's variables named like its parameters and print what it confirmed."""
    namespace = inspect.currentframe().f_back.f_globals
    names = list(inspect.signature(verify).parameters)
    missing = [name for name in names if name not in namespace]
    if missing:
        raise NameError(
            f"{', '.join(missing)} not defined: run the chapter's cells above this check first"
        )
    print("✓", verify(**{name: namespace[name] for name in names}))
    return verify
