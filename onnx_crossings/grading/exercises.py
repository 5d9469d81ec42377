"""The exercise format the grader reads, and the student versions made from it.

A chapter marks its exercise cells with tags and names the exercise in the cell's `metadata["exercise"]`:
- `solution`: a solution cell, code or the markdown around it. The first solution code cell of an exercise
  holds the student's starting point in `metadata["stub"]`; the names the stub assigns (`best_days = None`)
  are the exercise's **answers**, what an answer must produce.
- `check`: one code cell per exercise, holding nothing but one call, `check(checks.recall_per_digit)`.
  `check` (`onnx_crossings.checks`) runs a function of a check module, a module the chapter's code cells import
  (`from onnx_crossings.checks import mnist_pytorch_to_tensorflow as checks`), defined at its top level. The
  function's parameters are the names it reads: every answer of the exercise, and chapter values (`windows`,
  `forecasts`, ...). It raises AssertionError with advice when the answer is wrong and returns a sentence saying
  what it confirmed. In a chapter it runs on the notebook's variables; when grading, a separate process loads the
  reference run's copy of the module and runs it on the answers a submission exported and the chapter values of a
  trusted reference run. The cell stays in the student version; the function's code is not in it.
- `answer`: in a student version, the cell where the student writes the answer (made from the stub).

A chapter cell whose work is long (training, say) can name in `metadata["grading"]["reuse"]` the variables it
leaves for later cells (`["model", "history", "training_seconds"]`). When grading, the reference run keeps
those values and each submission's run loads them instead of running the cell again; such a cell must not
define functions or classes that later cells use, since only the listed values are kept.
"""

import ast
import copy
import importlib.util
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
    """An exercise's check: a function of a check module and the module's file, and which parameters are answers."""

    exercise: str
    module: str
    function: str
    module_file: Path
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


def named_check(cell) -> tuple[str, str]:
    """The module alias and the function a check cell names: the cell must be `check(<alias>.<function>)`."""
    match ast.parse(cell.source).body:
        case [
            ast.Expr(ast.Call(ast.Name("check"), [ast.Attribute(ast.Name(alias), function)], []))
        ]:
            return alias, function
    raise ValueError(
        f"the check cell of {exercise_of(cell)} must be one call, check(<module>.<function>), "
        "the function defined in a module the chapter imports"
    )


def _imported_modules(chapter) -> dict[str, str]:
    """The names the import statements of the chapter's code cells bind to modules, and those modules' names."""
    bound = {}
    for cell in chapter.cells:
        if cell.cell_type != "code":
            continue
        for statement in ast.parse(cell.source).body:
            if isinstance(statement, ast.Import):
                for alias in statement.names:
                    # `import a.b as c` binds c to a.b, `import a.b` binds a to a
                    module = alias.name if alias.asname else alias.name.partition(".")[0]
                    bound[alias.asname or module] = module
            elif isinstance(statement, ast.ImportFrom) and statement.level == 0:
                for alias in statement.names:
                    bound[alias.asname or alias.name] = f"{statement.module}.{alias.name}"
    return bound


def _module_file(module: str, exercise: str) -> Path:
    """The Python file of a check module, found where an import would find it, without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:  # a package on its way is missing
        spec = None
    if spec is None or not (spec.origin or "").endswith(".py"):
        raise ValueError(
            f"the check module of {exercise}, {module}, is not a Python file that can be imported: "
            "put it where the chapter's import finds it (onnx_crossings/checks/, say)"
        )
    return Path(spec.origin)


def _check_parameters(path: Path, function: str, exercise: str) -> list[str]:
    """The parameters of a top-level function of a check module, read from its file."""
    for statement in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(statement, ast.FunctionDef) and statement.name == function:
            return [argument.arg for argument in statement.args.args]
    raise ValueError(
        f"the check of {exercise} calls {function}, which {path} does not define at its top level"
    )


def checks(chapter) -> dict[str, Check]:
    """Each exercise's check, read from its module's file and validated against the answers its stub names."""
    found = {}
    answers = {exercise: assigned_names(stub) for exercise, stub in stubs(chapter).items()}
    modules = _imported_modules(chapter)
    for cell in _code_cells(chapter, CHECK):
        exercise = exercise_of(cell)
        if exercise in found:
            raise ValueError(f"{exercise} has more than one check cell")
        alias, function = named_check(cell)
        if alias not in modules:
            raise ValueError(
                f"the check of {exercise} calls {alias}.{function}, but no import of the chapter binds "
                f"{alias}: import the check module "
                f"(from onnx_crossings.checks import mnist_pytorch_to_tensorflow as {alias})"
            )
        path = _module_file(modules[alias], exercise)
        parameters = _check_parameters(path, function, exercise)
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
            modules[alias],
            function,
            path,
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
