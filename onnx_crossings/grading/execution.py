"""Running and judging: a notebook run under nbval in the sandbox, then the contained verdict on its answers."""

import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import nbformat

from onnx_crossings.grading.assembly import answer_cell_numbers, graded_notebook, with_state_reused
from onnx_crossings.grading.exercises import checks
from onnx_crossings.grading.sandbox import (
    NOBODY,
    GraderStopping,
    Limits,
    Outcome,
    base_environment,
    prepare_writable,
    run_contained,
    run_logged,
)
from onnx_crossings.grading.submissions import Unusable, submitted_answers
from onnx_crossings.plumbing.paths import data_dir, offline_packages_dir

# seconds for any one cell, wherever a notebook runs (grading, make chapters, pytest's nbval in pyproject.toml):
# twice the longest (chapter 2's training) on a busy 2-core machine
CELL_TIMEOUT = 1800
SUBMISSION_TIMEOUT = 3 * 3600
VERDICT_TIMEOUT = 900


class GradingError(RuntimeError):
    """A batch cannot be graded at all (a broken reference chapter or environment), with what to do."""


@dataclass
class Grade:
    """One submission's result: a score per exercise, what happened, and how long it took."""

    student: str
    scores: dict[str, int]
    status: str = "graded"
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    folder: str = ""

    @property
    def total(self) -> int:
        """Exercises passed."""
        return sum(self.scores.values())


@dataclass(frozen=True)
class Batch:
    """What every submission of one grading run shares: the chapter, its checks, the reference values, limits."""

    chapter_path: Path
    chapter: object
    name: str
    out_dir: Path
    hidden: tuple[Path, ...]
    limits: Limits
    cell_timeout: int
    threads: int = 0
    chapter_values: Path = Path()

    @property
    def state_dir(self) -> Path:
        """Where the reference run keeps the values of the chapter's long cells, for the submissions to reuse."""
        return self.out_dir / "reference" / "state"

    @property
    def exercises(self) -> list[str]:
        """The chapter's exercises, in order."""
        return list(checks(self.chapter))

    @property
    def module_files(self) -> list[Path]:
        """The files of the chapter's check modules, which its import cell imports."""
        return sorted({check.module_file for check in checks(self.chapter).values()})


def nbval_command(notebook_path: Path, cell_timeout: int) -> list[str]:
    """pytest running nbval on one notebook and nothing else: no ini file, no conftest, no cache."""
    folder = notebook_path.parent
    return [
        sys.executable,
        "-m",
        "pytest",
        str(notebook_path),
        "-c",
        os.devnull,
        "--rootdir",
        str(folder),
        "-p",
        "no:cacheprovider",
        "--noconftest",
        "--nbval-lax",
        f"--nbval-cell-timeout={cell_timeout}",
        f"--junitxml={folder / 'report.xml'}",
        "-q",
    ]


def course_environment(home: Path, output: Path) -> dict[str, str]:
    """The environment a run of a chapter gets: its own home and output folder, the shared data read-only."""
    return base_environment(home) | {
        "COURSE_OUTPUT_DIR": str(output),
        "COURSE_DATA_DIR": str(data_dir().resolve()),
        "COURSE_OFFLINE_DIR": str(offline_packages_dir().resolve()),
    }


def thread_limits(threads: int) -> dict[str, str]:
    """Variables that keep PyTorch, NumPy and TensorFlow to a number of threads (none when threads is 0)."""
    names = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")
    return dict.fromkeys(names, str(threads)) if threads else {}


def threads_per_job(jobs: int) -> int:
    """This machine's cores shared between jobs run side by side: oversubscribed math libraries slow down 3x."""
    return max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else 0


def module_copy(run_dir: Path, module: str) -> Path:
    """Where a reference run keeps its copy of a check module, which the verdicts load."""
    return run_dir / f"{module}.py"


def execute(
    notebook, run_dir: Path, batch: Batch, user: int = NOBODY, contained: bool = True
) -> Outcome:
    """Execute a notebook with nbval, inside the sandbox (writable only in run_dir) unless it is trusted."""
    prepare_writable(run_dir, user)
    notebook_path = run_dir / f"{batch.name}.ipynb"
    nbformat.write(notebook, notebook_path)
    command = nbval_command(notebook_path, batch.cell_timeout)
    environment = course_environment(run_dir / "home", run_dir / "output")
    log = run_dir.parent / "nbval.log"
    if not contained:  # the reference run: the chapter's own code, which may fill the data cache
        return run_logged(
            command,
            log=log,
            wall_seconds=batch.limits.wall_seconds,
            environment=os.environ | environment,
        )
    return run_contained(
        command,
        writable=run_dir,
        readable=[batch.state_dir, *batch.module_files],
        hidden=list(batch.hidden),
        environment=environment | thread_limits(batch.threads),
        limits=batch.limits,
        log=log,
        user=user,
    )


