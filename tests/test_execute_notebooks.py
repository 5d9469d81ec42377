"""`make chapters` executes notebooks in place with tools/execute_notebooks.py and reports their time budget."""

import os
import subprocess
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from onnx_crossings.plumbing.paths import REPO_ROOT

SCRIPT = REPO_ROOT / "tools" / "execute_notebooks.py"
KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}


def execute(path, output_dir) -> subprocess.CompletedProcess:
    """Run tools/execute_notebooks.py on one notebook from the repository root, writing under output_dir."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"COURSE_OUTPUT_DIR": str(output_dir)},
    )


def test_a_notebook_is_executed_in_place_timed_and_reported(tmp_path):
    stamped = {
        "execution": {"iopub.execute_input": "2026-11-27T12:34:28.057804Z"}
    }  # as an earlier executor left it
    notebook = new_notebook(
        cells=[
            new_code_cell(
                "import os\nprint('in', os.getcwd())\nprint('one')\nprint('two')", metadata=stamped
            )
        ],
        metadata=KERNEL,
    )
    path = tmp_path / "notebooks" / "results.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook, path)
    run = execute(path, tmp_path / "out")
    assert run.returncode == 0, run.stderr[-2000:]
    cell = nbformat.read(path, as_version=4).cells[0]
    assert cell.execution_count == 1 and len(cell.outputs) == 1, (
        "the stream outputs are coalesced into one"
    )
    assert cell.outputs[0].text == f"in {path.parent}\none\ntwo\n", (
        "it ran in the notebook's own folder"
    )
    assert "execution" not in cell.metadata, (
        "no timestamps, so a re-run's diff shows only what changed"
    )
    assert (tmp_path / "out" / "results" / "times" / "notebooks.json").is_file()
    name, seconds, budget = run.stdout.splitlines()[-2].split()
    assert (
        (name, budget) == ("results", "15") and 0 <= float(seconds) < 60 and "total" in run.stdout
    )


def test_a_failing_notebook_stops_the_build_and_is_left_as_it_was(tmp_path):
    notebook = new_notebook(cells=[new_code_cell("1 / 0")], metadata=KERNEL)
    path = tmp_path / "broken.ipynb"
    nbformat.write(notebook, path)
    before = path.read_bytes()
    run = execute(path, tmp_path / "out")
    assert run.returncode != 0 and "ZeroDivisionError" in run.stderr
    assert path.read_bytes() == before


def test_pandas_tables_and_object_reprs_come_out_the_same_every_run(tmp_path):
    show_two_tables = (
        "import pandas as pd\n"
        "table = pd.DataFrame({'a': [1.0, 2.0]})\n"
        "display(table.style.format('{:.1f}'), table.style.highlight_max())\n"
        "table.style"
    )
    notebook = new_notebook(cells=[new_code_cell(show_two_tables)], metadata=KERNEL)
    path = tmp_path / "tables.ipynb"
    nbformat.write(notebook, path)
    runs = []
    for _ in range(2):
        assert execute(path, tmp_path / "out").returncode == 0
        runs.append(nbformat.read(path, as_version=4).cells[0].outputs)
    assert runs[0] == runs[1]
    html = [output.data["text/html"] for output in runs[0]]
    cell_id = nbformat.read(path, as_version=4).cells[0].id
    assert [f'id="T_cell-{cell_id}-0"' in table for table in html] == [True] * 3
    assert all(" at 0x" not in output.data["text/plain"] for output in runs[0])
