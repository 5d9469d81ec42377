"""Grade a folder of submitted notebooks: answers run contained, verdicts come from trusted code in another process.

For one batch:
1. A reference run executes the chapter with its own solutions under nbval (stored outputs compared where the
   chapter asks, as `make test` does) and keeps the chapter values its checks read; any failure stops grading.
2. For each submission, only its answer cells are put into the reference chapter, each followed by a cell that
   exports the answer as plain data; the check cells are left out, and the chapter's long cells (training) load
   what they left in the reference run instead of running again. nbval executes that notebook inside a
   sandbox (grading.sandbox) whose only writable place is the submission's own run folder.
3. A separate, contained Python process (grading.verdict) runs the chapter's check functions, from the reference
   run's copies of their modules, on the exported answers and the reference values. No code of the submission
   runs in it.
The tables are rewritten as each submission finishes, so an interrupted batch keeps what it graded.
"""

import argparse
import contextlib
import copy
import csv
import io
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import nbformat

from grading.exercises import (
    ANSWER,
    CHECK,
    SOLUTION,
    chapter_name,
    checks,
    code_by_exercise,
    exercise_of,
    reused_names,
    tags,
    with_answers,
)
from grading.reference import fingerprint
from grading.report import UnreadableReport, failed_cells
from grading.sandbox import (
    FIRST_GRADING_USER,
    NOBODY,
    Limits,
    Outcome,
    base_environment,
    prepare_writable,
    run_contained,
    run_logged,
    stop_all,
)
from helpers.paths import data_dir, offline_packages_dir

NBVAL_MARKER = re.compile(r"^[ \t]*#[ \t]*NBVAL_\w*.*$", re.MULTILINE)
MAX_SUBMISSION_BYTES = 50_000_000
MAX_ANSWER_CHARACTERS = 200_000
# seconds for any one cell; chapter 2's training cell took up to 993 s on a loaded machine
CELL_TIMEOUT = 1800
SUBMISSION_TIMEOUT = 3 * 3600
VERDICT_TIMEOUT = 900


class GradingError(RuntimeError):
    """A batch cannot be graded at all (a broken reference chapter or environment), with what to do."""


class Unusable(ValueError):
    """A submission that cannot be graded; its message becomes the status in the table."""


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


def _text(value) -> str:
    """A notebook source as text (a string or a list of strings), anything else refused."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(line, str) for line in value):
        text = "".join(value)
    else:
        raise TypeError("cell source is neither text nor a list of lines")
    return _utf8(text)


def _utf8(text: str) -> str:
    """Text that can be run, written and printed: lone surrogates (from JSON or undecodable names) become '?'."""
    return text.encode("utf-8", "replace").decode("utf-8")


def submitted_answers(
    path: Path, chapter: str, exercises: list[str]
) -> tuple[dict[str, str], list[str]]:
    """A submission's answers by exercise and notes on what was ignored; Unusable when it is no student version."""
    if path.is_symlink() or not path.is_file():
        raise Unusable("not a regular file")
    if path.stat().st_size > MAX_SUBMISSION_BYTES:
        raise Unusable(f"larger than {MAX_SUBMISSION_BYTES // 1_000_000} MB")
    try:
        notebook = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as error:
        raise Unusable(f"not a readable notebook ({type(error).__name__})") from None
    metadata = notebook.get("metadata") if isinstance(notebook, dict) else None
    course = metadata.get("course") if isinstance(metadata, dict) else None
    submitted_for = course.get("chapter") if isinstance(course, dict) else None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise Unusable("not a notebook (no list of cells)")
    if not isinstance(submitted_for, str):
        raise Unusable(f"is not a student version of any chapter, not {chapter}")
    if submitted_for != chapter:
        raise Unusable(f"answers {submitted_for[:80]!r}, not {chapter}")
    answers, notes = {}, []
    for cell in notebook["cells"]:
        cell_metadata = cell.get("metadata") if isinstance(cell, dict) else None
        cell_tags = cell_metadata.get("tags") if isinstance(cell_metadata, dict) else None
        if (
            not isinstance(cell_tags, list)
            or ANSWER not in cell_tags
            or cell.get("cell_type") != "code"
        ):
            continue
        exercise = cell_metadata.get("exercise")
        if exercise not in exercises:
            notes.append(
                f"an answer cell for an unknown exercise ({str(exercise)[:40]!r}) was ignored"
            )
            continue
        try:
            source = _text(cell.get("source"))
        except TypeError as error:
            notes.append(f"an answer to {exercise} was ignored: {error}")
            continue
        answers[exercise] = answers[exercise] + "\n\n" + source if exercise in answers else source
    for exercise, source in answers.items():
        if len(source) > MAX_ANSWER_CHARACTERS:
            answers[exercise] = ""
            notes.append(
                f"the answer to {exercise} is longer than {MAX_ANSWER_CHARACTERS:,} characters; not run"
            )
    return {exercise: NBVAL_MARKER.sub("", source) for exercise, source in answers.items()}, notes


