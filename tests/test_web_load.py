"""The load test as the book and README type it: bounded, on loopback, every request answered."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.paths import REPO_ROOT

LOAD_TEST = ".venv/bin/python -m app.load_test --requests 200"
ROW = re.compile(r"^ +(on|off) +(\d+) +(\d+) +(\d+) +[\d.]+ +[\d.]+ +\d+ +([\d.]+)$", re.MULTILINE)


@pytest.mark.load
def test_the_documented_load_test_answers_every_request_and_batches_under_load():
    for page in ("README.md", "book/web_app.ipynb"):
        assert LOAD_TEST in (REPO_ROOT / page).read_text(), page
    command = [str(Path(sys.executable).parent / "python"), *LOAD_TEST.split()[1:]]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    rows = {(setting, int(clients)): row for setting, clients, *row in ROW.findall(run.stdout)}
    assert len(rows) == 6, run.stdout
    for (setting, clients), (requests, errors, mean_batch) in rows.items():
        assert (int(requests), int(errors)) == (200, 0), (setting, clients)
        if setting == "off" or clients == 1:
            assert float(mean_batch) == 1.0, (setting, clients)
    assert float(rows["on", 32][2]) > 2, "32 waiting clients should share model runs"
    assert "the 50 ms goal." in run.stdout and "the 2.0x goal." in run.stdout
