"""What the trusted reference run keeps: named values, pickled, for the verdicts and for the submissions' runs.

Only the reference run writes these files, and only the grader's own processes and the sandboxes read them,
read-only, so unpickling them trusts nothing a student wrote.
"""

import hashlib
import pickle
import sys
from pathlib import Path

from onnx_crossings.plumbing.files import atomic_write
from onnx_crossings.plumbing.paths import REPO_ROOT

# what a reference run depends on besides its chapter and check modules: the course's code, its sub-packages
# included, its pinned packages and its datasets
DEPENDENCIES = ("onnx_crossings/**/*.py", "requirements*.txt", "package-lock.json")


def save_values(namespace: dict, names: list[str], path: str) -> None:
    """Pickle the named values of a namespace (the reference run's kernel), written whole or not at all."""
    with atomic_write(Path(path)) as out:
        pickle.dump({name: namespace[name] for name in names}, out)


def load_values(path: str) -> dict:
    """The values one save_values call kept."""
    with open(path, "rb") as values:
        return pickle.load(values)


def fingerprint(chapter_path: Path, module_files: list[Path]) -> str:
    """A checksum of what a reference run depends on: chapter, check modules, course code, packages, data, Python."""
    digest = hashlib.sha256(sys.version.encode())
    files = [
        Path(chapter_path),
        *module_files,
        *(path for pattern in DEPENDENCIES for path in sorted(REPO_ROOT.glob(pattern))),
    ]
    for path in files:
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
