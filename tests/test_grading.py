"""The grader gives the reference full marks, a blank sheet zero, and nothing to each way of gaming it."""

import copy

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers import grading
from helpers.exercises import (
    ANSWER,
    CHECK,
    SOLUTION,
    answer_sheet,
    chapter_name,
    code_by_exercise,
    exercise_of,
    student_path,
    student_version,
    tags,
)
from helpers.paths import REPO_ROOT

CHAPTER = "09_tiny"


def exercise_cells(name: str, solution: str, stub: str, check: str) -> list:
    """The prompt, solution and check cells of one exercise."""
    return [
        new_markdown_cell(f"Exercise {name}"),
        new_code_cell(solution, metadata={"tags": [SOLUTION], "exercise": name, "stub": stub}),
        new_code_cell(check, metadata={"tags": [CHECK], "exercise": name}),
    ]


@pytest.fixture(scope="module")
def chapter(tmp_path_factory):
    """A tiny chapter with two exercises, saved as notebooks/09_tiny.ipynb."""
    notebook = new_notebook(
        cells=[new_markdown_cell("# Tiny"), new_code_cell("import math\nvalues = [1.0, 2.0, 3.0]")]
        + exercise_cells("mean", "def mean(xs):\n    return sum(xs) / len(xs)", "def mean(xs):\n    ...",
                         "assert mean(values) == 2.0 and mean([5.0]) == 5.0")
        + exercise_cells("norm", "norm = math.sqrt(sum(v * v for v in values))", "norm = None",
                         "assert abs(norm - math.sqrt(14)) < 1e-12"),
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    path = tmp_path_factory.mktemp("course") / "notebooks" / f"{CHAPTER}.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook, path)
    return path


def answered(chapter_path, **answers):
    """The chapter's student version with some answer cells filled in."""
    student = student_version(nbformat.read(chapter_path, as_version=4), CHAPTER)
    for cell in student.cells:
        if ANSWER in tags(cell) and exercise_of(cell) in answers:
            cell.source = answers[exercise_of(cell)]
    return student


MEAN = "def mean(xs):\n    return sum(xs) / len(xs)"


def gamed_checks(student, change):
    """A student version whose check cells the student changed."""
    for cell in student.cells:
        if CHECK in tags(cell):
            change(cell)
    return student


def with_stored_outputs(chapter_path):
    """A blank sheet carrying the passing outputs and execution counts of someone else's run."""
    student = answered(chapter_path)
    for number, cell in enumerate(c for c in student.cells if c.cell_type == "code"):
        cell.execution_count = number + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ok\n")]
    return student


@pytest.fixture(scope="module")
def grades(chapter, tmp_path_factory):
    """Grade one folder holding every kind of submission."""
    folder = tmp_path_factory.mktemp("submissions")
    submissions = {
        "reference": answer_sheet(nbformat.read(chapter, as_version=4), CHAPTER),
        "blank": answered(chapter),
        "half": answered(chapter, mean=MEAN),
        "edits_checks": gamed_checks(answered(chapter), lambda cell: setattr(cell, "source", "assert True")),
        "deletes_checks": None,
        "skips_checks": gamed_checks(answered(chapter),
                                     lambda cell: setattr(cell, "source", "# NBVAL_SKIP\n" + cell.source)),
        "allows_errors": gamed_checks(answered(chapter), lambda cell: cell.metadata.update(tags=["raises-exception"])),
        "marks_answer": answered(chapter, mean="# NBVAL_RAISES_EXCEPTION\ndef mean(xs):\n    return 0",
                                 norm="# NBVAL_SKIP\nnorm = math.sqrt(14.0)"),
        "stored_outputs": with_stored_outputs(chapter),
        "raises": answered(chapter, mean=MEAN, norm="norm = 1 / 0"),
        "hangs": answered(chapter, mean=MEAN, norm="while True:\n    pass"),
        "exits": answered(chapter, mean=MEAN, norm="import os\nos._exit(1)"),
        "other_chapter": answer_sheet(nbformat.read(chapter, as_version=4), CHAPTER),
    }
    deleted = answered(chapter)
    deleted.cells = [cell for cell in deleted.cells if CHECK not in tags(cell)]
    submissions["deletes_checks"] = deleted
    submissions["other_chapter"].metadata["course"]["chapter"] = "01_mnist_pytorch_to_tensorflow"
    for name, notebook in submissions.items():
        nbformat.write(notebook, folder / f"{name}.ipynb")
    (folder / "not_json.ipynb").write_text("{ this is not a notebook")
    out = tmp_path_factory.mktemp("grades")
    results = grading.grade_folder(folder, chapter, out, cell_timeout=5, notebook_timeout=120)
    return {grade.student: grade for grade in results}, out


def test_reference_solutions_score_full_marks(grades):
    assert grades[0]["reference"].scores == {"mean": 1, "norm": 1}


def test_a_blank_student_version_scores_zero(grades):
    assert grades[0]["blank"].scores == {"mean": 0, "norm": 0} and grades[0]["blank"].status == "graded"


def test_partial_answers_score_per_exercise(grades):
    assert grades[0]["half"].scores == {"mean": 1, "norm": 0}


@pytest.mark.parametrize("student", ["edits_checks", "deletes_checks", "skips_checks", "allows_errors",
                                     "stored_outputs"])
def test_gaming_the_checks_scores_nothing(grades, student):
    assert grades[0][student].total == 0


def test_nbval_markers_in_answers_change_nothing(grades):
    assert grades[0]["marks_answer"].scores == {"mean": 0, "norm": 1}


def test_an_answer_that_raises_loses_only_its_exercise(grades):
    grade = grades[0]["raises"]
    assert grade.scores == {"mean": 1, "norm": 0}
    assert grade.notes == ["the answer to norm raised an error"]


@pytest.mark.parametrize("student", ["hangs", "exits"])
def test_hanging_or_exiting_answers_are_reported_and_the_rest_still_graded(grades, student):
    grade = grades[0][student]
    assert grade.scores == {"mean": 1, "norm": 0}
    assert any("did not finish in time" in note for note in grade.notes)
    assert grades[0]["reference"].total == 2  # graded after it, in the same folder


def test_broken_or_foreign_submissions_get_a_clear_line(grades):
    assert grades[0]["not_json"].status.startswith("not a readable notebook")
    assert grades[0]["other_chapter"].status == "answers 01_mnist_pytorch_to_tensorflow, not 09_tiny"
    assert grades[0]["other_chapter"].total == 0


def test_tables_list_every_student_and_reports_are_kept(grades):
    results, out = grades
    rows = (out / "scores.csv").read_text().splitlines()
    assert rows[0] == "student,mean,norm,total,out_of,status,notes"
    assert len(rows) == 1 + len(results)
    assert any(row.startswith("reference,1,1,2,2,graded") for row in rows)
    assert "| reference | ✓ | ✓ | 2/2 | graded |" in (out / "summary.md").read_text()
    assert (out / "reference" / "report.xml").exists() and (out / "reference" / "pytest.log").exists()


def test_answers_replace_solutions_and_checks_come_from_the_reference(chapter):
    reference = nbformat.read(chapter, as_version=4)
    submission = gamed_checks(answered(chapter), lambda cell: setattr(cell, "source", "assert True"))
    graded = grading.graded_notebook(reference, code_by_exercise(submission, ANSWER))
    checks = [cell.source for cell in graded.cells if CHECK in tags(cell)]
    assert checks == [cell.source for cell in reference.cells if CHECK in tags(cell)]
    assert [cell.source for cell in graded.cells if ANSWER in tags(cell)] == ["def mean(xs):\n    ...", "norm = None"]
    assert all(not cell.get("outputs") for cell in graded.cells)
    assert graded.cells[1].source == reference.cells[1].source  # the chapter's own cells come from the reference


def test_the_command_grades_real_submissions_of_a_real_chapter(tmp_path, capsys):
    chapter_path = REPO_ROOT / "notebooks" / "03_aapl_keras_to_scikit_learn.ipynb"  # the quickest chapter
    chapter = nbformat.read(chapter_path, as_version=4)
    name = chapter_name(chapter_path)
    untouched = nbformat.read(student_path(chapter_path), as_version=4)
    partial = answer_sheet(chapter, name)
    for cell in partial.cells:
        if ANSWER in tags(cell) and exercise_of(cell) != "ch3-mape":
            cell.source = ""
    gaming = gamed_checks(copy.deepcopy(untouched), lambda cell: setattr(cell, "source", "# NBVAL_SKIP\nassert True"))
    folder = tmp_path / "inbox"
    folder.mkdir()
    for student, notebook in (("reference", answer_sheet(chapter, name)), ("untouched", untouched),
                              ("partial", partial), ("gaming", gaming)):
        nbformat.write(notebook, folder / f"{student}.ipynb")
    grading.main([str(folder), "--chapter", str(chapter_path), "--out", str(tmp_path / "grades")])
    rows = {row.split(",")[0]: row.split(",") for row in (tmp_path / "grades" / "scores.csv").read_text().splitlines()}
    exercises_count = len(rows["student"]) - 5
    assert exercises_count >= 3
    assert rows["reference"][1 + exercises_count] == str(exercises_count)  # total: full marks
    assert rows["untouched"][1 + exercises_count] == "0" and rows["gaming"][1 + exercises_count] == "0"
    assert rows["partial"][1 + exercises_count] == "1"
    assert "scores:" in capsys.readouterr().out
