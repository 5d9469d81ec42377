import pytest

from helpers.paths import REPO_ROOT


@pytest.fixture
def empty_cache_over_npm_copies(tmp_path, monkeypatch):
    """An empty data cache in tmp_path in front of the offline data packages npm installed in the repository."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_OFFLINE_DIR", str(REPO_ROOT / "node_modules"))
