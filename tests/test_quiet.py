import os
import subprocess
import sys

import pytest

from helpers.quiet import silence_native_stderr

CHILD = """
import os
from helpers.quiet import silence_native_stderr
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
    child = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    assert child.stderr == "before\nafter\ncaught still raised\n"


def test_the_original_descriptor_is_restored():
    before = os.fstat(2)
    with pytest.raises(RuntimeError):
        with silence_native_stderr():
            raise RuntimeError
    after = os.fstat(2)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)
