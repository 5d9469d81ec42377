"""Every chapter runs once here, under nbval, as the reference run of `make grade` (tests/graded_runs.py).

The reference run must pass every cell, the chapter's assertions and its output checks, and its own solutions must
score full marks on its checks; chapter 3's inbox is graded too: its answer sheet (full marks), its untouched
student version (zero), one answer and one cheat, as the instructors page shows the command.
"""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from graded_runs import GRADED_IN_DEPTH
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook, new_output

from onnx_crossings.grading.exercises import checks
from onnx_crossings.plumbing.paths import REPO_ROOT

CHAPTERS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
ONE_NOTEBOOK = f".venv/bin/pytest --nbval-lax notebooks/{GRADED_IN_DEPTH.name}"


@pytest.mark.parametrize("chapter_path", CHAPTERS, ids=lambda path: path.stem)
def test_make_grade_checks_the_chapter_under_nbval_and_grades_its_inbox(
    chapter_path, graded_chapter
):
    run = graded_chapter(chapter_path.stem)
    assert run.make.returncode == 0, run.make.stdout[-3000:] + run.make.stderr[-3000:]
    exercises = list(checks(nbformat.read(chapter_path, as_version=4)))
    assert len(exercises) >= 3
    assert f"its solutions pass all {len(exercises)} checks" in run.make.stdout
    assert "summary.md" in run.make.stdout
    if chapter_path != GRADED_IN_DEPTH:
        assert run.scores == {}
        return
    assert run.scores["answer_sheet"]["total"] == str(len(exercises)), run.scores["answer_sheet"][
        "notes"
    ]
    assert run.scores["untouched"]["total"] == "0" and run.scores["untouched"]["status"] == "graded"
    assert run.scores["partial"]["ch3-mape"] == "1" and run.scores["partial"]["total"] == "1"
    assert run.scores["rebinding"]["total"] == "0"


def test_the_results_page_runs_on_the_figures_of_this_runs_chapters(graded_chapter):
    """What `make chapters` does after the chapters: the results page, on their fresh figures (COURSE_OUTPUT_DIR)."""
    for chapter_path in CHAPTERS:
        assert graded_chapter(chapter_path.stem).make.returncode == 0, chapter_path.stem
    page = REPO_ROOT / "book" / "results.ipynb"
    notebook = nbformat.read(page, as_version=4)
    NotebookClient(
        notebook, timeout=300, resources={"metadata": {"path": str(page.parent)}}
    ).execute()
    shown = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert shown and not [output for output in shown if output.output_type == "error"]


def test_the_documented_command_checks_one_notebook(tmp_path):
    """The command as typed, on a two-cell stand-in: chapter 3 itself passes nbval in its reference run above."""
    for page in ("book/setup.md", "book/instructors.md"):
        assert ONE_NOTEBOOK in (REPO_ROOT / page).read_text(), page
    folder = Path("_build") / "one-notebook"  # relative to the repository root, as typed
    (REPO_ROOT / folder).mkdir(parents=True, exist_ok=True)
    venv_bin = Path(sys.executable).parent  # .venv/bin, unless make was given another VENV
    runs = {}
    for name, stored in (("passing", "4\n"), ("failing", "5\n")):
        checked = new_code_cell(
            "print(2 + 2)", metadata={"tags": ["nbval-check-output"]}, execution_count=1
        )
        checked.outputs = [new_output("stream", name="stdout", text=stored)]
        asserting = new_code_cell("import math\n\nassert math.isclose(sum([0.1] * 10), 1.0)")
        nbformat.write(
            new_notebook(cells=[checked, asserting]), REPO_ROOT / folder / f"{name}.ipynb"
        )
        typed = ONE_NOTEBOOK.replace(f"notebooks/{GRADED_IN_DEPTH.name}", f"{folder}/{name}.ipynb")
        runs[name] = subprocess.run(
            [str(venv_bin / "pytest"), *typed.split()[1:]],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            env=os.environ | {"COURSE_OUTPUT_DIR": str(tmp_path)},
        )
    assert runs["passing"].returncode == 0 and "2 passed" in runs["passing"].stdout, runs[
        "passing"
    ].stdout[-3000:]
    assert runs["failing"].returncode == 1 and "1 failed, 1 passed" in runs["failing"].stdout, (
        "a stored output that differs fails the notebook"
    )
