"""`make` sets up on each system or says, in one sentence, what to install: Python 3.13 or 3.12, then system tools."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from launching import NOBODY, enterable_by_everyone

from onnx_crossings.plumbing.paths import REPO_ROOT

MAKE = shutil.which("make")


def tools_folder(tmp_path, *commands, **scripts):
    """A folder to be the whole PATH: links to some of this machine's commands, and stand-ins (name=shell code)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for command in ("sh", "grep", "id", "mktemp", "rm", "ls", "sort", *commands):
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


@pytest.mark.parametrize("version", ["3.11", "3.14"])
def test_make_names_the_python_to_install_before_pip_starts(tmp_path, version):
    path = tools_folder(tmp_path, "uname", "apt-get", python3=python_of_version(version))
    venv = tmp_path / "venv"
    result = run([MAKE, "setup", f"VENV={venv}"], path)
    assert result.returncode != 0
    assert (
        f"make needs Python 3.13 or 3.12 and found only Python {version} (python3)" in result.stderr
    )
    assert "sudo apt-get install python3.13-venv" in result.stderr  # apt-get is there
    assert "pyenv install 3.13" in result.stderr  # for Debian 12, whose apt has neither
    assert "pip" not in result.stdout and not venv.exists()


def test_make_says_when_the_named_python_is_not_there(tmp_path):
    path = tools_folder(tmp_path, "uname")
    result = run([MAKE, "setup", f"VENV={tmp_path / 'venv'}", "PYTHON=python3.12"], path)
    assert result.returncode != 0
    assert "found PYTHON=python3.12, which is not there" in result.stderr


def test_find_python_takes_the_first_supported_version(tmp_path):
    path = tools_folder(
        tmp_path, python3_13=python_of_version("3.11"), python3_12=python_of_version("3.12")
    )
    result = run(["sh", "tools/find_python.sh"], path)
    assert result.returncode == 0 and result.stdout == "python3.12\n"


def test_find_python_looks_among_pyenvs_versions_newest_first(tmp_path):
    path = tools_folder(tmp_path, python3=python_of_version("3.11"))
    versions = tmp_path / ".pyenv" / "versions"  # HOME is tmp_path, and pyenv is not on PATH
    for version in ("3.12.7", "3.13.2", "3.13.10", "3.13.11t"):
        python = versions / version / "bin" / f"python{version[:4]}"
        python.parent.mkdir(parents=True)
        python.write_text(f"#!/bin/sh\n{python_of_version(version[:4])}\n")
        python.chmod(0o755)
    result = run(["sh", "tools/find_python.sh"], path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{versions / '3.13.10' / 'bin' / 'python3.13'}\n"


def test_an_environment_of_another_python_is_made_again(tmp_path):
    path = tools_folder(tmp_path, "uname", "apt-get", python3=python_of_version("3.11"))
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text(f"#!/bin/sh\n{python_of_version('3.11')}\n")
    (venv / "bin" / "python").chmod(0o755)
    result = run([MAKE, "--no-print-directory", "setup", f"VENV={venv}"], path)
    assert (
        f"{venv} was made with a Python the course no longer supports: removing it" in result.stdout
    )
    assert not venv.exists() and result.returncode != 0
    assert "make needs Python 3.13 or 3.12 and found only Python 3.11 (python3)" in result.stderr


def test_macos_learners_are_told_to_use_homebrew(tmp_path):
    path = tools_folder(tmp_path, uname="echo Darwin", python3=python_of_version("3.14"))
    result = run(["sh", "tools/find_python.sh"], path)
    assert "brew install python@3.13" in result.stderr
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
    assert "tools.web_app_figures" not in result.stdout
    assert committed == {name: (REPO_ROOT / "results" / name).read_bytes() for name in committed}


def test_the_native_windows_commands_are_the_makefiles_own():
    setup_page = (REPO_ROOT / "book" / "setup.md").read_text()
    block = re.search(r"```powershell\n(.*?)```", setup_page, flags=re.S).group(1)
    windows = [line for line in block.splitlines() if line]
    made = subprocess.run(
        [MAKE, "-n", "-B", "setup", "lab"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    commands = made.stdout.replace("--quiet ", "")
    for line in windows:
        posix = (
            line.replace("\\", "/").replace(".venv/Scripts/", ".venv/bin/").replace("py -3.13 ", "")
        )
        assert posix in commands, f"the setup page's Windows command {line!r} is not one make runs"
    assert len(windows) == 6


def test_make_gpu_follows_the_gpu_lock_until_make_cpu(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    log = tmp_path / "uv.log"
    (venv / "bin" / "uv").write_text(f'#!/bin/sh\necho "uv $*" >> {log}\n')
    (venv / "bin" / "python").write_text(f'#!/bin/sh\nexec {REPO_ROOT / ".venv/bin/python"} "$@"\n')
    for tool in ("uv", "python"):
        (venv / "bin" / tool).chmod(0o755)
    (venv / ".installed").touch()  # the environment is there: make gpu only changes its lock

    def make(target):
        command = [MAKE, "--no-print-directory", target, f"VENV={venv}"]
        result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        synced = [line for line in log.read_text().splitlines() if " pip sync " in line]
        log.unlink()
        return result, synced

    result, synced = make("gpu")
    assert [line.split()[-2:] for line in synced] == [
        ["requirements-gpu.lock", "requirements-nodeps.lock"]
    ]
    assert "--require-hashes" in synced[0] and (venv / ".gpu").exists()
    runtime = re.search(r"^onnxruntime==(\S+)", (REPO_ROOT / "requirements.txt").read_text(), re.M)
    assert (
        f"ONNX Runtime {runtime.group(1)}" in result.stdout and "trains on the CPU" in result.stdout
    )
    (venv / ".installed").unlink()
    _, synced = make("setup")  # a later install, after a lock changed, still follows the GPU lock
    assert synced[0].split()[-2] == "requirements-gpu.lock"
    _, synced = make("cpu")
    assert synced[0].split()[-2] == "requirements.lock" and not (venv / ".gpu").exists()
