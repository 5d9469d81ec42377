import pytest

from helpers.paths import REPO_ROOT, writes_into_repository
from helpers.results import load_notebook_times, notebook_times_path, time_budget_report


def pytest_sessionstart(session):
    """Forget the notebook times of an earlier test run: the table at the end is this run's."""
    if not writes_into_repository():
        notebook_times_path().unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter):
    """After the tests: how long each chapter took to execute, against its time budget."""
    times = load_notebook_times() if not writes_into_repository() else {}
    if times:
        terminalreporter.write_sep(
            "-", "seconds each notebook took, against its budget (helpers/results.py)"
        )
        terminalreporter.write_line(time_budget_report(times))


@pytest.fixture
def empty_cache_over_npm_copies(tmp_path, monkeypatch):
    """An empty data cache in tmp_path in front of the offline data packages npm installed in the repository."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_OFFLINE_DIR", str(REPO_ROOT / "node_modules"))
