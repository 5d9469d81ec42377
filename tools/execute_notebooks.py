"""Execute notebooks in place, one after another, as `make chapters` does, and report each one's time budget."""

import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

from onnx_crossings.grading.execution import CELL_TIMEOUT
from tools.budgets import save_notebook_time, time_budget_report

STYLER_ID = re.compile(r"(?<![\w-])T_[0-9a-f]{5}(?![0-9a-zA-Z])")  # pandas' random table id
# as in <pandas.io.formats.style.Styler at 0x7f52d0408b10>
ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


def make_outputs_stable(cell) -> None:
    """Name a cell's pandas tables after the cell and drop memory addresses, so re-runs differ only in results."""
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "text/html" in data:
            for k, random_id in enumerate(dict.fromkeys(STYLER_ID.findall(data["text/html"]))):
                stable_id = f"T_cell-{cell.id}-{k}"
                data["text/html"] = re.sub(
                    rf"\b{random_id}(?![0-9a-zA-Z])", stable_id, data["text/html"]
                )
        if "text/plain" in data:
            data["text/plain"] = ADDRESS.sub(">", data["text/plain"])


def execute_in_place(path: Path) -> float:
    """Run a notebook top to bottom in its own folder and save it with stable outputs and no timestamps.

    Progress bars keep only their final state.
    """
    notebook = nbformat.read(path, as_version=4)
    started = time.monotonic()
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        record_timing=False,  # no timestamps in the diffs
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    seconds = time.monotonic() - started
    notebook, _ = CoalesceStreamsPreprocessor().preprocess(notebook, {})
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)  # timestamps an earlier executor left
        make_outputs_stable(cell)
    nbformat.write(notebook, path)
    return seconds


def main(paths: list[str]) -> None:
    """Execute each notebook given, record its seconds, and print the time-budget table."""
    times = {}
    for path in map(Path, paths):
        print(f"executing {path} ...", flush=True)
        times[path.stem] = execute_in_place(path)
        save_notebook_time(path.stem, times[path.stem])
        print(f"executed {path} in {times[path.stem]:.0f} s", flush=True)
    print(time_budget_report(times))


if __name__ == "__main__":
    main(sys.argv[1:])
