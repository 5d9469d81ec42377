"""Keeping libraries' console chatter out of the chapters, one block at a time."""

import contextlib
import io
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator


@contextlib.contextmanager
def _native_stderr_into(target) -> Iterator[None]:
    """Inside the block, point file descriptor 2 (where C/C++ code writes) at an open file; restore it after."""
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(target.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def silence_native_stderr() -> Iterator[None]:
    """Discard what C/C++ code writes to file descriptor 2 inside the block; Python exceptions still raise."""
    with open(os.devnull, "wb") as devnull, _native_stderr_into(devnull):
        yield


@contextlib.contextmanager
def native_stderr_kept() -> Iterator[list[str]]:
    """Inside the block, keep what C/C++ code writes to file descriptor 2; the list holds its lines afterwards."""
    lines: list[str] = []
    with tempfile.TemporaryFile() as kept:
        try:
            with _native_stderr_into(kept):
                yield lines
        finally:
            kept.seek(0)
            lines.extend(kept.read().decode(errors="replace").splitlines())


@contextlib.contextmanager
def slice_deprecation_ignored() -> Iterator[None]:
    """Inside the block, ignore torch's deprecation of list indices, which onnx2torch's Slice still uses."""
    # the results are unchanged on the pinned torch: chapter 2's parity check runs its converted Slice nodes
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Using a non-tuple sequence for multidimensional indexing"
        )
        yield


@contextlib.contextmanager
def python_chatter_hidden() -> Iterator[None]:
    """Inside the block, drop Python log records below ERROR and what Python code prints or draws as a progress bar
    (sys.stdout and sys.stderr); exceptions still raise."""
    # ONNX Runtime's quantizer and transformer optimizer log advice and print shape-inference notes; onnx2tf 2
    # draws progress bars and prints timings whatever its non_verbose says
    logging.disable(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        logging.disable(logging.NOTSET)
