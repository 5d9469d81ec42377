"""The notebooks a batch runs: the chapter with a submission's answers, each exported after it, or its solutions."""

import copy
from pathlib import Path

import nbformat

from onnx_crossings.grading.exercises import (
    ANSWER,
    CHECK,
    checks,
    exercise_of,
    reused_names,
    tags,
    with_answers,
)


def _export_cell(exercise: str, names: tuple[str, ...], run_dir: Path):
    """A cell that exports an exercise's answers from the kernel as plain data."""
    values = "{" + ", ".join(f"{name!r}: globals().get({name!r})" for name in names) + "}"
    return nbformat.v4.new_code_cell(
        f'__import__("importlib").import_module("onnx_crossings.grading.answers").export_answers('
        f"{values}, {str(run_dir / 'answers' / exercise)!r}, {str(run_dir)!r})",
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
                    f'__import__("importlib").import_module("onnx_crossings.grading.reference_values").save_values('
                    f"globals(), {reused_names(cell)!r}, {_state_file(state_dir, cell)!r})"
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
                f'globals().update(__import__("importlib").import_module("onnx_crossings.grading.reference_values").load_values('
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
