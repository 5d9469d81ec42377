"""Run a chapter as a learner who opens it in Colab does: an empty folder, in a runtime built as Colab's.

The chapter is copied into an empty folder outside the repository, beside a file many learners have, their own
`helpers.py`, whose module name the set-up cell must not mistake for the course's package. A new Python 3.13
environment gets what Colab's published package list (tools/colab/pip-freeze.txt) holds of the packages the chapter
uses, at Colab's versions, and Colab's Jupyter, and nothing else; the chapter executes top to bottom there, its first
cell keeping what the runtime has and installing the rest, and the course from this repository's committed HEAD
(COURSE_INSTALL_SOURCE points it here instead of at GitHub). The times of each step are printed and written to
<folder>/times.json. The folder is removed after a run that passes.

    python tools/run_lone_notebook.py notebooks/03_aapl_keras_to_scikit_learn.ipynb [--python python3.13] [--keep]
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import colab_runtime
import nbformat

from onnx_crossings.plumbing import install

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = f"python{colab_runtime.PYTHON}"  # what Colab runs
# what runs a notebook in Colab: its kernel and nbclient (Colab's own front end is not on PyPI)
JUPYTER = ["ipykernel", "ipython", "jupyter-client", "jupyter-core", "nbclient", "nbconvert"]
# What a learner's session does not have: the course's own settings for its repository runs.
COURSE_VARIABLES = ["COURSE_DATA_DIR", "COURSE_OFFLINE_DIR", "COURSE_OUTPUT_DIR", "PYTHONPATH"]


# a learner's own module beside the chapter, under a name a course's package could have used
LEARNERS_HELPERS = '''"""My own helpers for this notebook."""


def percent(part, whole):
    return 100 * part / whole
'''


def interpreter(python: str) -> str:
    """The executable behind a Python command; a pyenv shim that is not selected resolves to pyenv's install."""
    asked = subprocess.run(
        [python, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True
    )
    if asked.returncode == 0:
        return asked.stdout.strip()
    version = python.removeprefix("python")
    if shutil.which("pyenv") is not None:
        bare = subprocess.run(
            ["pyenv", "versions", "--bare"], capture_output=True, text=True
        ).stdout
        for installed in sorted(bare.split(), reverse=True):
            if installed.startswith(f"{version}."):
                prefix = subprocess.run(
                    ["pyenv", "prefix", installed], capture_output=True, text=True
                )
                return str(Path(prefix.stdout.strip()) / "bin" / python)
    raise SystemExit(
        f"{python} does not run here: install Python {version}, or name one with --python"
    )


def committed_head() -> str:
    """The commit the set-up cell installs, after warning when the working tree differs from it."""
    if subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=REPO_ROOT).returncode != 0:
        print(
            "Note: the working tree has uncommitted changes; the chapter installs the committed HEAD."
        )
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    return head.stdout.strip()


def cell_seconds(cell) -> float:
    """How long nbclient recorded a cell taking."""
    timing = cell.metadata["execution"]
    start, end = (timing[key] for key in ("iopub.execute_input", "shell.execute_reply"))
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def run(chapter: Path, python: str, keep: bool) -> dict:
    """Execute the chapter alone; the seconds each step took and the largest process's memory."""
    found = interpreter(python)
    folder = Path(tempfile.mkdtemp(prefix=f"lone-{chapter.stem}-"))
    work, venv = folder / "chapter", folder / "venv"
    work.mkdir()
    shutil.copy(chapter, work / chapter.name)
    (work / "helpers.py").write_text(LEARNERS_HELPERS)
    environment = {k: v for k, v in os.environ.items() if k not in COURSE_VARIABLES}
    environment |= {
        "COURSE_INSTALL_SOURCE": f"git+file://{REPO_ROOT}@{committed_head()}",
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(venv),
    }
    times = {"chapter": chapter.stem, "folder": str(folder), "beside_it": ["helpers.py"]}
    print(f"{chapter.name} alone in {work}")

    started = time.perf_counter()
    subprocess.run([found, "-m", "venv", str(venv)], check=True)
    colab = colab_runtime.versions(colab_runtime.LIST.read_text())
    wanted = [name for name in install.CHAPTER_PACKAGES[chapter.stem] + JUPYTER if name in colab]
    constraints = folder / "colab-constraints.txt"
    # Colab installs PyTorch's CPU build from PyTorch's own index; PyPI's is a CUDA build, which brings its own
    # NVIDIA libraries, not those Colab lists for its other packages
    constraints.write_text(
        "".join(
            f"{name}=={version}\n"
            for name, version in colab.items()
            if not name.startswith("nvidia-")
        )
    )
    uv = [
        sys.executable,
        "-m",
        "uv",
        "pip",
        "install",
        "--quiet",
        "--python",
        str(venv / "bin" / "python"),
    ]
    uv += ["--constraint", str(constraints), *(f"{name}=={colab[name]}" for name in wanted)]
    subprocess.run(uv, check=True, env=environment)
    times["runtime_s"] = round(time.perf_counter() - started, 1)
    times["runtime_packages"] = {name: colab[name] for name in wanted}
    print(
        f"A new {python} environment with Colab's {', '.join(f'{n} {colab[n]}' for n in wanted)}: "
        f"{times['runtime_s']} s"
    )

    started = time.perf_counter()
    executed = work / f"executed-{chapter.name}"
    command = [str(venv / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute"]
    command += ["--ExecutePreprocessor.timeout=-1", "--output", str(executed), chapter.name]
    result = subprocess.run(command, cwd=work, env=environment)
    times["execution_s"] = round(time.perf_counter() - started, 1)
    times["largest_process_mib"] = round(
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    )
    if result.returncode != 0:
        raise SystemExit(
            f"The chapter failed alone after {times['execution_s']} s; see above and {folder}"
        )

    versions = "import importlib.metadata as m, json, sys; print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))"
    after = subprocess.run(
        [str(venv / "bin" / "python"), "-c", versions, *times["runtime_packages"]],
        capture_output=True,
        text=True,
        check=True,
    )
    times["after_run"] = json.loads(after.stdout)
    cells = [
        cell for cell in nbformat.read(executed, as_version=4).cells if cell.cell_type == "code"
    ]
    setup = next(cell for cell in cells if "course-setup" in cell.metadata.get("tags", []))
    times["setup_cell_s"] = round(cell_seconds(setup), 1)
    times["environment_gb"] = round(
        sum(path.stat().st_size for path in venv.rglob("*") if path.is_file()) / 1e9, 2
    )
    print(
        f"Executed in {times['execution_s']} s, of which the set-up cell (installing what Colab lacks) took "
        f"{times['setup_cell_s']} s; the environment came to {times['environment_gb']} GB, the largest process "
        f"to {times['largest_process_mib']} MiB"
    )
    (folder / "times.json").write_text(json.dumps(times, indent=2) + "\n")
    if not keep:
        shutil.rmtree(folder)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", type=Path)
    parser.add_argument("--python", default=PYTHON, help=f"the Python to create it with ({PYTHON})")
    parser.add_argument("--keep", action="store_true", help="keep the folder (and its environment)")
    arguments = parser.parse_args(argv)
    print(json.dumps(run(arguments.chapter.resolve(), arguments.python, arguments.keep)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
