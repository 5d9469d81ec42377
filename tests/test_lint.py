"""The code, notebooks included, passes ruff's checks and formatting as pyproject.toml configures them."""

import subprocess
import sys
from pathlib import Path

from onnx_crossings.plumbing.paths import REPO_ROOT

RUFF = Path(sys.executable).with_name("ruff")


def ruff(*arguments: str) -> subprocess.CompletedProcess:
    """Run the environment's ruff from the repository root."""
    return subprocess.run(
        [str(RUFF), *arguments], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )


def test_ruff_check_finds_nothing():
    check = ruff("check", "--output-format", "concise", ".")
    assert check.returncode == 0, f"{check.stdout[-4000:]}\nfix with: .venv/bin/ruff check --fix ."


def test_ruff_format_would_change_nothing():
    check = ruff("format", "--check", ".")
    assert check.returncode == 0, f"{check.stdout[-4000:]}\nformat with: .venv/bin/ruff format ."
