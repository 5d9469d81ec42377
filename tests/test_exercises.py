"""Student versions are generated from the chapters, keep every check, and never fall out of date."""

import ast
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from onnx_crossings.grading.exercises import (
    ANSWER,
    CHECK,
    SOLUTION,
    Check,
    answer_sheet,
    chapter_name,
    checks,
    code_by_exercise,
    exercise_of,
    exercises,
    named_check,
    reused_names,
    student_path,
    student_version,
    tags,
)
from onnx_crossings.plumbing.paths import REPO_ROOT

CHAPTERS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
STUDENT_VERSIONS = sorted((REPO_ROOT / "students").glob("*.ipynb"))
TINY_CHECKS = """def doubled_twice(doubled, x):
    assert doubled == 2 * x, "twice x"
    return "doubled"


def takes_x(x):
    return "x"


def outer():
    def inner(doubled):
        return "doubled"
"""
IMPORTS = "from onnx_crossings.checks import check\n\nimport tiny_checks as checks\n\nx = 1"


@pytest.fixture
def tiny_checks(tmp_path, monkeypatch):
    """The tiny chapter's check module, importable for one test; a copy in a package (tiny_course.checks) too."""
    path = tmp_path / "tiny_checks.py"
    path.write_text(TINY_CHECKS)
    (tmp_path / "tiny_course").mkdir()
    (tmp_path / "tiny_course" / "__init__.py").write_text("")
    (tmp_path / "tiny_course" / "checks.py").write_text(TINY_CHECKS)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield path
    sys.modules.pop("tiny_course", None)  # finding tiny_course.checks imported its package


def tiny_chapter():
    """One exercise: a prompt, gated solution markdown around a solution cell with a stub, and a check."""
    gate = {"tags": [SOLUTION], "exercise": "double"}
    solution = new_code_cell("doubled = 2 * x", metadata=gate | {"stub": "doubled = None"})
    solution.outputs = [nbformat.v4.new_output("stream", name="stdout", text="stored\n")]
    return new_notebook(
        cells=[
            new_code_cell(IMPORTS, execution_count=1),
            new_markdown_cell(":::{exercise} Double it\n:label: double\n:::"),
            new_markdown_cell("```{solution-start} double\n```", metadata=gate),
            solution,
            new_markdown_cell("```{solution-end}\n```", metadata=gate),
            new_code_cell(
                "check(checks.doubled_twice)", metadata={"tags": [CHECK], "exercise": "double"}
            ),
        ]
    )


def test_student_version_swaps_solutions_for_stubs_and_keeps_checks():
    student = student_version(tiny_chapter(), "09_tiny")
    sources = [cell.source for cell in student.cells]
    assert sources == [
        IMPORTS,
        ":::{exercise} Double it\n:label: double\n:::",
        "doubled = None",
        "check(checks.doubled_twice)",
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
    assert [cell.source for cell in sheet.cells if ANSWER in tags(cell)] == ["doubled = 2 * x"]


def test_code_by_exercise_joins_an_exercises_cells_of_one_tag_in_order():
    chapter = tiny_chapter()
    chapter.cells.insert(
        4, new_code_cell("print(doubled)", metadata={"tags": [SOLUTION], "exercise": "double"})
    )
    assert code_by_exercise(chapter, SOLUTION) == {"double": "doubled = 2 * x\n\nprint(doubled)"}
    assert code_by_exercise(chapter, CHECK) == {"double": "check(checks.doubled_twice)"}
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


def test_a_check_names_its_module_function_and_parameters(tiny_checks):
    assert checks(tiny_chapter()) == {
        "double": Check("double", "tiny_checks", "doubled_twice", tiny_checks, ("doubled",), ("x",))
    }


@pytest.mark.parametrize(
    "imports, call, module",
    [
        ("import tiny_checks as checks", "check(checks.doubled_twice)", "tiny_checks"),
        ("import tiny_checks", "check(tiny_checks.doubled_twice)", "tiny_checks"),
        ("from tiny_course import checks", "check(checks.doubled_twice)", "tiny_course.checks"),
        ("import tiny_course.checks as c", "check(c.doubled_twice)", "tiny_course.checks"),
        # the last import that binds the name wins
        (
            "import tiny_checks as checks\nfrom tiny_course import checks",
            "check(checks.doubled_twice)",
            "tiny_course.checks",
        ),
    ],
)
def test_the_check_module_is_the_one_an_import_binds_to_that_name(
    tiny_checks, imports, call, module
):
    chapter = tiny_chapter()
    chapter.cells[0].source = imports
    chapter.cells[-1].source = call
    found = checks(chapter)["double"]
    assert found.module == module
    assert found.module_file == tiny_checks.parent.joinpath(*module.split(".")).with_suffix(".py")


@pytest.mark.parametrize(
    "stub, imports, source, problem",
    [
        ("doubled = None", IMPORTS, "assert doubled == 4", r"must be one call, check\(<module>\."),
        ("doubled = None", IMPORTS, "check(checks.doubled_twice)\nprint(1)", "must be one call"),
        ("doubled = None", IMPORTS, "check(doubled_twice)", "must be one call"),
        ("doubled = None", IMPORTS, "check(checks.doubled_twice, x)", "must be one call"),
        (
            "doubled = None",
            "x = 1",
            "check(checks.doubled_twice)",
            "no import .* binds checks",
        ),
        (
            "doubled = None",
            "import no_such_checks as checks",
            "check(checks.doubled_twice)",
            "no_such_checks, is not",
        ),
        ("doubled = None", "import sys as checks", "check(checks.doubled_twice)", "sys, is not"),
        (
            "doubled = None",
            "from no_such import checks",
            "check(checks.doubled_twice)",
            "no_such.checks, is not",
        ),
        (
            "doubled = None",
            IMPORTS,
            "check(checks.missing)",
            "calls missing, which .* does not define",
        ),
        (
            "doubled = None",
            IMPORTS,
            "check(checks.inner)",
            "calls inner, which .* at its top level",
        ),
        (
            "doubled = None",
            IMPORTS,
            "check(checks.takes_x)",
            r"must take every answer its stub names; missing: \['doubled'\]",
        ),
        ("def double(x):\n    ...", IMPORTS, "check(checks.doubled_twice)", "assigns no answer"),
    ],
)
def test_a_check_that_the_grader_cannot_call_apart_is_an_error(
    tiny_checks, stub, imports, source, problem
):
    chapter = tiny_chapter()
    chapter.cells[0].source = imports
    chapter.cells[3].metadata["stub"] = stub
    chapter.cells[-1].source = source
    with pytest.raises(ValueError, match=problem):
        checks(chapter)


@pytest.mark.parametrize(
    "path", CHAPTERS + STUDENT_VERSIONS, ids=lambda path: f"{path.parent.name}/{path.stem}"
)
def test_every_check_cell_of_a_chapter_or_student_version_is_one_call(path):
    problems = []
    for cell in nbformat.read(path, as_version=4).cells:
        if CHECK in tags(cell):
            try:
                named_check(cell)
            except ValueError as problem:
                problems.append(str(problem))
    assert problems == []


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
