"""Grade a folder of submitted student notebooks with nbval, using the reference chapter's own check cells.

Only the students' answer cells are taken from a submission. Everything else, the check cells included, comes
from the reference chapter, without stored outputs and with nbval markers removed from the answers, so a
submission cannot weaken, skip or pre-fill a check.
"""

import argparse
import csv
import os
import re
import signal
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from helpers.exercises import ANSWER, CHECK, chapter_name, code_by_exercise, exercise_of, exercises, tags, with_answers

NBVAL_MARKER = re.compile(r"^[ \t]*#[ \t]*NBVAL_\w*.*$", re.MULTILINE)
CELL_TIMEOUT = 900  # seconds for any one cell; chapter 2's training cell needs about 15 minutes
NOTEBOOK_TIMEOUT = 3 * 3600


@dataclass
class Grade:
    """One submission's result: a score per exercise, and what went wrong, if anything."""

    student: str
    scores: dict[str, int]
    status: str = "graded"
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Exercises passed."""
        return sum(self.scores.values())


def graded_notebook(reference, answers: dict[str, str]):
    """The reference chapter with each exercise's solution replaced by the student's answer, without nbval markers."""
    return with_answers(reference, {exercise: NBVAL_MARKER.sub("", source) for exercise, source in answers.items()})


def cell_outcomes(junit_xml: Path) -> dict[int, tuple[str, str]]:
    """Outcome ("passed", "failed" or "skipped") and message of each code cell, from nbval's JUnit report."""
    outcomes = {}
    for case in ElementTree.parse(junit_xml).iter("testcase"):
        number = int(case.get("name").removeprefix("Cell "))
        problem = next(iter(case), None)
        if problem is None:
            outcomes[number] = ("passed", "")
        else:
            kind = "skipped" if problem.tag == "skipped" else "failed"
            outcomes[number] = (kind, problem.get("message", ""))
    return outcomes


