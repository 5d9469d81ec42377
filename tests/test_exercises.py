"""Student versions are generated from the chapters, keep every check, and never fall out of date."""

import ast

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grading.exercises import (
    ANSWER,
    CHECK,
    SOLUTION,
    answer_sheet,
    chapter_name,
    checks,
    code_by_exercise,
    exercise_of,
    exercises,
    reused_names,
    student_path,
    student_version,
    tags,
)
from helpers.paths import REPO_ROOT

CHAPTERS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))


def tiny_chapter():
    """One exercise: a prompt, gated solution markdown around a solution cell with a stub, and a check."""
    gate = {"tags": [SOLUTION], "exercise": "double"}
    solution = new_code_cell(
        "def double(x):\n    return 2 * x", metadata=gate | {"stub": "def double(x):\n    ..."}
    )
    solution.outputs = [nbformat.v4.new_output("stream", name="stdout", text="stored\n")]
    return new_notebook(
        cells=[
            new_code_cell("x = 1", execution_count=1),
            new_markdown_cell(":::{exercise} Double it\n:label: double\n:::"),
            new_markdown_cell("```{solution-start} double\n```", metadata=gate),
            solution,
            new_markdown_cell("```{solution-end}\n```", metadata=gate),
            new_code_cell(
                "assert double(2) == 4", metadata={"tags": [CHECK], "exercise": "double"}
            ),
        ]
    )


def test_student_version_swaps_solutions_for_stubs_and_keeps_checks():
    student = student_version(tiny_chapter(), "09_tiny")
    sources = [cell.source for cell in student.cells]
    assert sources == [
        "x = 1",
        ":::{exercise} Double it\n:label: double\n:::",
        "def double(x):\n    ...",
        "assert double(2) == 4",
    ]
    answer = student.cells[2]
    assert (
        tags(answer) == [ANSWER]
        and answer.metadata["exercise"] == "double"
        and answer.id == "answer-double"
    )
    assert all(
        not cell.get("outputs") and cell.get("execution_count") is None
        for cell in student.cells
        if cell.cell_type == "code"
    )
    assert student.metadata["course"] == {"chapter": "09_tiny", "version": "student"}


def test_answer_sheet_holds_the_solutions():
    sheet = answer_sheet(tiny_chapter(), "09_tiny")
    assert [cell.source for cell in sheet.cells if ANSWER in tags(cell)] == [
        "def double(x):\n    return 2 * x"
    ]


def test_code_by_exercise_joins_an_exercises_cells_of_one_tag_in_order():
    chapter = tiny_chapter()
    chapter.cells.insert(
        4, new_code_cell("print(double(3))", metadata={"tags": [SOLUTION], "exercise": "double"})
    )
    assert code_by_exercise(chapter, SOLUTION) == {
        "double": "def double(x):\n    return 2 * x\n\nprint(double(3))"
    }
    assert code_by_exercise(chapter, CHECK) == {"double": "assert double(2) == 4"}
    assert code_by_exercise(chapter, ANSWER) == {}


def test_a_check_without_a_stubbed_solution_is_an_error():
    chapter = tiny_chapter()
    chapter.cells = [cell for cell in chapter.cells if SOLUTION not in tags(cell)]
    with pytest.raises(ValueError, match=r"\['double'\] have checks but no solution"):
        student_version(chapter, "09_tiny")


@pytest.mark.parametrize("chapter_path", CHAPTERS, ids=lambda path: path.stem)
def test_committed_student_version_is_up_to_date(chapter_path):
    generated = student_version(
        nbformat.read(chapter_path, as_version=4), chapter_name(chapter_path)
    )
    committed = student_path(chapter_path)
    assert committed.exists(), f"no student version of {chapter_path.name}: run `make students`"
    assert committed.read_text() == nbformat.writes(generated) + "\n", (
        f"{committed} is out of date with {chapter_path.name}: run `make students` and commit"
    )


