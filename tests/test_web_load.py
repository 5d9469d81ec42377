"""The load test as the book types it: bounded, on loopback, every request answered, batching at work.

The server it starts serves chapter 2's model (the `chapter_2_model` fixture makes sure it is there).
"""

import subprocess
import sys
from pathlib import Path

import pytest

from onnx_crossings.plumbing.paths import REPO_ROOT
from tools import load_test

LOAD_TEST = ".venv/bin/python -m tools.load_test --requests 200"

pytestmark = pytest.mark.usefixtures("chapter_2_model")


@pytest.mark.load
def test_the_documented_load_test_runs_and_prints_its_table_and_goals():
    for page in ("book/setup.md", "book/web_app.ipynb"):
        assert LOAD_TEST in (REPO_ROOT / page).read_text(), page
    command = [str(Path(sys.executable).parent / "python"), *LOAD_TEST.split()[1:]]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert run.stdout.startswith("micro-batching  clients  requests  errors")
    assert "the 50 ms goal." in run.stdout and "the 2.0x goal." in run.stdout


@pytest.mark.load
def test_every_request_is_answered_and_waiting_clients_share_model_runs():
    levels = load_test.load_test(load_test.load_test_reviews(200), 200, concurrencies=(1, 32))
    for setting, rows in levels.items():
        for row in rows:
            assert (row["requests"], row["errors"]) == (200, 0), (setting, row)
            if setting == "off" or row["concurrency"] == 1:
                assert row["mean_batch"] == 1.0, (setting, row)
    assert levels["on"][1]["mean_batch"] > 2, "32 waiting clients should share model runs"
