"""`make grade` over a chapter, once per test session: the chapter's reference run under nbval, then its inbox.

The reference run is the chapter with its own solutions, executed by nbval as an instructor checks a notebook:
every cell must run, the chapter's assertions (accuracy, parity) must hold and the cells tagged
`nbval-check-output` must reproduce their stored output, or grading stops. It is the one execution of each chapter
in `make test`; the tests that need a chapter's outputs (its model, its results) read this run's.

The inbox holds what crosses the sandbox's boundary in a way the reference run does not show: chapter 3's answer
sheet (full marks: its answers are files, arrays, tables and a parity record, every kind an answer may be), its
untouched student version (zero), one answer and one cheat. The other chapters' answer sheets would take the same
path again, so their inboxes are empty: the reference run's verdict already runs their solutions through their
checks.
"""

import copy
import csv
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from onnx_crossings.grading.exercises import (
    ANSWER,
    SOLUTION,
    answer_sheet,
    chapter_name,
    code_by_exercise,
    exercise_of,
    student_path,
    tags,
)
from onnx_crossings.plumbing.paths import REPO_ROOT, artifacts_dir, output_dir, results_dir
from tools.budgets import grading_times_path, save_notebook_time, save_time

GRADED_IN_DEPTH = REPO_ROOT / "notebooks" / "03_aapl_keras_to_scikit_learn.ipynb"


@dataclass
class GradedRun:
    """What `make grade` printed and returned for one chapter, and its scores by student."""

    chapter_path: Path
    make: subprocess.CompletedProcess
    scores: dict[str, dict[str, str]]


def with_answer(student, exercise: str, source: str):
    """A copy of a student version with one exercise answered."""
    student = copy.deepcopy(student)
    for cell in student.cells:
        if ANSWER in tags(cell) and exercise_of(cell) == exercise:
            cell.source = source
    return student


def inbox(chapter_path: Path) -> dict:
    """Chapter 3's answer sheet, untouched student version, one answer and a cheat; nothing for the others."""
    if chapter_path != GRADED_IN_DEPTH:
        return {}
    chapter = nbformat.read(chapter_path, as_version=4)
    untouched = nbformat.read(student_path(chapter_path), as_version=4)
    return {
        "answer_sheet": answer_sheet(chapter, chapter_name(chapter_path)),
        "untouched": untouched,
        "partial": with_answer(
            untouched, "ch3-mape", code_by_exercise(chapter, SOLUTION)["ch3-mape"]
        ),
        # empties what the check reads, so an empty answer would pass if the check ran in the student's kernel
        "rebinding": with_answer(untouched, "ch3-mape", "forecasts = {}\ntest_mape = {}"),
    }


def writes_into_repository() -> bool:
    """True when runs write into the repository's own artifacts and results (the default; make test does not)."""
    return output_dir().resolve() == REPO_ROOT


def make_grade(chapter_path: Path) -> GradedRun:
    """Run `make grade` from the repository root, as instructors type it, over the chapter and its inbox."""
    # relative to the repository root, as instructors type it
    folder = Path("_build/grading-test") / chapter_path.stem
    shutil.rmtree(REPO_ROOT / folder, ignore_errors=True)
    (REPO_ROOT / folder / "inbox").mkdir(parents=True)
    submissions = inbox(chapter_path)
    for student, notebook in submissions.items():
        nbformat.write(notebook, REPO_ROOT / folder / "inbox" / f"{student}.ipynb")
    started = time.monotonic()
    make = subprocess.run(
        [
            "make",
            "grade",
            f"SUBMISSIONS={folder}/inbox/",
            f"GRADES={folder}/grades",
            f"JOBS={min(2, max(1, len(submissions)))}",
            f"CHAPTER=notebooks/{chapter_path.name}",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=3 * 3600,
    )
    scores = {}
    if make.returncode == 0:
        with (REPO_ROOT / folder / "grades" / "scores.csv").open(newline="") as table:
            scores = {row["student"]: row for row in csv.DictReader(table)}
    # the results page and the time-budget tables read the figures of this run, the web app's checks its models
    if make.returncode == 0 and not writes_into_repository():
        output = REPO_ROOT / folder / "grades" / "reference" / "run" / "output"
        shutil.copytree(output / "results", results_dir(), dirs_exist_ok=True)
        shutil.copytree(output / "artifacts", artifacts_dir(), dirs_exist_ok=True)
        reference_seconds = float(re.search(r"reference run: (\d+) s", make.stdout).group(1))
        save_notebook_time(chapter_path.stem, reference_seconds)
        grading_seconds = time.monotonic() - started - reference_seconds
        save_time(grading_times_path(), chapter_path.stem, grading_seconds)
    return GradedRun(chapter_path, make, scores)
