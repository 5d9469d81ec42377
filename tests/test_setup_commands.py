"""`make` sets up on each system or says, in one sentence, what to install: Python 3.11 or 3.12, then system tools."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from launching import NOBODY, enterable_by_everyone

from helpers.paths import REPO_ROOT

MAKE = shutil.which("make")


def tools_folder(tmp_path, *commands, **scripts):
    """A folder to be the whole PATH: links to some of this machine's commands, and stand-ins (name=shell code)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for command in ("sh", "grep", "id", "mktemp", "rm", *commands):
        (folder / command).symlink_to(shutil.which(command))
    for name, code in scripts.items():
        script = folder / name.replace("_", ".")
        script.write_text(f"#!/bin/sh\n{code}\n")
        script.chmod(0o755)
    folder.chmod(0o755)
    tmp_path.chmod(0o755)
    return folder


def python_of_version(version):
    """A stand-in interpreter that reports a Python version, as find_python.sh asks it."""
    return f'echo "{version}"'


def run(command, path, as_nobody=False):
    """A command with only the given folder on PATH, from the repository root, as this user or as nobody."""
    environment = {"PATH": str(path), "HOME": str(path.parent), "LANG": "C.UTF-8"}
    prefix = [shutil.which(NOBODY[0]), *NOBODY[1:]] if as_nobody else []  # setpriv is not on PATH
    with enterable_by_everyone(REPO_ROOT, path, Path(sys.executable).resolve()):
        return subprocess.run(
            prefix + command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True
        )


@pytest.mark.parametrize("version", ["3.10", "3.13"])
def test_make_names_the_python_to_install_before_pip_starts(tmp_path, version):
    path = tools_folder(tmp_path, "uname", "apt-get", python3=python_of_version(version))
    venv = tmp_path / "venv"
    result = run([MAKE, "setup", f"VENV={venv}"], path)
    assert result.returncode != 0
    assert (
        f"make needs Python 3.11 or 3.12 and found only Python {version} (python3)" in result.stderr
    )
    assert "sudo apt-get install python3.11-venv" in result.stderr  # apt-get is there
    assert "pip" not in result.stdout and not venv.exists()


def test_make_says_when_the_named_python_is_not_there(tmp_path):
    path = tools_folder(tmp_path, "uname")
    result = run([MAKE, "setup", f"VENV={tmp_path / 'venv'}", "PYTHON=python3.12"], path)
    assert result.returncode != 0
    assert "found PYTHON=python3.12, which is not there" in result.stderr


def test_find_python_takes_the_first_supported_version(tmp_path):
    path = tools_folder(
        tmp_path, python3_11=python_of_version("3.9"), python3_12=python_of_version("3.12")
    )
    result = run(["sh", "tools/find_python.sh"], path)
    assert result.returncode == 0 and result.stdout == "python3.12\n"


def test_macos_learners_are_told_to_use_homebrew(tmp_path):
    path = tools_folder(tmp_path, uname="echo Darwin", python3=python_of_version("3.13"))
    result = run(["sh", "tools/find_python.sh"], path)
    assert "brew install python@3.12" in result.stderr
    for tool, advice in [("dot", "install Homebrew"), ("bwrap", "exists only on Linux")]:
        result = run(["sh", "tools/system_tool.sh", tool], path)
        assert result.returncode == 1 and advice in result.stdout


def test_a_missing_tool_is_named_with_its_install_command(tmp_path):
    path = tools_folder(tmp_path, "uname", "apt-get")
    result = run(["sh", "tools/system_tool.sh", "dot"], path, as_nobody=os.getuid() == 0)
    assert result.returncode == 1
    assert "Graphviz (dot, which draws the ONNX graph pictures) is missing" in result.stdout
    assert "sudo apt-get install graphviz" in result.stdout


def test_the_chapters_run_without_chromium_and_keep_the_web_app_figures(tmp_path):
    committed = {
        name: (REPO_ROOT / "results" / name).read_bytes()
        for name in ("web_app.json", "web_app.png")
    }
    path = tools_folder(tmp_path, "uname", "apt-get", "dot")
    result = run(
        [MAKE, "--no-print-directory", "web-app-figures"], path, as_nobody=os.getuid() == 0
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "Chromium (which checks the web app's page) is missing, so the web app's figures keep"
        in result.stdout
    )
    assert "app.figures" not in result.stdout
    assert committed == {name: (REPO_ROOT / "results" / name).read_bytes() for name in committed}


def test_the_native_windows_commands_are_the_makefiles_own():
    readme = (REPO_ROOT / "README.md").read_text()
    block = re.search(r"```powershell\n(.*?)```", readme, flags=re.S).group(1)
    windows = [line for line in block.splitlines() if line]
    made = subprocess.run(
        [MAKE, "-n", "-B", "setup", "lab"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    commands = made.stdout.replace("--quiet ", "")
    for line in windows:
        posix = (
            line.replace("\\", "/").replace(".venv/Scripts/", ".venv/bin/").replace("py -3.12 ", "")
        )
        assert posix in commands, f"the README's Windows command {line!r} is not one make runs"
    assert len(windows) == 6


def test_make_gpu_swaps_the_runtime_and_reports_the_devices(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    log = tmp_path / "pip.log"
    (venv / "bin" / "pip").write_text(f'#!/bin/sh\necho "pip $*" >> {log}\n')
    (venv / "bin" / "python").write_text(f'#!/bin/sh\nexec {REPO_ROOT / ".venv/bin/python"} "$@"\n')
    for tool in ("pip", "python"):
        (venv / "bin" / tool).chmod(0o755)
    (venv / ".installed").touch()  # the environment is there: make gpu only swaps the runtime
    result = subprocess.run(
        [MAKE, "--no-print-directory", "gpu", f"VENV={venv}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert log.read_text().splitlines() == [
        "pip uninstall --yes onnxruntime",
        "pip install --requirement requirements-gpu.txt",
    ]
    assert "ONNX Runtime 1.23.0" in result.stdout and "trains on the CPU" in result.stdout
