"""`make check` runs every test that needs no chapter executed; `make test` runs those and the rest."""

import os
import subprocess
import sys
from pathlib import Path

from onnx_crossings.plumbing.paths import REPO_ROOT


def collected(output: Path, *arguments: str) -> set[str]:
    """The test ids pytest collects from the repository root with these arguments."""
    listing = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        # a session of its own writes (and forgets the times of) its own output folder, not this run's
        env=os.environ | {"COURSE_OUTPUT_DIR": str(output)},
    )
    assert listing.returncode == 0, listing.stdout[-2000:] + listing.stderr[-2000:]
    return {line for line in listing.stdout.splitlines() if "::" in line}


def test_make_check_leaves_out_exactly_the_tests_that_need_a_chapter_executed(tmp_path):
    made = subprocess.run(["make", "-n", "check"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert 'pytest -m "not chapters"' in made.stdout, made.stdout
    everything, quick = collected(tmp_path), collected(tmp_path, "-m", "not chapters")
    left_out = everything - quick
    assert quick < everything
    # the chapters' graded runs, what reads their outputs (the results page, the web app's model), the lone run
    for test_file in ("test_chapters.py", "test_web_browser.py", "test_web_load.py"):
        assert any(f"tests/{test_file}::" in test for test in left_out), test_file
    assert (
        "tests/test_lone_notebook.py::test_chapter_3_runs_alone_in_colabs_runtime_keeping_its_packages"
        in left_out
    )
    assert "tests/test_chapters.py::test_the_documented_command_checks_one_notebook" in quick