def run_verdict(
    answers_dir: Path,
    report: Path,
    answer_cells: dict[str, str],
    verdict_dir: Path,
    batch: Batch,
    user: int = NOBODY,
) -> dict:
    """Run the verdict process, contained, on one run's exported answers; return what it wrote."""
    prepare_writable(verdict_dir, user)
    request = {
        "checks": [
            asdict(check)
            | {"module_file": str(module_copy(batch.chapter_values.parent, check.module))}
            for check in checks(batch.chapter).values()
        ],
        "chapter_values": str(batch.chapter_values),
        "answers": str(answers_dir),
        "report": str(report),
        "answer_cells": answer_cells,
        "verdict": str(verdict_dir / "verdict.json"),
    }
    (verdict_dir / "request.json").write_text(json.dumps(request))
    outcome = run_contained(
        [
            sys.executable,
            "-I",
            "-m",
            "onnx_crossings.grading.verdict",
            str(verdict_dir / "request.json"),
        ],
        writable=verdict_dir,
        readable=[batch.chapter_values.parent, answers_dir.parent.parent],
        hidden=list(batch.hidden),
        environment=base_environment(verdict_dir / "home"),
        limits=replace(batch.limits, wall_seconds=VERDICT_TIMEOUT),
        log=verdict_dir / "verdict.log",
        user=user,
    )
    unreadable = ""
    try:
        verdict = json.loads((verdict_dir / "verdict.json").read_text())
    except (OSError, ValueError) as error:
        verdict = {"exercises": {}, "notes": []}
        unreadable = f"the checks left no readable verdict ({type(error).__name__}), so every exercise scores 0"
    if outcome.timed_out:
        verdict["notes"].append(
            f"the checks ran longer than {VERDICT_TIMEOUT} s; unfinished ones score 0"
        )
    elif outcome.returncode != 0:
        verdict["notes"].append("the checks stopped with an error: see verdict.log")
    elif unreadable:
        verdict["notes"].append(unreadable)
    return verdict


def grade_submission(
    path: Path, student: str, folder: str, batch: Batch, user: int = NOBODY
) -> Grade:
    """Grade one submitted file; whatever it holds becomes a status or notes, never an exception."""
    zero, started = dict.fromkeys(batch.exercises, 0), time.monotonic()
    try:
        answers, notes = submitted_answers(path, batch.name, batch.exercises)
    except Unusable as problem:
        return Grade(student, zero, str(problem), folder=folder)
    try:
        return _graded(answers, notes, student, folder, batch, user, started)
    except GraderStopping:
        raise
    except Exception as error:  # a failure of the grader on one file still gives that file its row
        return Grade(student, zero, f"not graded: {type(error).__name__}: {error}", folder=folder)


def _graded(
    answers: dict[str, str],
    notes: list[str],
    student: str,
    folder: str,
    batch: Batch,
    user: int,
    started: float,
) -> Grade:
    """Run one submission's answers contained, then its verdict."""
    work = batch.out_dir / "submissions" / folder
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    run_dir = work / "run"
    graded = with_state_reused(graded_notebook(batch.chapter, answers, run_dir), batch.state_dir)
    outcome = execute(graded, run_dir, batch, user)
    if outcome.timed_out:
        notes.append(
            f"the notebook ran longer than {batch.limits.wall_seconds:.0f} s and was stopped"
        )
    verdict = run_verdict(
        run_dir / "answers",
        run_dir / "report.xml",
        answer_cell_numbers(graded),
        work / "verdict",
        batch,
        user,
    )
    results = verdict.get("exercises", {})
    scores = {
        exercise: int(results.get(exercise, {}).get("passed") is True)
        for exercise in batch.exercises
    }
    for exercise, result in results.items():
        if not result.get("passed"):
            notes.append(f"{exercise}: {result.get('message', '')}")
    return Grade(
        student,
        scores,
        notes=verdict.get("notes", []) + notes,
        seconds=time.monotonic() - started,
        folder=folder,
    )
