import os
import subprocess
import sys
import warnings

import pytest
import torch

from onnx_crossings.plumbing.quiet import (
    native_stderr_kept,
    python_chatter_hidden,
    silence_native_stderr,
    slice_deprecation_ignored,
)

CHILD = """
import os
from onnx_crossings.plumbing.quiet import silence_native_stderr, slice_deprecation_ignored
os.write(2, b"before\\n")
with silence_native_stderr():
    os.write(2, b"native chatter\\n")
os.write(2, b"after\\n")
try:
    with silence_native_stderr():
        raise ValueError("still raised")
except ValueError as error:
    os.write(2, f"caught {error}\\n".encode())
"""


def test_native_writes_are_dropped_only_inside_the_block():
    child = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True
    )
    assert child.stderr == "before\nafter\ncaught still raised\n"


def test_the_original_descriptor_is_restored():
    before = os.fstat(2)
    with pytest.raises(RuntimeError):
        with silence_native_stderr():
            raise RuntimeError
    after = os.fstat(2)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)


def list_indexing_warnings() -> list[str]:
    """The warnings one list-indexed tensor read raises, as onnx2torch's Slice indexes."""
    with warnings.catch_warnings(record=True) as caught:
        torch.zeros(3, 4)[[slice(0, 1), slice(0, 2)]]
    return [str(warning.message) for warning in caught]


def test_the_slice_deprecation_is_ignored_inside_the_block_only():
    assert any("non-tuple sequence" in message for message in list_indexing_warnings())
    with slice_deprecation_ignored():
        assert list_indexing_warnings() == []
    assert any("non-tuple sequence" in message for message in list_indexing_warnings())


def test_importing_the_lstm_converter_leaves_the_warning_filters_alone():
    # the libraries add filters of their own when imported, so they are imported first
    code = (
        "import warnings, onnx, onnx2torch, torch; before = list(warnings.filters);"
        "import onnx_crossings.teaching.onnx_lstm; print(warnings.filters == before)"
    )
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert child.stdout.strip() == "True"


def test_python_chatter_is_hidden_inside_the_block_only(capsys, caplog):
    import logging

    with python_chatter_hidden():
        print("advice")
        print("a progress bar", file=sys.stderr)
        logging.getLogger("quantizer").warning("consider pre-processing")
        logging.getLogger("quantizer").error("a real error")
    print("after")
    print("a later bar", file=sys.stderr)
    logging.getLogger("quantizer").warning("logged again")
    assert capsys.readouterr() == ("after\n", "a later bar\n")
    assert [record.getMessage() for record in caplog.records] == ["a real error", "logged again"]
    with pytest.raises(ValueError), python_chatter_hidden():
        raise ValueError("still raised")
    assert logging.root.manager.disable == logging.NOTSET


def test_native_writes_inside_the_block_are_kept_as_lines_and_not_shown(capfd):
    os.write(2, b"before\n")
    with native_stderr_kept() as lines:
        os.write(2, b"first\nsecond\n")
        assert lines == []  # filled when the block ends
    os.write(2, b"after\n")
    assert lines == ["first", "second"]
    assert capfd.readouterr().err == "before\nafter\n"
