"""The chapters' headline figures, saved as JSON so the book and the checks read the same numbers."""

import json
from pathlib import Path

from helpers.download import atomic_write
from helpers.paths import REPO_ROOT, results_dir


def results_path(chapter: str) -> Path:
    """Path of one chapter's results file."""
    return results_dir() / f"{chapter}.json"


def save_results(chapter: str, figures: dict) -> Path:
    """Write a chapter's headline figures atomically and return the file's path."""
    path = results_path(chapter)
    text = json.dumps(figures, indent=2, sort_keys=True) + "\n"
    with atomic_write(path) as out:
        out.write(text.encode())
    return path


def committed_results(chapter: str) -> dict:
    """One chapter's headline figures as committed in the repository (results/), wherever this run writes."""
    return json.loads((REPO_ROOT / "results" / f"{chapter}.json").read_text())


def load_results() -> dict[str, dict]:
    """All chapters' headline figures, keyed by chapter name."""
    return {
        path.stem: json.loads(path.read_text()) for path in sorted(results_dir().glob("*.json"))
    }


# How long each notebook may take to execute on the course's 2-core machine: the build's time budget.
BUDGET_SECONDS = {
    "01_mnist_pytorch_to_tensorflow": 150,
    "01b_mnist_deeper_smaller_faster": 480,
    "02_imdb_keras_to_pytorch": 420,
    "02b_imdb_pretrained_transformer": 720,
    "03_aapl_keras_to_scikit_learn": 45,
    "results": 15,
    "web_app": 15,
}


def notebook_times_path() -> Path:
    """Where the seconds each notebook took to execute are kept, beside (not among) the chapters' results."""
    return results_dir() / "times" / "notebooks.json"


def save_notebook_time(notebook: str, seconds: float) -> Path:
    """Record how long one notebook (named by its file's stem) took to execute, keeping the others' times."""
    times = load_notebook_times() | {notebook: round(seconds, 1)}
    path = notebook_times_path()
    with atomic_write(path) as out:
        out.write((json.dumps(times, indent=2, sort_keys=True) + "\n").encode())
    return path


def load_notebook_times() -> dict[str, float]:
    """The recorded execution seconds by notebook; empty when none were recorded."""
    path = notebook_times_path()
    return json.loads(path.read_text()) if path.is_file() else {}


def time_budget_report(times: dict[str, float]) -> str:
    """A plain-text table of each notebook's seconds against its budget, with a warning line per overrun."""
    lines = [f"{'notebook':34} {'seconds':>8} {'budget':>8}"]
    for notebook, seconds in sorted(times.items()):
        lines.append(f"{notebook:34} {seconds:8.0f} {BUDGET_SECONDS.get(notebook, '-'):>8}")
    lines.append(
        f"{'total':34} {sum(times.values()):8.0f} {sum(BUDGET_SECONDS.get(n, 0) for n in times):8d}"
    )
    for notebook, seconds in sorted(times.items()):
        if notebook not in BUDGET_SECONDS:
            lines.append(
                f"warning: {notebook} has no time budget: add one to BUDGET_SECONDS in helpers/results.py"
            )
        elif seconds > BUDGET_SECONDS[notebook]:
            lines.append(
                f"warning: {notebook} took {seconds:.0f} s, over its budget of {BUDGET_SECONDS[notebook]} s"
            )
    return "\n".join(lines)
