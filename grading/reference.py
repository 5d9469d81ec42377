"""What the trusted reference run keeps: named values, pickled, for the verdicts and for the submissions' runs.

Only the reference run writes these files, and only the grader's own processes and the sandboxes read them,
read-only, so unpickling them trusts nothing a student wrote.
"""

import pickle
from pathlib import Path


def save_values(namespace: dict, names: list[str], path: str) -> None:
    """Pickle the named values of a namespace (the reference run's kernel)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        pickle.dump({name: namespace[name] for name in names}, out)


def load_values(path: str) -> dict:
    """The values one save_values call kept."""
    with open(path, "rb") as values:
        return pickle.load(values)
