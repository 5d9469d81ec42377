"""Grade a folder of submitted notebooks, here on threads or on a Dask cluster; each module does one step.

For one batch:
1. `reference_run`: the chapter with its own solutions runs, trusted, under nbval (stored outputs compared where
   the chapter asks, as `make test` does) and keeps the chapter values its checks read; any failure stops grading.
2. `submissions` reads each submitted file as untrusted input and takes only its answer cells' text out;
   `assembly` puts those answers into the reference chapter, each followed by a cell that exports it as plain
   data, leaves the check cells out and makes the chapter's long cells (training) load what they left in the
   reference run; `execution` runs that notebook with nbval inside the sandbox (`sandbox`), whose only writable
   place is the submission's own run folder.
3. `execution` then starts a separate, contained Python process (`verdict`) that runs the chapter's check
   functions, from the reference run's copies of their modules, on the exported answers and the reference
   values. No code of the submission runs in it.
`tables` rewrites scores.csv and summary.md as each submission finishes, so an interrupted batch keeps what it
graded; `python -m onnx_crossings.grading` (`__main__`) is the command line.
"""

import contextlib
import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path

import nbformat

from onnx_crossings.grading.execution import (
    CELL_TIMEOUT,
    Batch,
    Grade,
    GradingError,
    grade_submission,
    threads_per_job,
)
from onnx_crossings.grading.exercises import chapter_name, checks
from onnx_crossings.grading.reference_run import reference_run
from onnx_crossings.grading.sandbox import FIRST_GRADING_USER, Limits, stop_all
from onnx_crossings.grading.submissions import Unusable, student_names, submitted_answers, utf8_safe
from onnx_crossings.grading.tables import write_tables


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
                f"{grade.student}: {grade.total}/{len(grade.scores)} in {grade.seconds:.0f} s "
                f"({utf8_safe(grade.status)})",
                flush=True,
            )
    except KeyboardInterrupt:
        results.close()  # stops the runs under way
        raise GradingError(
            f"interrupted: the tables hold the {len(grades)} submissions graded so far"
        ) from None
    return grades
