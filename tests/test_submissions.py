"""What a submitted file may hold reaches the grader only as answer text: every other shape is refused or noted."""

import json
import os

import pytest

from onnx_crossings.grading import submissions
from onnx_crossings.grading.exercises import ANSWER
from onnx_crossings.grading.submissions import Unusable, student_names, submitted_answers

CHAPTER, EXERCISES = "09_tiny", ["mean", "norm"]


def answer(exercise, source, cell_type="code"):
    """An answer cell as a student version holds it."""
    return {
        "cell_type": cell_type,
        "metadata": {"tags": [ANSWER], "exercise": exercise},
        "source": source,
    }


def submission(tmp_path, cells, chapter=CHAPTER, name="student.ipynb"):
    """A notebook file submitted for a chapter."""
    path = tmp_path / name
    path.write_text(json.dumps({"metadata": {"course": {"chapter": chapter}}, "cells": cells}))
    return path


def refusal(path):
    """The status a refused submission gets."""
    with pytest.raises(Unusable) as refused:
        submitted_answers(path, CHAPTER, EXERCISES)
    return str(refused.value)


def test_a_good_submission_gives_its_answers(tmp_path):
    path = submission(
        tmp_path, [answer("mean", "# NBVAL_SKIP\nm = 1"), answer("norm", ["n = ", "2"])]
    )
    answers, notes = submitted_answers(path, CHAPTER, EXERCISES)
    assert answers == {"mean": "\nm = 1", "norm": "n = 2"} and notes == []


def test_two_cells_for_one_exercise_are_joined_and_markdown_is_ignored(tmp_path):
    cells = [
        answer("mean", "a = 1"),
        answer("mean", "b = 2"),
        answer("norm", "x", cell_type="markdown"),
    ]
    answers, _ = submitted_answers(submission(tmp_path, cells), CHAPTER, EXERCISES)
    assert answers == {"mean": "a = 1\n\nb = 2"}


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"{not json", "not a readable notebook (JSONDecodeError)"),
        (b"[" * 100_000 + b"]" * 100_000, "not a readable notebook (RecursionError)"),
        (b"[]", "not a notebook (no list of cells)"),
        (b'{"cells": {}}', "not a notebook (no list of cells)"),
        (b'{"cells": []}', "is not a student version of any chapter, not 09_tiny"),
        (
            b'{"cells": [], "metadata": {"course": {"chapter": 3}}}',
            "is not a student version of any chapter",
        ),
        (
            b'{"cells": [], "metadata": {"course": {"chapter": "03_aapl"}}}',
            "answers '03_aapl', not 09_tiny",
        ),
    ],
)
def test_malformed_notebooks_are_refused_with_a_status(tmp_path, content, status):
    path = tmp_path / "student.ipynb"
    path.write_bytes(content)
    assert refusal(path).startswith(status)


def test_links_folders_and_huge_files_are_refused_before_reading(tmp_path, monkeypatch):
    target = submission(tmp_path, [])
    (tmp_path / "link.ipynb").symlink_to(target)
    (tmp_path / "folder.ipynb").mkdir()
    assert refusal(tmp_path / "link.ipynb") == "not a regular file"
    assert refusal(tmp_path / "folder.ipynb") == "not a regular file"
    monkeypatch.setattr(submissions, "MAX_SUBMISSION_BYTES", 10)
    assert refusal(target).startswith("larger than")


def test_odd_cells_are_noted_not_run(tmp_path, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_ANSWER_CHARACTERS", 20)
    cells = [
        answer("__import__('os')", "x = 1"),
        answer("mean", 42),
        answer("norm", "y = 0  # " + "long" * 10),
        "not a cell",
        {"cell_type": "code", "metadata": {"tags": "answer"}, "source": "z = 1"},
    ]
    answers, notes = submitted_answers(submission(tmp_path, cells), CHAPTER, EXERCISES)
    assert answers == {"norm": ""}
    assert notes == [
        "an answer cell for an unknown exercise (\"__import__('os')\") was ignored",
        "an answer to mean was ignored: cell source is neither text nor a list of lines",
        "the answer to norm is longer than 20 characters; not run",
    ]


def test_lone_surrogates_become_question_marks(tmp_path):
    path = tmp_path / "student.ipynb"
    text = json.dumps(
        {"metadata": {"course": {"chapter": CHAPTER}}, "cells": [answer("mean", "s = 'x'")]}
    )
    path.write_text(text.replace("'x'", "'\\ud800'"))
    answers, _ = submitted_answers(path, CHAPTER, EXERCISES)
    assert answers == {"mean": "s = '?'"}


def test_hostile_file_names_become_distinct_printable_student_names(tmp_path):
    raw = [b"ann.ipynb", b"ann.ipynb.ipynb", b"b\xffd.ipynb", b"new\nline | pipe.ipynb"]
    paths = [tmp_path / os.fsdecode(name) for name in raw]
    paths.insert(1, paths[0])  # the same name twice, as from two folders
    names = student_names(paths)
    assert names == ["ann", "ann (2)", "ann.ipynb", "b?d", "new\nline | pipe"]
    assert all(name.encode("utf-8") for name in names)
