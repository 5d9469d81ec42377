"""A chapter opened in Colab runs: `make lone-notebook` executes chapter 3 in an empty folder, in a runtime built as
Colab's published package list describes it (Python 3.13, Colab's NumPy, TensorFlow, Keras, pandas, scikit-learn...).

Chapter 3 is the cheaper chapter (about 3 minutes here: the runtime, the set-up cell's install, the run); the other
chapters' runs, with PyTorch and TensorFlow, are run by hand the same way (`make lone-notebook`).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from onnx_crossings.plumbing import install
from onnx_crossings.plumbing.paths import REPO_ROOT

CHAPTER = REPO_ROOT / "notebooks" / "03_aapl_keras_to_scikit_learn.ipynb"


@pytest.mark.chapters  # the one lone run: a chapter executed, in a runtime of its own
def test_chapter_3_runs_alone_in_colabs_runtime_keeping_its_packages():
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
    assert times["beside_it"] == ["helpers.py"], "a learner's own helpers.py lay beside the chapter"
    assert times["setup_cell_s"] > 5, (
        "the set-up cell installed nothing, so the environment was not fresh"
    )
    colab, after = times["runtime_packages"], times["after_run"]
    kept = {name for name, version in after.items() if version == colab[name]}
    assert {"numpy", "tensorflow", "keras", "pandas", "scikit-learn"} <= kept, (
        "Colab's own packages"
    )
    pins, _ = install.course_pins()
    for name in after.keys() - kept:  # only what the course cannot run with is replaced
        assert not install.keeps(pins[name], colab[name]), (
            f"Colab's {name} {colab[name]} was replaced"
        )
    print(json.dumps(times))


def test_the_refresh_command_writes_the_list_with_where_it_came_from(tmp_path):
    source = tmp_path / "pip-freeze.txt"
    source.write_text(
        "# Colab's own header\nnumpy==2.1.3\ntensorflow==2.20.0\ntorch @ https://x/torch-2.11.0%2Bcpu-cp313-cp313-linux.whl\n"
    )
    written = tmp_path / "list.txt"
    command = [
        sys.executable,
        "tools/colab_runtime.py",
        "refresh",
        "--source",
        str(source),
        "--to",
        str(written),
    ]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    first, *rest = written.read_text().splitlines()
    assert (
        first.startswith(f"# Fetched from {source} on ") and rest == source.read_text().splitlines()
    )
    assert "numpy 2.1.3, torch 2.11.0" in result.stdout
    source.write_text("<html>not found</html>\n")
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode != 0 and "does not look like Colab's package list" in result.stderr
