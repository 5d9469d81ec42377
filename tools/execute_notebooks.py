"""Execute notebooks in place, one after another, as `make chapters` does, and report each one's time budget."""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

from helpers.results import save_notebook_time, time_budget_report

CELL_TIMEOUT = 3600  # seconds


def execute_in_place(path: Path) -> float:
    """Run a notebook top to bottom in its own folder, keep only the final state of progress bars, save it untimed."""
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
