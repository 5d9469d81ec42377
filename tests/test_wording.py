"""The repository speaks to learners and maintainers about the course, not about how it was developed."""

import re
import subprocess

import pytest

from onnx_crossings.plumbing.paths import REPO_ROOT

# This project's own tracker and history: "issue 27", "stop 32", "the goals", "raised it by 4 minutes".
# Upstream references such as onnx/onnx#3275 or microsoft/onnxruntime#23004 are course content and stay.
DEVELOPMENT_WORDS = re.compile(
    r"(?<![\w/#-])(?:issue|stop|session) #?\d+\b"
    r"|\bthe issue's\b"
    r"|\braised (?:it|the limit) (?:by|from)\b"
    r"|\ba slow day\b",
    re.IGNORECASE,
)
LOCKS_AND_DATA = ("requirements", "data/", "results/", "tools/colab/", "package-lock.json")


def tracked_text_files() -> list[str]:
    """The repository's tracked files that people read: code, notebooks, pages; not locks, data or results."""
    listed = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [
        name
        for name in listed
        if not name.startswith(LOCKS_AND_DATA)
        and not name.endswith(".lock")
        and name != "tests/test_wording.py"  # its own examples of what it finds
    ]


def development_words(text: str) -> list[str]:
    """The phrases in a text that speak of this project's development history."""
    return [match.group(0) for match in DEVELOPMENT_WORDS.finditer(text)]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Issue 27 raised it by 4 minutes", ["Issue 27", "raised it by"]),
        ("a fresh-clone run at stop 32, on a slow day", ["stop 32", "a slow day"]),
        ("The issue's goals, measured", ["The issue's"]),
        ("slow on some paths (microsoft/onnxruntime#23004)", []),
        ("pytorch/pytorch#133653 and issue-free code", []),
    ],
)
def test_the_wording_check_finds_history_and_spares_upstream_references(text, found):
    assert development_words(text) == found


def test_no_file_speaks_of_the_projects_development_history():
    findings = []
    for name in tracked_text_files():
        try:
            text = (REPO_ROOT / name).read_text()
        except (UnicodeDecodeError, IsADirectoryError):
            continue
        findings += [f"{name}: {words!r}" for words in development_words(text)]
    assert not findings, "say what the course does, not how it came to be:\n" + "\n".join(findings)
