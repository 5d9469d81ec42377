"""Every chapter runs once here, under nbval, as the reference run of `make grade`, which then grades it.

The reference run is the chapter with its own solutions, executed by nbval as an instructor checks a notebook:
every cell must run, the chapter's assertions (accuracy, parity) must hold and the cells tagged
`nbval-check-output` must reproduce their stored output, or grading stops. The same command then grades the
chapter's answer sheet (full marks), and for the quickest chapter its untouched student version (zero) too,
as the instructors page shows it.
"""

import copy
import csv
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from conftest import writes_into_repository

from grading.exercises import (
    ANSWER,
    SOLUTION,
    answer_sheet,
    chapter_name,
    checks,
    code_by_exercise,
    exercise_of,
    student_path,
    tags,
)
from helpers.budgets import grading_times_path, save_notebook_time, save_time
from helpers.paths import REPO_ROOT, artifacts_dir, results_dir

CHAPTERS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
QUICKEST = REPO_ROOT / "notebooks" / "03_aapl_keras_to_scikit_learn.ipynb"
ONE_NOTEBOOK = f".venv/bin/pytest --nbval-lax notebooks/{QUICKEST.name}"


def with_answer(student, exercise: str, source: str):
    """A copy of a student version with one exercise answered."""
    student = copy.deepcopy(student)
    for cell in student.cells:
        if ANSWER in tags(cell) and exercise_of(cell) == exercise:
            cell.source = source
    return student


def submissions(chapter_path: Path) -> dict:
    """Every chapter's answer sheet; the quickest also its untouched student version, one answer and a cheat.

    An untouched student version proves the same of every chapter (stubs run, checks score zero), so one chapter
    grades it: each graded run costs CI minutes (tests/test_grading.py covers the grader's zero path in depth).
    """
    chapter = nbformat.read(chapter_path, as_version=4)
    inbox = {"answer_sheet": answer_sheet(chapter, chapter_name(chapter_path))}
    if chapter_path == QUICKEST:
        untouched = nbformat.read(student_path(chapter_path), as_version=4)
        inbox["untouched"] = untouched
        inbox["partial"] = with_answer(
            untouched, "ch3-mape", code_by_exercise(chapter, SOLUTION)["ch3-mape"]
        )
        # empties what the check reads, so an empty answer would pass if the check ran in the student's kernel
        inbox["rebinding"] = with_answer(untouched, "ch3-mape", "forecasts = {}\ntest_mape = {}")
    return inbox


@pytest.mark.parametrize("chapter_path", CHAPTERS, ids=lambda path: path.stem)
def test_make_grade_checks_the_chapter_under_nbval_and_grades_its_answer_sheet_and_student_version(
    chapter_path,
):
    # relative to the repository root, as instructors type it
    folder = Path("_build/grading-test") / chapter_path.stem
    shutil.rmtree(REPO_ROOT / folder, ignore_errors=True)
    (REPO_ROOT / folder / "inbox").mkdir(parents=True)
    inbox = submissions(chapter_path)
    for student, notebook in inbox.items():
        nbformat.write(notebook, REPO_ROOT / folder / "inbox" / f"{student}.ipynb")
    started = time.monotonic()
    make = subprocess.run(
        [
            "make",
            "grade",
            f"SUBMISSIONS={folder}/inbox/",
            f"GRADES={folder}/grades",
            f"JOBS={min(2, len(inbox))}",  # a lone answer sheet gets both cores
            f"CHAPTER=notebooks/{chapter_path.name}",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=3 * 3600,
    )
    assert make.returncode == 0, make.stdout[-3000:] + make.stderr[-3000:]
    assert "its solutions pass all" in make.stdout and "summary.md" in make.stdout
    with (REPO_ROOT / folder / "grades" / "scores.csv").open(newline="") as table:
        rows = {row["student"]: row for row in csv.DictReader(table)}
    exercises = list(checks(nbformat.read(chapter_path, as_version=4)))
    answer_sheet, all_marks = rows["answer_sheet"], str(len(exercises))
    assert len(exercises) >= 3 and answer_sheet["total"] == all_marks, answer_sheet["notes"]
    if chapter_path == QUICKEST:
        assert rows["untouched"]["total"] == "0" and rows["untouched"]["status"] == "graded"
        assert rows["partial"]["ch3-mape"] == "1" and rows["partial"]["total"] == "1"
        assert rows["rebinding"]["total"] == "0"
    # the results page and the time-budget tables read the figures of this run, the web app's checks its models
    if not writes_into_repository():
        output = REPO_ROOT / folder / "grades" / "reference" / "run" / "output"
        shutil.copytree(output / "results", results_dir(), dirs_exist_ok=True)
        shutil.copytree(output / "artifacts", artifacts_dir(), dirs_exist_ok=True)
        reference_seconds = float(re.search(r"reference run: (\d+) s", make.stdout).group(1))
        save_notebook_time(chapter_path.stem, reference_seconds)
        grading_seconds = time.monotonic() - started - reference_seconds
        save_time(grading_times_path(), chapter_path.stem, grading_seconds)


def test_the_documented_command_checks_one_notebook(tmp_path):
    for page in ("book/setup.md", "book/instructors.md"):
        assert ONE_NOTEBOOK in (REPO_ROOT / page).read_text(), page
    venv_bin = Path(sys.executable).parent  # .venv/bin, unless make was given another VENV
    command = [str(venv_bin / "pytest"), *ONE_NOTEBOOK.split()[1:]]
    run = subprocess.run(
        command,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        # the run writes into tmp_path, which keeps the committed results as they are
        env=os.environ | {"COURSE_OUTPUT_DIR": str(tmp_path)},
    )
    assert run.returncode == 0 and " passed" in run.stdout, run.stdout[-3000:]
    assert (tmp_path / "results" / "chapter3_aapl.json").is_file()
