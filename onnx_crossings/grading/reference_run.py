"""The reference run: the chapter with its own solutions, run trusted once per batch, checked to score full marks."""

import shutil
from dataclasses import replace
from pathlib import Path

import nbformat

from onnx_crossings.grading.assembly import (
    answer_cell_numbers,
    graded_notebook,
    with_chapter_outputs,
    with_state_saved,
)
from onnx_crossings.grading.execution import Batch, GradingError, execute, module_copy, run_verdict
from onnx_crossings.grading.exercises import SOLUTION, checks, code_by_exercise
from onnx_crossings.grading.nbval_report import UnreadableReport, failed_cells
from onnx_crossings.grading.reference_values import fingerprint
from onnx_crossings.grading.tables import table_cell


def reference_failures(notebook, report: Path) -> str:
    """What failed in the reference run, cell by cell (first line and nbval's message), or '' when all passed."""
    try:
        failed = failed_cells(report)
    except UnreadableReport as problem:
        return str(problem)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    described = []
    for number, message in failed.items():
        known = number.isdigit() and int(number) < len(code_cells)
        first_line = (
            code_cells[int(number)].source.strip().partition("\n")[0][:60] if known else "?"
        )
        described.append(f"code cell {number} ({first_line!r}): {table_cell(message)[:300]}")
    return "; ".join(described)


def reference_run(batch: Batch) -> Batch:
    """Run the chapter with its own solutions, keep the values its checks read, and check it scores full marks.

    A passing reference run in out_dir whose fingerprint matches (same chapter, check modules, course code,
    packages, data) is reused.
    """
    found = checks(batch.chapter).values()
    chapter_values = sorted({name for check in found for name in check.chapter_values})
    work, stamp = batch.out_dir / "reference", fingerprint(batch.chapter_path, batch.module_files)
    run_dir = work / "run"
    values_path = run_dir / "chapter_values.pkl"
    if (work / "fingerprint").is_file() and (work / "fingerprint").read_text() == stamp:
        print(
            f"reference run of {batch.name}: reused from {work} (same chapter, code, packages and data; "
            "delete that folder to run it again)",
            flush=True,
        )
        return replace(batch, chapter_values=values_path)
    shutil.rmtree(work, ignore_errors=True)
    batch.state_dir.mkdir(parents=True)
    notebook = graded_notebook(batch.chapter, code_by_exercise(batch.chapter, SOLUTION), run_dir)
    notebook = with_state_saved(with_chapter_outputs(notebook, batch.chapter), batch.state_dir)
    notebook.cells.append(
        nbformat.v4.new_code_cell(
            f'__import__("importlib").import_module("onnx_crossings.grading.reference_values").save_values('
            f"globals(), {chapter_values!r}, {str(values_path)!r})"
        )
    )
    print(f"reference run of {batch.name} (the chapter with its own solutions) ...", flush=True)
    outcome = execute(notebook, run_dir, batch, contained=False)
    failures = reference_failures(notebook, run_dir / "report.xml")
    if failures or not values_path.exists():
        raise GradingError(
            f"the reference run of {batch.chapter_path} failed ({failures or 'no values saved'}; "
            f"see {work / 'nbval.log'}): run the chapter itself (make chapters) and fix what fails "
            "before grading"
        )
    # the verdicts load the check modules from copies in the run folder, where their sandbox can see them and
    # with which they travel to a cluster's workers
    for module, path in {check.module: check.module_file for check in found}.items():
        shutil.copyfile(path, module_copy(run_dir, module))
    batch = replace(batch, chapter_values=values_path)
    verdict = run_verdict(
        run_dir / "answers",
        run_dir / "report.xml",
        answer_cell_numbers(notebook),
        work / "verdict",
        batch,
    )
    failed = {
        exercise: result.get("message")
        for exercise, result in verdict["exercises"].items()
        if not result.get("passed")
    }
    if failed or len(verdict["exercises"]) != len(batch.exercises):
        raise GradingError(
            f"the chapter's own solutions do not pass its checks ({failed or verdict['notes']}); "
            f"see {work}: grading would be unfair"
        )
    # written last: only a complete, passing reference run is reused
    (work / "fingerprint").write_text(stamp)
    print(
        f"reference run: {outcome.seconds:.0f} s, its solutions pass all {len(batch.exercises)} checks",
        flush=True,
    )
    return batch
