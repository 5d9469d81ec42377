"""Keeping native libraries' console chatter out of the chapters."""

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def silence_native_stderr() -> Iterator[None]:
    """Discard what C/C++ code writes to file descriptor 2 inside the block; Python exceptions still raise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
