"""The chapters' headline figures, saved as JSON so the book and the checks read the same numbers."""

import hashlib
import json
import sys
from pathlib import Path

from onnx_crossings.plumbing.files import atomic_write
from onnx_crossings.plumbing.paths import REPO_ROOT, results_dir


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


def digest(path: Path) -> str:
    """The first 12 hex digits of a results file's SHA-256: a chapter prints it, to be matched with the commit."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


# where the course's package installs the committed results (pyproject.toml's data-files), for lone chapters
INSTALLED_RESULTS = Path(sys.prefix) / "share" / "onnx-crossings" / "results"


def committed_results(chapter: str) -> dict:
    """One chapter's headline figures as committed (results/), wherever this run writes, in a clone or alone."""
    for folder in (REPO_ROOT / "results", INSTALLED_RESULTS):
        if (folder / f"{chapter}.json").is_file():
            return json.loads((folder / f"{chapter}.json").read_text())
    raise FileNotFoundError(
        f"No committed results for {chapter} in {REPO_ROOT / 'results'} or {INSTALLED_RESULTS}: "
        "reinstall the course's package, which carries them"
    )


def load_results() -> dict[str, dict]:
    """All chapters' headline figures, keyed by chapter name."""
    return {
        path.stem: json.loads(path.read_text()) for path in sorted(results_dir().glob("*.json"))
    }
