"""The verdict: a clean Python process runs a chapter's checks on a submission's exported answers.

It trusts only the reference run: its copies of the chapter's check modules, whose functions it calls, and the
chapter values it pickled. Answers arrive as plain data (onnx_crossings.grading.answers). Each check's result is
written as soon as it is known, so a check that hangs loses only itself. Run as
`python -I -m onnx_crossings.grading.verdict REQUEST.json`.
"""

import importlib.util
import json
import sys
import time
from pathlib import Path
from types import ModuleType

from onnx_crossings.grading.answers import read_answers
from onnx_crossings.grading.nbval_report import UnreadableReport, failed_cells
from onnx_crossings.grading.reference_values import load_values
from onnx_crossings.plumbing.files import atomic_write_text

MAX_MESSAGE = 500


def _write(path: Path, content: dict) -> None:
    """Replace a JSON file atomically."""
    with atomic_write_text(path) as out:
        out.write(json.dumps(content, ensure_ascii=True))


def _message(error: BaseException) -> str:
    """A failed check's advice: the assertion's message, or the error's type and text."""
    text = (
        str(error)
        if isinstance(error, AssertionError) and str(error)
        else f"{type(error).__name__}: {error}"
    )
    return text[:MAX_MESSAGE]


def answer_notes(report: Path, answer_cells: dict[str, str]) -> list[str]:
    """Notes on answers that raised and on cells that ran out of time, from nbval's JUnit report."""
    try:
        failed = failed_cells(report)
    except UnreadableReport as problem:
        return [str(problem)]
    notes = []
    for cell, message in failed.items():
        if "Timeout of" in message:
            notes.append(f"cell {cell} did not finish in time; the cells after it were not run")
        elif cell in answer_cells:
            notes.append(f"the answer to {answer_cells[cell]} raised an error")
    return notes


def load_module(path: str) -> ModuleType:
    """A check module, run from the reference run's copy of its file, named as the chapter imports it."""
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    # registered as an import registers it: dataclasses and pickle look a module up there
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def judge(request: dict) -> None:
    """Run every check of the chapter on one submission's answers; write the verdict file as results come."""
    chapter_values = load_values(request["chapter_values"])
    verdict_path = Path(request["verdict"])
    verdict = {
        "exercises": {},
        "notes": answer_notes(Path(request["report"]), request["answer_cells"]),
    }
    _write(verdict_path, verdict)
    files = dict.fromkeys(check["module_file"] for check in request["checks"])
    modules = {path: load_module(path) for path in files}
    for check in request["checks"]:
        exercise, started = check["exercise"], time.monotonic()
        answers, problems = read_answers(Path(request["answers"]) / exercise, check["answers"])
        function = getattr(modules[check["module_file"]], check["function"])
        try:
            confirmed = function(
                **{name: chapter_values[name] for name in check["chapter_values"]}, **answers
            )
            result = {"passed": True, "message": str(confirmed)[:MAX_MESSAGE]}
        # whatever an answer makes a check raise is that exercise's failure
        except Exception as error:
            result = {"passed": False, "message": _message(error)}
        result |= {"unreadable": problems, "seconds": round(time.monotonic() - started, 2)}
        verdict["exercises"][exercise] = result
        _write(verdict_path, verdict)


if __name__ == "__main__":
    judge(json.loads(Path(sys.argv[1]).read_text()))