@pytest.mark.parametrize("chapter_path", CHAPTERS, ids=lambda path: path.stem)
def test_each_exercise_has_a_prompt_a_solution_and_a_check(chapter_path):
    chapter = nbformat.read(chapter_path, as_version=4)
    names = exercises(chapter)
    assert 3 <= len(names) <= 5, f"{chapter_path.name} has {len(names)} exercises"
    for name in names:
        assert any(
            cell.cell_type == "markdown"
            and ":::{exercise}" in cell.source
            and f":label: {name}" in cell.source
            for cell in chapter.cells
        ), f"{name} has no exercise prompt"
        roles = [tags(cell) for cell in chapter.cells if exercise_of(cell) == name]
        assert [SOLUTION] in roles and [CHECK] in roles, name


@pytest.mark.parametrize("chapter_path", CHAPTERS, ids=lambda path: path.stem)
def test_every_check_is_a_function_of_its_answers_and_chapter_values(chapter_path):
    found = checks(nbformat.read(chapter_path, as_version=4))
    assert list(found) == exercises(nbformat.read(chapter_path, as_version=4))
    for check in found.values():
        assert check.answers and check.chapter_values, check.exercise


@pytest.mark.parametrize(
    "stub, source, problem",
    [
        ("doubled = None", "assert doubled == 4", "must hold one function decorated with @check"),
        (
            "doubled = None",
            "@check\ndef f(doubled):\n    return 'ok'\nprint(1)",
            "must hold one function decorated",
        ),
        (
            "doubled = None",
            "@check\ndef f(x):\n    return 'ok'",
            r"must take every answer its stub names; missing: \['doubled'\]",
        ),
        ("def double(x):\n    ...", "@check\ndef f(double):\n    return 'ok'", "assigns no answer"),
    ],
)
def test_a_check_that_the_grader_cannot_call_apart_is_an_error(stub, source, problem):
    chapter = tiny_chapter()
    chapter.cells[3].metadata["stub"] = stub
    chapter.cells[-1].source = source
    with pytest.raises(ValueError, match=problem):
        checks(chapter)


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell binds, names it reads): assignments, imports, parameters, defs; and loads."""
    bound, read = set(), set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store | ast.Del) else read).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
    return bound, read


def unlisted_reused_names(notebook) -> list[str]:
    """Names a reused cell binds but does not list that a later cell grading runs reads: lost to it."""
    lost, problems = {}, []
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        source = "\n".join(
            line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        bound, read = _names(source)
        needed = set() if reused_names(cell) else read  # a reused cell does not run when grading
        for name in sorted((needed - bound) & set(lost)):
            problems.append(
                f"cell {number} reads {name}, which reused cell {lost[name]} does not list"
            )
        for name in bound:
            lost.pop(name, None)
        if reused_names(cell):
            lost |= {name: number for name in bound - set(reused_names(cell))}
    return problems


def test_a_reused_cell_that_drops_a_name_a_later_cell_reads_is_found():
    chapter = new_notebook(
        cells=[
            new_code_cell(
                "SIZE = 3\nmodel = train(SIZE)", metadata={"grading": {"reuse": ["model"]}}
            ),
            new_code_cell("started = 0\nprint(started, model)"),
            # reused too, so grading never runs it: what it reads is not needed
            new_code_cell("score = model(SIZE)", metadata={"grading": {"reuse": ["score"]}}),
            new_code_cell("print(model(SIZE), score)"),
        ]
    )
    assert unlisted_reused_names(chapter) == [
        "cell 3 reads SIZE, which reused cell 0 does not list"
    ]


@pytest.mark.parametrize("chapter_path", CHAPTERS, ids=lambda path: path.stem)
def test_reused_cells_list_every_name_later_cells_read(chapter_path):
    assert unlisted_reused_names(nbformat.read(chapter_path, as_version=4)) == []
