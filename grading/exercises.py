"""The exercise format the grader reads, and the student versions made from it.

A chapter marks its exercise cells with tags and names the exercise in the cell's `metadata["exercise"]`:
- `solution`: a solution cell, code or the markdown around it. The first solution code cell of an exercise
  holds the student's starting point in `metadata["stub"]`; the names the stub assigns (`best_days = None`)
  are the exercise's **answers**, what an answer must produce.
- `check`: one code cell per exercise, holding nothing but one function decorated with `@check`
  (`helpers.checks`). Its parameters are the names it reads: every answer of the exercise, and chapter values
  (`windows`, `forecasts`, ...). It raises AssertionError with advice when the answer is wrong and returns a
  sentence saying what it confirmed. In a chapter it runs on the notebook's variables; when grading it runs in
  a separate process, on the answers a submission exported and the chapter values of a trusted reference run.
  It stays in the student version.
- `answer`: in a student version, the cell where the student writes the answer (made from the stub).

A chapter cell whose work is long (training, say) can name in `metadata["grading"]["reuse"]` the variables it
leaves for later cells (`["model", "history", "training_seconds"]`). When grading, the reference run keeps
those values and each submission's run loads them instead of running the cell again; such a cell must not
define functions or classes that later cells use, since only the listed values are kept.
"""

import ast
import copy
from dataclasses import dataclass
from pathlib import Path

import nbformat

SOLUTION, CHECK, ANSWER = "solution", "check", "answer"
STUDENTS_DIR = "students"


def tags(cell) -> list[str]:
    """The cell's tags."""
    return list(cell.get("metadata", {}).get("tags", []))


def reused_names(cell) -> list[str]:
    """The variables a long cell leaves that grading reuses from the reference run (none for most cells)."""
    return list(cell.get("metadata", {}).get("grading", {}).get("reuse", []))


def exercise_of(cell) -> str | None:
    """The exercise a cell belongs to, if any."""
    return cell.get("metadata", {}).get("exercise")


def exercises(notebook) -> list[str]:
    """Exercise names in order of first appearance among the check cells."""
    names = [exercise_of(cell) for cell in notebook.cells if CHECK in tags(cell)]
    return list(dict.fromkeys(names))


def chapter_name(notebook_path: Path) -> str:
    """A chapter's name: its file name without the extension."""
    return Path(notebook_path).stem


def _answer_cell(source: str, exercise: str):
    """An answer cell for one exercise."""
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [ANSWER], "exercise": exercise})
    cell.id = f"answer-{exercise}"  # fixed, so a regenerated student version is identical
    return cell


def _code_cells(notebook, tag: str) -> list:
    """The notebook's code cells carrying a tag."""
    return [cell for cell in notebook.cells if cell.cell_type == "code" and tag in tags(cell)]


def code_by_exercise(notebook, tag: str) -> dict[str, str]:
    """Each exercise's code in the cells carrying a tag, its cells joined."""
    found: dict[str, list[str]] = {}
    for cell in _code_cells(notebook, tag):
        found.setdefault(exercise_of(cell), []).append(cell.source)
    return {exercise: "\n\n".join(sources) for exercise, sources in found.items()}


@dataclass(frozen=True)
class Check:
    """An exercise's check: the function's source and name, and which of its parameters are answers."""

    exercise: str
    function: str
    source: str
    answers: tuple[str, ...]
    chapter_values: tuple[str, ...]


def assigned_names(source: str) -> list[str]:
    """Names a piece of code assigns at its top level, in order."""
    names = []
    for statement in ast.parse(source).body:
        targets = (
            statement.targets
            if isinstance(statement, ast.Assign)
            else [getattr(statement, "target", None)]
        )
        names += [
            node.id
            for target in targets
            if target
            for node in ast.walk(target)
            if isinstance(node, ast.Name)
        ]
    return list(dict.fromkeys(names))