def _export_cell(exercise: str, names: tuple[str, ...], run_dir: Path):
    """A cell that exports an exercise's answers from the kernel as plain data."""
    values = "{" + ", ".join(f"{name!r}: globals().get({name!r})" for name in names) + "}"
    return nbformat.v4.new_code_cell(
        f'__import__("grading.answers").answers.export_answers({values}, {str(run_dir / "answers" / exercise)!r}, '
        f"{str(run_dir)!r})",
        metadata={"tags": ["export"], "exercise": exercise},
    )


def graded_notebook(chapter, answers: dict[str, str], run_dir: Path):
    """The chapter with the given answers in place of its solutions, each exported after it; no check cells."""
    found = checks(chapter)
    notebook = with_answers(chapter, answers)
    cells = []
    for cell in notebook.cells:
        if CHECK in tags(cell):
            continue
        cells.append(cell)
        if ANSWER in tags(cell):
            cells.append(_export_cell(exercise_of(cell), found[exercise_of(cell)].answers, run_dir))
    notebook.cells = cells
    return notebook


def _state_file(state_dir: Path, cell) -> str:
    """Where the reference run keeps the values of one reused cell."""
    return str(state_dir / f"cell-{cell.id}.pkl")


def with_state_saved(notebook, state_dir: Path):
    """The reference run's notebook: after each long cell, a cell keeping the values it leaves."""
    cells = []
    for cell in notebook.cells:
        cells.append(cell)
        if reused_names(cell):
            cells.append(
                nbformat.v4.new_code_cell(
                    f'__import__("grading.reference").reference.save_values(globals(), {reused_names(cell)!r}, '
                    f"{_state_file(state_dir, cell)!r})"
                )
            )
    notebook.cells = cells
    return notebook


def with_chapter_outputs(notebook, chapter):
    """The reference run's notebook with the chapter's stored outputs, which nbval compares where a cell asks it to."""
    stored = {cell.id: cell for cell in chapter.cells if cell.cell_type == "code"}
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.get("id") in stored:
            cell.outputs = copy.deepcopy(stored[cell.id].outputs)
            cell.execution_count = stored[cell.id].execution_count
    return notebook


def with_state_reused(notebook, state_dir: Path):
    """A submission's notebook: each long cell replaced by loading what it left in the reference run."""
    for cell in notebook.cells:
        if reused_names(cell):
            cell.source = (
                f"# reused from the reference run: {', '.join(reused_names(cell))}\n"
                f'globals().update(__import__("grading.reference").reference.load_values('
                f"{_state_file(state_dir, cell)!r}))"
            )
    return notebook


def answer_cell_numbers(notebook) -> dict[str, str]:
    """nbval's number of each answer cell (its index among code cells), as text, and the exercise it answers."""
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return {
        str(number): exercise_of(cell)
        for number, cell in enumerate(code_cells)
        if ANSWER in tags(cell)
    }


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


