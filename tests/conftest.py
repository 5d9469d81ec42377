"""Shared fixtures: each chapter's graded run, the time-budget report, data folders, a loopback mirror, a tiny model.

A test that needs a chapter executed asks for the `graded_chapter` fixture and is marked `chapters` for it, so
`make check` (`-m "not chapters"`) leaves it out and `make test` runs it.
"""

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import onnx
import pytest
from graded_runs import GradedRun, make_grade, writes_into_repository
from onnx import TensorProto, helper

from onnx_crossings.plumbing.paths import REPO_ROOT
from tools.budgets import (
    GRADING_BUDGET_SECONDS,
    grading_times_path,
    load_times,
    notebook_times_path,
    time_budget_report,
)

CHAPTERS_MARK = "chapters"


def pytest_collection_modifyitems(items):
    """Mark every test that needs a chapter executed, whether it asks for one or is marked by hand."""
    for item in items:
        if "graded_chapter" in getattr(item, "fixturenames", ()):
            item.add_marker(CHAPTERS_MARK)


@pytest.fixture(scope="session")
def graded_chapter():
    """`make grade` over a chapter (by notebook stem), run the first time a test asks for it in a session."""
    runs: dict[str, GradedRun] = {}

    def graded(stem: str) -> GradedRun:
        if stem not in runs:
            runs[stem] = make_grade(REPO_ROOT / "notebooks" / f"{stem}.ipynb")
        return runs[stem]

    return graded


@pytest.fixture(scope="session")
def chapter_2_model(graded_chapter) -> tuple[Path, Path]:
    """Chapter 2's ONNX file and preprocessing: from its graded run in this session, or from `make chapters`."""
    from onnx_crossings.app.model import model_files  # the web app's names for them

    if not writes_into_repository():
        run = graded_chapter("02_imdb_keras_to_pytorch")
        assert run.make.returncode == 0, "chapter 2's graded run failed (see test_chapters.py)"
    onnx_path, preprocessing_path = model_files()
    if not onnx_path.is_file():
        pytest.fail(f"chapter 2's model is not in {onnx_path.parent}: run `make chapters` first")
    return onnx_path, preprocessing_path


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
            "-", "seconds each notebook took, against its budget (tools/budgets.py)"
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
def data_places(tmp_path: Path, mirror_folder: Path, monkeypatch) -> dict[str, Path]:
    """Empty cache and offline folders, with the course pointed at them, and the mirror's folder."""
    folders = {name: tmp_path / name for name in ("cache", "offline")} | {"mirror": mirror_folder}
    monkeypatch.setenv("COURSE_DATA_DIR", str(folders["cache"]))
    monkeypatch.setenv("COURSE_OFFLINE_DIR", str(folders["offline"]))
    return folders


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
