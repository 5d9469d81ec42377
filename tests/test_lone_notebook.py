"""A chapter opened alone runs: `make lone-notebook` executes chapter 3 in an empty folder, in a fresh Python 3.12.

Chapter 3 is the cheaper chapter (about 3 minutes here: the environment, the set-up cell's install, the run);
chapter 1's run, with PyTorch and TensorFlow, is measured by hand (README, "Opened alone").
"""

import json
import subprocess
from pathlib import Path

from helpers.paths import REPO_ROOT

CHAPTER = REPO_ROOT / "notebooks" / "03_aapl_keras_to_scikit_learn.ipynb"


def test_chapter_3_runs_alone_from_an_empty_folder_in_a_fresh_python():
    run = subprocess.run(
        ["make", "lone-notebook", f"CHAPTER={CHAPTER.relative_to(REPO_ROOT)}"],  # as the book says
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # the tool's last line is its times; make may add its own lines after it (under `make test`, "Leaving directory")
    times = json.loads([line for line in run.stdout.splitlines() if line.startswith("{")][-1])
    assert not Path(times["folder"]).is_relative_to(REPO_ROOT), (
        "the chapter ran inside the repository"
    )
    assert times["setup_cell_s"] > 5, (
        "the set-up cell installed nothing, so the environment was not fresh"
    )
    print(json.dumps(times))