def _check_function(cell) -> ast.FunctionDef:
    """The one @check function a check cell must consist of."""
    body = ast.parse(cell.source).body
    decorated = (
        len(body) == 1
        and isinstance(body[0], ast.FunctionDef)
        and [ast.unparse(decorator) for decorator in body[0].decorator_list] == ["check"]
    )
    if not decorated:
        raise ValueError(
            f"the check cell of {exercise_of(cell)} must hold one function decorated with @check, nothing else"
        )
    return body[0]


def checks(chapter) -> dict[str, Check]:
    """Each exercise's check, validated against the answers its stub names."""
    found = {}
    answers = {exercise: assigned_names(stub) for exercise, stub in stubs(chapter).items()}
    for cell in _code_cells(chapter, CHECK):
        exercise = exercise_of(cell)
        if exercise in found:
            raise ValueError(f"{exercise} has more than one check cell")
        function = _check_function(cell)
        parameters = [argument.arg for argument in function.args.args]
        if not answers.get(exercise):
            raise ValueError(
                f"the stub of {exercise} assigns no answer: name what the answer must produce (`x = None`)"
            )
        missing = [name for name in answers[exercise] if name not in parameters]
        if missing:
            raise ValueError(
                f"the check of {exercise} must take every answer its stub names; missing: {missing}"
            )
        found[exercise] = Check(
            exercise,
            function.name,
            cell.source,
            tuple(answers[exercise]),
            tuple(name for name in parameters if name not in answers[exercise]),
        )
    return found


def stubs(chapter) -> dict[str, str]:
    """Each exercise's starting point for students, from its first solution code cell."""
    found: dict[str, str] = {}
    for cell in _code_cells(chapter, SOLUTION):
        if "stub" in cell.metadata:
            found.setdefault(exercise_of(cell), cell.metadata["stub"])
    return found


def with_answers(chapter, answers: dict[str, str]):
    """The chapter with each exercise's solution cells replaced by one answer cell, and no stored outputs."""
    notebook = copy.deepcopy(chapter)
    cells, placed = [], set()
    for cell in notebook.cells:
        exercise = exercise_of(cell)
        if SOLUTION in tags(cell):
            if cell.cell_type == "code" and exercise not in placed:
                cells.append(_answer_cell(answers.get(exercise, ""), exercise))
                placed.add(exercise)
            continue
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    notebook.cells = cells
    return notebook


def _for_students(notebook, name: str):
    """Mark a notebook as a student version of the named chapter, which the grader checks."""
    notebook.metadata["course"] = {"chapter": name, "version": "student"}
    return notebook


def student_version(chapter, name: str):
    """The chapter without solutions: one answer cell per exercise holding its stub, checks kept, no outputs."""
    missing = set(exercises(chapter)) - set(stubs(chapter))
    if missing:
        raise ValueError(
            f"{name}: exercises {sorted(missing)} have checks but no solution code cell with a stub"
        )
    return _for_students(with_answers(chapter, stubs(chapter)), name)


def answer_sheet(chapter, name: str):
    """The student version with the chapter's own solutions as answers: what full marks look like."""
    return _for_students(with_answers(chapter, code_by_exercise(chapter, SOLUTION)), name)


def student_path(chapter_path: Path) -> Path:
    """Where a chapter's student version is kept: students/<chapter file name>."""
    chapter_path = Path(chapter_path)
    return chapter_path.parent.parent / STUDENTS_DIR / chapter_path.name


def write_student_version(chapter_path: Path) -> Path:
    """Generate and save a chapter's student version; return its path."""
    chapter = nbformat.read(chapter_path, as_version=4)
    path = student_path(chapter_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(student_version(chapter, chapter_name(chapter_path)), path)
    return path


if __name__ == "__main__":
    import sys

    for argument in sys.argv[1:]:
        if exercises(nbformat.read(argument, as_version=4)):
            print("wrote", write_student_version(Path(argument)))
