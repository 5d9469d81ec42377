"""Time budgets: the seconds each notebook may take to run and each chapter to grade, and the times measured."""

import json
from pathlib import Path

from onnx_crossings.plumbing.files import atomic_write
from onnx_crossings.plumbing.paths import REPO_ROOT, results_dir

# How long each notebook may take to execute on the course's 2-core machine: what it needs there, plus a tenth
# (a committed time over its budget fails tests/test_results.py).
BUDGET_SECONDS = {
    "01_mnist_pytorch_to_tensorflow": 200,
    "01b_mnist_deeper_smaller_faster": 700,
    "02_imdb_keras_to_pytorch": 1070,
    "02b_imdb_pretrained_transformer": 1140,
    "03_aapl_keras_to_scikit_learn": 130,
    "04_when_a_crossing_breaks": 40,
    "results": 15,
    "web_app": 15,
}
# How long `make grade` may take in CI to grade a chapter's inbox after its reference run (tests/graded_runs.py:
# chapter 3's answer sheet, untouched student version, one answer and one cheat; the other inboxes are empty).
GRADING_BUDGET_SECONDS = {
    "01_mnist_pytorch_to_tensorflow": 20,
    "01b_mnist_deeper_smaller_faster": 20,
    "02_imdb_keras_to_pytorch": 60,
    "02b_imdb_pretrained_transformer": 70,
    "03_aapl_keras_to_scikit_learn": 60,
    "04_when_a_crossing_breaks": 20,
}
# The rest of a fresh-clone `.ci/run`: installing the environment, chapter 3 run alone in Colab's runtime
# (tests/test_lone_notebook.py), and every other test but the chapters' runs.
OTHER_CI_BUDGET_SECONDS = {
    "install": 120,
    "chapter 3 in Colab's runtime": 180,
    "every other test": 600,
}
# What all of CI's budgets may add up to, so a new notebook or test wins its minutes back before it lands; it
# comes down as savings land, to the goal.
CI_LIMIT_SECONDS = 75 * 60
CI_GOAL_SECONDS = 55 * 60


def ci_budget_seconds() -> int:
    """A fresh-clone CI run's budgets added up: each notebook's run, each chapter's grading, the rest."""
    return (
        sum(BUDGET_SECONDS.values())
        + sum(GRADING_BUDGET_SECONDS.values())
        + sum(OTHER_CI_BUDGET_SECONDS.values())
    )


def budget_table() -> str:
    """The budgets as markdown tables: each notebook's run and grading, the rest of CI, the total and the limit."""
    lines = ["| notebook | runs in | graded in |", "| --- | --- | --- |"]
    for notebook, seconds in BUDGET_SECONDS.items():
        graded = GRADING_BUDGET_SECONDS.get(notebook)
        lines.append(f"| `{notebook}` | {seconds} s | {f'{graded} s' if graded else '-'} |")
    lines += ["", "| the rest of CI | budget |", "| --- | --- |"]
    lines += [f"| {step} | {seconds} s |" for step, seconds in OTHER_CI_BUDGET_SECONDS.items()]
    total = ci_budget_seconds()
    lines.append(f"| **CI, in all** | **{total} s ({total / 60:.0f} minutes)** |")
    lines += [
        "",
        f"The budgets may add up to at most {CI_LIMIT_SECONDS // 60} minutes, CI's limit, which comes down "
        f"as savings land, to the goal of {CI_GOAL_SECONDS // 60} minutes.",
    ]
    return "\n".join(lines)


# where the seconds each notebook took to execute are kept, in a results folder, beside (not among) the results
NOTEBOOK_TIMES = Path("times") / "notebooks.json"


def notebook_times_path() -> Path:
    """Where this run keeps the seconds each notebook took to execute."""
    return results_dir() / NOTEBOOK_TIMES


def grading_times_path() -> Path:
    """Where `make test` keeps the seconds each chapter's grading took after its reference run."""
    return results_dir() / "times" / "grading.json"


def save_time(path: Path, name: str, seconds: float) -> Path:
    """Record how long one notebook (named by its file's stem) took in a times file, keeping the others' times."""
    times = load_times(path) | {name: round(seconds, 1)}
    with atomic_write(path) as out:
        out.write((json.dumps(times, indent=2, sort_keys=True) + "\n").encode())
    return path


def load_times(path: Path) -> dict[str, float]:
    """The seconds recorded in a times file, by notebook; empty when none were recorded."""
    return json.loads(path.read_text()) if path.is_file() else {}


def save_notebook_time(notebook: str, seconds: float) -> Path:
    """Record how long one notebook took to execute, keeping the others' times."""
    return save_time(notebook_times_path(), notebook, seconds)


def load_notebook_times() -> dict[str, float]:
    """The recorded execution seconds by notebook; empty when none were recorded."""
    return load_times(notebook_times_path())


def overruns(times: dict[str, float], budgets: dict[str, int] = BUDGET_SECONDS) -> list[str]:
    """One sentence per notebook that took longer than its budget, or that has no budget."""
    found = []
    for notebook, seconds in sorted(times.items()):
        if notebook not in budgets:
            found.append(f"{notebook} has no time budget: add one in tools/budgets.py")
        elif seconds > budgets[notebook]:
            found.append(
                f"{notebook} took {seconds:.0f} s, over its budget of {budgets[notebook]} s"
            )
    return found


def committed_notebook_times() -> dict[str, float]:
    """The seconds each notebook took in the run whose outputs are committed (the repository's results/times/)."""
    return load_times(REPO_ROOT / "results" / NOTEBOOK_TIMES)


def time_budget_report(times: dict[str, float], budgets: dict[str, int] = BUDGET_SECONDS) -> str:
    """A plain-text table of each notebook's seconds against its budget, with a warning line per overrun."""
    lines = [f"{'notebook':34} {'seconds':>8} {'budget':>8}"]
    for notebook, seconds in sorted(times.items()):
        lines.append(f"{notebook:34} {seconds:8.0f} {budgets.get(notebook, '-'):>8}")
    lines.append(
        f"{'total':34} {sum(times.values()):8.0f} {sum(budgets.get(n, 0) for n in times):8d}"
    )
    lines += [f"warning: {overrun}" for overrun in overruns(times, budgets)]
    return "\n".join(lines)
