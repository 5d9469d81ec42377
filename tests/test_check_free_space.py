"""The install stops early, with advice, when the disk cannot hold the environment."""

import shutil
import subprocess
import sys

from onnx_crossings.plumbing.paths import REPO_ROOT

SCRIPT = REPO_ROOT / "tools" / "check_free_space.py"


def check(path, needed_gb):
    """Run the check as the Makefile does."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(path), str(needed_gb)], capture_output=True, text=True
    )


def test_enough_space_passes_quietly(tmp_path):
    result = check(tmp_path / "not" / "created" / "yet", 0.001)
    assert result.returncode == 0 and result.stderr == ""


def test_too_little_space_says_how_much_and_what_to_do(tmp_path):
    needed_gb = round(shutil.disk_usage(tmp_path).free / 1e9 * 2 + 1)
    result = check(tmp_path / "venv", needed_gb)
    assert result.returncode == 1
    assert (
        f"needs about {needed_gb} GB and only" in result.stderr
        and "GB are free there" in result.stderr
    )
    assert "make VENV=" in result.stderr