def run_nbval(notebook_path: Path, cell_timeout: int, notebook_timeout: int) -> tuple[Path, str]:
    """Run nbval on one notebook in its own folder; return the JUnit report's path and the log."""
    folder = notebook_path.parent
    junit_xml = folder / "report.xml"
    command = [
        sys.executable, "-m", "pytest", notebook_path.name, "-c", os.devnull, "--rootdir", str(folder),
        "-p", "no:cacheprovider", "--nbval-lax", f"--nbval-cell-timeout={cell_timeout}", f"--junitxml={junit_xml}",
    ]
    environment = os.environ | {"COURSE_OUTPUT_DIR": str(folder / "output")}
    process = subprocess.Popen(command, cwd=folder, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        log, _ = process.communicate(timeout=notebook_timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        log, _ = process.communicate()
        log += f"\nstopped: the notebook ran longer than {notebook_timeout} s\n"
    (folder / "pytest.log").write_text(log)
    return junit_xml, log


def _notes(code_cells, outcomes: dict[int, tuple[str, str]]) -> list[str]:
    """Short explanations of answers that failed and of cells that hung."""
    notes = []
    for number, (kind, message) in sorted(outcomes.items()):
        cell = code_cells[number]
        if "Timeout of" in message:
            notes.append(f"cell {number} did not finish in time; the cells after it were not run")
            break
        if kind == "failed" and ANSWER in tags(cell):
            notes.append(f"the answer to {exercise_of(cell)} raised an error")
    return notes


def grade_submission(path: Path, reference, chapter: str, work_dir: Path,
                     cell_timeout: int = CELL_TIMEOUT, notebook_timeout: int = NOTEBOOK_TIMEOUT) -> Grade:
    """Grade one submitted notebook; problems with the file become its status, never an exception."""
    zero = dict.fromkeys(exercises(reference), 0)
    student = path.stem
    try:
        submission = nbformat.read(path, as_version=4)
    except Exception as error:  # any unreadable file is reported in the table, whatever the reason
        return Grade(student, zero, f"not a readable notebook ({type(error).__name__})")
    submitted_for = submission.metadata.get("course", {}).get("chapter")
    if submitted_for != chapter:
        found = f"answers {submitted_for}" if submitted_for else "is not a student version of any chapter"
        return Grade(student, zero, f"{found}, not {chapter}")
    work_dir.mkdir(parents=True, exist_ok=True)
    graded = graded_notebook(reference, code_by_exercise(submission, ANSWER))
    notebook_path = work_dir / f"{chapter}.ipynb"
    nbformat.write(graded, notebook_path)
    junit_xml, _ = run_nbval(notebook_path, cell_timeout, notebook_timeout)
    if not junit_xml.exists():
        return Grade(student, zero, "nbval did not run: see pytest.log")
    outcomes = cell_outcomes(junit_xml)
    code_cells = [cell for cell in graded.cells if cell.cell_type == "code"]
    scores = dict(zero)
    for exercise in scores:
        checks = [n for n, cell in enumerate(code_cells) if CHECK in tags(cell) and exercise_of(cell) == exercise]
        scores[exercise] = int(all(outcomes.get(n, ("missing", ""))[0] == "passed" for n in checks))
    return Grade(student, scores, notes=_notes(code_cells, outcomes))


def write_tables(grades: list[Grade], out_dir: Path) -> tuple[Path, Path]:
    """scores.csv (one row per student, one column per exercise) and summary.md, a readable version."""
    exercise_names = list(grades[0].scores) if grades else []
    csv_path, summary_path = out_dir / "scores.csv", out_dir / "summary.md"
    with csv_path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["student", *exercise_names, "total", "out_of", "status", "notes"])
        for grade in grades:
            writer.writerow([grade.student, *grade.scores.values(), grade.total, len(grade.scores),
                             grade.status, "; ".join(grade.notes)])
    lines = ["| student | " + " | ".join(exercise_names) + " | total | status |",
             "|---" * (len(exercise_names) + 3) + "|"]
    for grade in grades:
        marks = " | ".join("✓" if score else "✗" for score in grade.scores.values())
        status = grade.status + "".join(f"; {note}" for note in grade.notes)
        lines.append(f"| {grade.student} | {marks} | {grade.total}/{len(grade.scores)} | {status} |")
    summary_path.write_text("\n".join(lines) + "\n")
    return csv_path, summary_path


def grade_folder(submissions: Path, chapter_path: Path, out_dir: Path, *,
                 cell_timeout: int = CELL_TIMEOUT, notebook_timeout: int = NOTEBOOK_TIMEOUT) -> list[Grade]:
    """Grade every .ipynb in a folder against one chapter; reports go to out_dir/<student>/."""
    reference = nbformat.read(chapter_path, as_version=4)
    chapter = chapter_name(chapter_path)
    if not exercises(reference):
        raise ValueError(f"{chapter_path} has no check cells: grade against the chapter itself, not a student version")
    grades = []
    for path in sorted(Path(submissions).glob("*.ipynb")):
        grade = grade_submission(path, reference, chapter, out_dir / path.stem, cell_timeout, notebook_timeout)
        print(f"{grade.student}: {grade.total}/{len(grade.scores)} ({grade.status})", flush=True)
        grades.append(grade)
    write_tables(grades, out_dir)
    return grades


def main(arguments: list[str] | None = None) -> None:
    """Command line: python -m helpers.grading SUBMISSIONS --chapter CHAPTER.ipynb --out GRADES."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("submissions", type=Path, help="folder of submitted student notebooks (.ipynb)")
    parser.add_argument("--chapter", type=Path, required=True, help="the reference chapter, e.g. notebooks/03_...ipynb")
    parser.add_argument("--out", type=Path, default=Path("grades"), help="where scores and reports go")
    parser.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT)
    parser.add_argument("--notebook-timeout", type=int, default=NOTEBOOK_TIMEOUT)
    options = parser.parse_args(arguments)
    options.out.mkdir(parents=True, exist_ok=True)
    grade_folder(options.submissions, options.chapter, options.out,
                 cell_timeout=options.cell_timeout, notebook_timeout=options.notebook_timeout)
    print(f"scores: {options.out / 'scores.csv'}, summary: {options.out / 'summary.md'}")


if __name__ == "__main__":
    main()
