"""The pinned environment resolves from wheels alone on every platform and Python the README supports, and its lock
is current: `make lock` run again writes the same files."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from onnx_crossings.plumbing.paths import REPO_ROOT

PLATFORMS = {  # the README's platforms, as uv names them (glibc 2.28 or newer on Linux)
    "Linux x86-64": "x86_64-manylinux_2_28",
    "Linux aarch64": "aarch64-manylinux_2_28",
    "macOS arm64": "aarch64-apple-darwin",
    "Windows x86-64": "x86_64-pc-windows-msvc",
}
PYTHONS = ["3.12", "3.13"]
LOCKS = ["requirements.lock", "requirements-nodeps.lock", "requirements-gpu.lock"]
MACOS = "14.0"  # the oldest macOS that PyTorch's arm64 wheels run on


def resolve(requirements, platform, python, *options):
    """uv's resolution of a requirements file for another platform and Python, wheels only."""
    command = [sys.executable, "-m", "uv", "pip", "compile", requirements, "--quiet", "--no-header"]
    command += ["--python-platform", PLATFORMS[platform], "--python-version", python]
    command += ["--only-binary", ":all:", "--no-python-downloads"]  # no interpreter is needed
    command += ["--index-url", "https://pypi.org/simple", *options]
    environment = os.environ | {"MACOSX_DEPLOYMENT_TARGET": MACOS}
    return subprocess.run(command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True)


def failure(result, platform, python):
    """The sentence that names the package uv could not install, and uv's reason."""
    because = result.stderr.find("Because")
    cause = result.stderr[because:].splitlines()[0] if because >= 0 else result.stderr.strip()
    package = re.search(r"([A-Za-z0-9_.\-]+)(==\S+)? has no", cause)
    what = package.group(1) if package else "the pinned set"
    return f"{what} does not install on {platform}, Python {python}: {cause}"


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_lock_resolves(platform, python):
    result = resolve("requirements.lock", platform, python)
    assert result.returncode == 0, failure(result, platform, python)
    pinned = re.findall(r"^([a-z0-9][a-z0-9._\-]*)==", result.stdout, flags=re.M)
    assert {"torch", "tensorflow", "onnxruntime", "ai-edge-litert"} <= set(pinned)
    nodeps = resolve("requirements-nodeps.txt", platform, python, "--no-deps")
    assert nodeps.returncode == 0, failure(nodeps, platform, python)


def test_failure_names_package_and_platform(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("h5py==3.11.0\n")  # the course's old pin: no aarch64 wheels
    result = resolve(str(requirements), "Linux aarch64", "3.12")
    assert result.returncode != 0
    message = failure(result, "Linux aarch64", "3.12")
    assert message.startswith(
        "h5py does not install on Linux aarch64, Python 3.12: Because h5py==3.11.0"
    )


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("platform", ["Linux x86-64", "Windows x86-64"])
def test_the_gpu_lock_resolves_with_the_gpu_runtime_in_place_of_the_cpu_one(platform, python):
    result = resolve("requirements-gpu.lock", platform, python)
    assert result.returncode == 0, failure(result, platform, python)
    cpu = re.search(r"^onnxruntime==(\S+)", (REPO_ROOT / "requirements.lock").read_text(), re.M)
    gpu = re.search(r"^onnxruntime-gpu==(\S+)", result.stdout, flags=re.M)
    assert gpu and cpu and gpu.group(1) == cpu.group(1), "the same ONNX Runtime version"
    assert not re.search(r"^onnxruntime==", result.stdout, flags=re.M)


def relock(folder, pins=None):
    """`make lock` in a folder holding a copy of the pins (requirements.txt's text replaced by pins) and locks."""
    for name in [
        "requirements.txt",
        "requirements-nodeps.txt",
        "requirements-gpu.txt",
        "Makefile",
        *LOCKS,
    ]:
        shutil.copy(REPO_ROOT / name, folder / name)
    if pins is not None:
        (folder / "requirements.txt").write_text(pins)
    (folder / "tools").mkdir()
    shutil.copy(REPO_ROOT / "tools" / "find_python.sh", folder / "tools")
    venv = Path(sys.executable).parent.parent
    make = ["make", "--no-print-directory", "--silent", "lock", f"VENV={venv}"]
    result = subprocess.run(make, cwd=folder, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [name for name in LOCKS if (folder / name).read_text() != (REPO_ROOT / name).read_text()]


def test_the_lock_is_current(tmp_path):
    stale = relock(tmp_path)
    assert not stale, (
        f"{', '.join(stale)} no longer match the pins: run `make lock` and commit the locks"
    )


def test_the_lock_check_notices_a_changed_pin(tmp_path):
    pins = (REPO_ROOT / "requirements.txt").read_text()
    changed = re.sub(r"^tqdm==\S+", "tqdm==4.67.1", pins, flags=re.M)
    assert changed != pins
    assert relock(tmp_path, changed) == ["requirements.lock", "requirements-gpu.lock"]
    assert "\ntqdm==4.67.1 " in (tmp_path / "requirements.lock").read_text()
