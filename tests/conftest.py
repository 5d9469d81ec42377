"""Shared fixtures: the time-budget report, an empty data cache, a loopback download mirror, a tiny ONNX model."""

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from helpers.budgets import (
    GRADING_BUDGET_SECONDS,
    grading_times_path,
    load_times,
    notebook_times_path,
    time_budget_report,
)
from helpers.paths import REPO_ROOT, output_dir


def writes_into_repository() -> bool:
    """True when runs write into the repository's own artifacts and results (the default; make test does not)."""
    return output_dir().resolve() == REPO_ROOT


def pytest_sessionstart(session):
    """Forget the times of an earlier test run: the tables at the end are this run's."""
    if not writes_into_repository():
        notebook_times_path().unlink(missing_ok=True)
        grading_times_path().unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter):
    """After the tests: how long each chapter took to execute, and to grade, against its time budget."""
    if writes_into_repository():
        return
    if notebook_times := load_times(notebook_times_path()):
        terminalreporter.write_sep(
            "-", "seconds each notebook took, against its budget (helpers/budgets.py)"
        )
        terminalreporter.write_line(time_budget_report(notebook_times))
    if grading_times := load_times(grading_times_path()):
        terminalreporter.write_sep(
            "-", "seconds make grade took after each reference run, against its budget"
        )
        terminalreporter.write_line(time_budget_report(grading_times, GRADING_BUDGET_SECONDS))


@pytest.fixture
def empty_cache_over_npm_copies(tmp_path, monkeypatch):
    """An empty data cache in tmp_path in front of the offline data packages npm installed in the repository."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_OFFLINE_DIR", str(REPO_ROOT / "node_modules"))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static file handler that does not log requests to stderr."""

    def log_message(self, *args: object) -> None:
        """Drop the request log line."""


@pytest.fixture
def mirror_folder(tmp_path: Path) -> Path:
    """An empty folder that mirror_url serves, standing in for a dataset's download site."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    return folder


@pytest.fixture
def mirror_url(mirror_folder: Path) -> Iterator[str]:
    """Base URL of a loopback HTTP server over mirror_folder."""
    handler = functools.partial(QuietHandler, directory=mirror_folder)
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_port}/"
        server.shutdown()


@pytest.fixture
def doubling_onnx(tmp_path: Path):
    """Write an ONNX model computing x + x over a (batch, width) float input named input_name; return its path."""

    def write(input_name: str = "x", width: int = 1) -> Path:
        graph = helper.make_graph(
            [helper.make_node("Add", [input_name, input_name], ["twice"])],
            "doubling",
            [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["batch", width])],
            [helper.make_tensor_value_info("twice", TensorProto.FLOAT, ["batch", width])],
        )
        path = tmp_path / f"double_{input_name}.onnx"
        onnx.save(
            helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9),
            path,
        )
        return path

    return write
