"""Submissions in: a submitted file read as untrusted input, of which only the answer cells' text comes out."""

import json
import re
from pathlib import Path

from onnx_crossings.grading.exercises import ANSWER

NBVAL_MARKER = re.compile(r"^[ \t]*#[ \t]*NBVAL_\w*.*$", re.MULTILINE)
MAX_SUBMISSION_BYTES = 50_000_000
MAX_ANSWER_CHARACTERS = 200_000


class Unusable(ValueError):
    """A submission that cannot be graded; its message becomes the status in the table."""


def _text(value) -> str:
    """A notebook source as text (a string or a list of strings), anything else refused."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(line, str) for line in value):
        text = "".join(value)
    else:
        raise TypeError("cell source is neither text nor a list of lines")
    return utf8_safe(text)


def utf8_safe(text: str) -> str:
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


def student_names(paths: list[Path]) -> list[str]:
    """Each submission's name in the table: its file name without .ipynb, numbered where two would be equal."""
    names, seen = [], {}
    for path in paths:
        name = utf8_safe(path.name.removesuffix(".ipynb"))
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names