def judge(
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
        [sys.executable, "-I", "-m", "grading.verdict", str(verdict_dir / "request.json")],
        writable=verdict_dir,
        readable=[batch.chapter_values.parent, answers_dir.parent.parent],
        hidden=list(batch.hidden),
        environment=base_environment(verdict_dir / "home"),
        limits=replace(batch.limits, wall_seconds=VERDICT_TIMEOUT),
        log=verdict_dir / "verdict.log",
        user=user,
    )
    try:
        verdict = json.loads((verdict_dir / "verdict.json").read_text())
    except (OSError, ValueError):
        verdict = {"exercises": {}, "notes": []}
    if outcome.timed_out:
        verdict["notes"].append(
            f"the checks ran longer than {VERDICT_TIMEOUT} s; unfinished ones score 0"
        )
    elif outcome.returncode != 0:
        verdict["notes"].append("the checks stopped with an error: see verdict.log")
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
    except InterruptedError:
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
    verdict = judge(
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


def _cell(text: str) -> str:
    """Text made safe for one cell of a Markdown table."""
    return re.sub(r"\s+", " ", text).replace("\\", "\\\\").replace("|", "\\|")[:1000]


def write_tables(grades: list[Grade], exercises: list[str], out_dir: Path) -> None:
    """scores.csv (one row per student, one column per exercise) and summary.md, each replaced atomically."""
    grades = sorted(grades, key=lambda grade: (grade.student, grade.folder))
    csv_path, summary_path = out_dir / "scores.csv", out_dir / "summary.md"
    with (out_dir / "scores.csv.partial").open("w", newline="", errors="replace") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["student", *exercises, "total", "out_of", "status", "seconds", "folder", "notes"]
        )
        for grade in grades:
            writer.writerow(
                [
                    grade.student,
                    *grade.scores.values(),
                    grade.total,
                    len(grade.scores),
                    grade.status,
                    f"{grade.seconds:.0f}",
                    grade.folder,
                    "; ".join(grade.notes),
                ]
            )
    lines = [
        "| student | " + " | ".join(exercises) + " | total | seconds | status |",
        "|---" * (len(exercises) + 4) + "|",
    ]
    for grade in grades:
        marks = " | ".join("✓" if score else "✗" for score in grade.scores.values())
        status = _cell(grade.status + "".join(f"; {note}" for note in grade.notes))
        lines.append(
            f"| {_cell(grade.student)} | {marks} | {grade.total}/{len(grade.scores)} | "
            f"{grade.seconds:.0f} | {status} |"
        )
    (out_dir / "summary.md.partial").write_text("\n".join(lines) + "\n", errors="replace")
    os.replace(out_dir / "scores.csv.partial", csv_path)
    os.replace(out_dir / "summary.md.partial", summary_path)


def reference_failures(notebook, report: Path) -> str:
    """What failed in the reference run, cell by cell (first line and nbval's message), or '' when all passed."""
    try:
        failed = failed_cells(report)
    except UnreadableReport as problem:
        return str(problem)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    described = []
    for number, message in failed.items():
        known = number.isdigit() and int(number) < len(code_cells)
        first_line = (
            code_cells[int(number)].source.strip().partition("\n")[0][:60] if known else "?"
        )
        described.append(f"code cell {number} ({first_line!r}): {_cell(message)[:300]}")
    return "; ".join(described)


def module_copy(run_dir: Path, module: str) -> Path:
    """Where a reference run keeps its copy of a check module, which the verdicts load."""
    return run_dir / f"{module}.py"


def reference_run(batch: Batch) -> Batch:
    """Run the chapter with its own solutions, keep the values its checks read, and check it scores full marks.

    A passing reference run in out_dir whose fingerprint matches (same chapter, check modules, course code,
    packages, data) is reused.
    """
    found = checks(batch.chapter).values()
    chapter_values = sorted({name for check in found for name in check.chapter_values})
    work, stamp = batch.out_dir / "reference", fingerprint(batch.chapter_path, batch.module_files)
    run_dir = work / "run"
    values_path = run_dir / "chapter_values.pkl"
    if (work / "fingerprint").is_file() and (work / "fingerprint").read_text() == stamp:
        print(
            f"reference run of {batch.name}: reused from {work} (same chapter, code, packages and data; "
            "delete that folder to run it again)",
            flush=True,
        )
        return replace(batch, chapter_values=values_path)
    shutil.rmtree(work, ignore_errors=True)
    batch.state_dir.mkdir(parents=True)
    notebook = graded_notebook(batch.chapter, code_by_exercise(batch.chapter, SOLUTION), run_dir)
    notebook = with_state_saved(with_chapter_outputs(notebook, batch.chapter), batch.state_dir)
    notebook.cells.append(
        nbformat.v4.new_code_cell(
            f'__import__("grading.reference").reference.save_values('
            f"globals(), {chapter_values!r}, {str(values_path)!r})"
        )
    )
    print(f"reference run of {batch.name} (the chapter with its own solutions) ...", flush=True)
    outcome = execute(notebook, run_dir, batch, contained=False)
    failures = reference_failures(notebook, run_dir / "report.xml")
    if failures or not values_path.exists():
        raise GradingError(
            f"the reference run of {batch.chapter_path} failed ({failures or 'no values saved'}; "
            f"see {work / 'nbval.log'}): run the chapter itself (make chapters) and fix what fails "
            "before grading"
        )
    # the verdicts load the check modules from copies in the run folder, where their sandbox can see them and
    # with which they travel to a cluster's workers
    for module, path in {check.module: check.module_file for check in found}.items():
        shutil.copyfile(path, module_copy(run_dir, module))
    batch = replace(batch, chapter_values=values_path)
    verdict = judge(
        run_dir / "answers",
        run_dir / "report.xml",
        answer_cell_numbers(notebook),
        work / "verdict",
        batch,
    )
    failed = {
        exercise: result.get("message")
        for exercise, result in verdict["exercises"].items()
        if not result.get("passed")
    }
    if failed or len(verdict["exercises"]) != len(batch.exercises):
        raise GradingError(
            f"the chapter's own solutions do not pass its checks ({failed or verdict['notes']}); "
            f"see {work}: grading would be unfair"
        )
    # written last: only a complete, passing reference run is reused
    (work / "fingerprint").write_text(stamp)
    print(
        f"reference run: {outcome.seconds:.0f} s, its solutions pass all {len(batch.exercises)} checks",
        flush=True,
    )
    return batch


def student_names(paths: list[Path]) -> list[str]:
    """Each submission's name in the table: its file name without .ipynb, numbered where two would be equal."""
    names, seen = [], {}
    for path in paths:
        name = _utf8(path.name.removesuffix(".ipynb"))
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


def _user_of(index: int) -> int:
    """The unprivileged user a submission runs as: its own, so that concurrent runs never share a process limit."""
    return FIRST_GRADING_USER + index % 500


def _on_threads(tasks: list[tuple[int, Path, str]], batch: Batch, jobs: int) -> Iterator[Grade]:
    """Grade submissions on this machine, jobs at a time, yielding each grade as it comes."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [
            pool.submit(grade_submission, path, student, f"{index:04d}", batch, _user_of(index))
            for index, path, student in tasks
        ]
        try:
            for future in as_completed(futures):
                yield future.result()
        # interrupted (or closed early): stop the runs under way and start no other
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            stop_all()
            raise


def unpack_reference(reference: bytes, out_dir: Path) -> None:
    """Unpack the reference run's folder into out_dir, unless it is there; whole or not at all."""
    if (out_dir / "reference").exists():
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir))
    with tarfile.open(fileobj=io.BytesIO(reference)) as archive:
        archive.extractall(staging, filter="tar")
    with contextlib.suppress(OSError):  # another worker on this machine unpacked it first
        os.rename(staging / "reference", out_dir / "reference")
    shutil.rmtree(staging, ignore_errors=True)


def _grade_on_worker(
    reference: bytes, batch: Batch, index: int, student: str, submission: bytes
) -> Grade:
    """On a Dask worker: unpack the reference run where the batch expects it, unless it is there, and grade.

    The worker's threads are the submissions it grades side by side: they share its machine's cores.
    """
    from dask.distributed import get_worker

    batch = replace(batch, threads=threads_per_job(get_worker().state.nthreads))
    unpack_reference(reference, batch.out_dir)
    received = batch.out_dir / "received" / f"{index:04d}.ipynb"
    received.parent.mkdir(parents=True, exist_ok=True)
    received.write_bytes(submission)
    return grade_submission(received, student, f"{index:04d}", batch, _user_of(index))


def _on_cluster(
    scheduler: str, tasks: list[tuple[int, Path, str]], batch: Batch
) -> Iterator[Grade]:
    """Grade submissions on a Dask cluster: the reference run travels once to every worker, submissions as bytes."""
    # only needed by those who use a cluster
    from dask.distributed import Client
    from dask.distributed import (
        as_completed as completed,
    )

    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        tar.add(batch.out_dir / "reference", arcname="reference")
    with Client(scheduler) as client:
        reference = client.scatter(archive.getvalue(), broadcast=True)
        futures = []
        for index, path, student in tasks:
            try:
                submitted_answers(path, batch.name, batch.exercises)
            except Unusable as problem:  # nothing to run: no need to send it anywhere
                yield Grade(
                    student, dict.fromkeys(batch.exercises, 0), str(problem), folder=f"{index:04d}"
                )
                continue
            futures.append(
                client.submit(
                    _grade_on_worker,
                    reference,
                    batch,
                    index,
                    student,
                    path.read_bytes(),
                    pure=False,
                )
            )
        try:
            for future in completed(futures):
                yield future.result()
        except BaseException:  # interrupted: what has not started never will
            client.cancel(futures)
            raise


def grade_folder(
    submissions: Path,
    chapter_path: Path,
    out_dir: Path,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    limits: Limits = Limits(),
    cell_timeout: int = CELL_TIMEOUT,
) -> list[Grade]:
    """Grade every file of a folder against one chapter, here or on a Dask cluster; tables follow the grades."""
    submissions, chapter_path, out_dir = (
        submissions.resolve(),
        chapter_path.resolve(),
        out_dir.resolve(),
    )
    if not submissions.is_dir():
        raise GradingError(f"{submissions} is not a folder of submissions")
    chapter = nbformat.read(chapter_path, as_version=4)
    if not checks(chapter):
        raise GradingError(
            f"{chapter_path} has no check cells: grade against the chapter itself, not a student version"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    batch = Batch(
        chapter_path,
        chapter,
        chapter_name(chapter_path),
        out_dir,
        (submissions, out_dir),
        limits,
        cell_timeout,
        threads=threads_per_job(jobs),
    )
    batch = reference_run(batch)
    paths = sorted(path for path in submissions.iterdir() if not path.name.startswith("."))
    tasks = [
        (index, path, student)
        for index, (path, student) in enumerate(
            zip(paths, student_names(paths), strict=True), start=1
        )
    ]
    grades = []
    write_tables(grades, batch.exercises, out_dir)
    results = _on_cluster(scheduler, tasks, batch) if scheduler else _on_threads(tasks, batch, jobs)
    try:
        for grade in results:
            grades.append(grade)
            write_tables(grades, batch.exercises, out_dir)
            print(
                f"{grade.student}: {grade.total}/{len(grade.scores)} in {grade.seconds:.0f} s ({_utf8(grade.status)})",
                flush=True,
            )
    except KeyboardInterrupt:
        results.close()  # stops the runs under way
        raise GradingError(
            f"interrupted: the tables hold the {len(grades)} submissions graded so far"
        ) from None
    return grades


def main(arguments: list[str] | None = None) -> None:
    """Command line: python -m grading SUBMISSIONS --chapter CHAPTER.ipynb [--out GRADES] [--jobs N]."""
    parser = argparse.ArgumentParser(prog="python -m grading", description=main.__doc__)
    parser.add_argument("submissions", type=Path, help="folder of submitted student notebooks")
    parser.add_argument(
        "--chapter",
        type=Path,
        required=True,
        help="the reference chapter, e.g. notebooks/03_...ipynb",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("grades"), help="where scores and reports go"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="submissions graded side by side on this machine"
    )
    parser.add_argument(
        "--scheduler", help="a Dask scheduler's address (tcp://host:8786): grade on its workers"
    )
    parser.add_argument(
        "--cell-timeout", type=int, default=CELL_TIMEOUT, help="seconds for any one cell"
    )
    parser.add_argument(
        "--submission-timeout",
        type=int,
        default=SUBMISSION_TIMEOUT,
        help="seconds for one submission's whole notebook",
    )
    options = parser.parse_args(arguments)
    limits = Limits(
        wall_seconds=options.submission_timeout, cpu_seconds=2 * options.submission_timeout
    )
    try:
        grade_folder(
            options.submissions,
            options.chapter,
            options.out,
            jobs=options.jobs,
            scheduler=options.scheduler,
            limits=limits,
            cell_timeout=options.cell_timeout,
        )
    except GradingError as error:
        sys.exit(f"grading stopped: {error}")
    print(f"scores: {options.out / 'scores.csv'}, summary: {options.out / 'summary.md'}")
