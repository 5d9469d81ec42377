"""plumbing/install.py: what a chapter opened alone installs, and that it installs nothing where the course is."""

import ast
import os
import runpy
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import nbformat
import pytest
from packaging.utils import canonicalize_name

from onnx_crossings.plumbing import install
from onnx_crossings.plumbing.paths import REPO_ROOT

CHAPTERS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
OWN_PACKAGES = {"onnx_crossings"}


def pinned_in(file: str) -> dict[str, str]:
    """The pins a requirements file lists, by canonical name."""
    pins = {}
    for line in (REPO_ROOT / file).read_text().splitlines():
        requirement = line.partition("#")[0].strip()
        if requirement:
            name, _, version = requirement.partition("==")
            pins[canonicalize_name(name.partition("[")[0])] = version
    return pins


def setup_cell_of(path):
    """A notebook's code cells, and the one tagged as its set-up cell."""
    cells = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    tagged = [cell for cell in cells if "course-setup" in cell.metadata.get("tags", [])]
    return cells, tagged


def test_the_installed_package_carries_exactly_the_requirements_files_pins():
    pins, without_dependencies = install.course_pins()
    carried = {name: str(pin.specifier).removeprefix("==") for name, pin in pins.items()}
    listed = pinned_in("requirements.txt") | pinned_in("requirements-nodeps.txt")
    assert carried == listed, "the package's metadata is stale: run `make setup` (pip install -e .)"
    assert without_dependencies == set(pinned_in("requirements-nodeps.txt"))


def test_every_chapter_has_its_packages_and_each_is_pinned():
    pins, _ = install.course_pins()
    assert set(install.CHAPTER_PACKAGES) == {path.stem for path in CHAPTERS}
    for chapter, names in install.CHAPTER_PACKAGES.items():
        unpinned = [name for name in names if name not in pins]
        assert not unpinned, f"{chapter} needs {unpinned}, which requirements*.txt do not pin"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_a_chapter_imports_only_what_its_set_up_cell_installs(path):
    providers = packages_distributions()
    cells, _ = setup_cell_of(path)
    imported = set()
    for cell in cells:
        source = "\n".join(
            line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                imported |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.partition(".")[0])
    third_party = imported - OWN_PACKAGES - set(sys.stdlib_module_names) - {"IPython"}
    needed = {canonicalize_name(dist) for module in third_party for dist in providers[module]}
    missing = needed - set(install.CHAPTER_PACKAGES[path.stem])
    assert not missing, (
        f"{path.stem} imports {sorted(missing)}: add them to onnx_crossings/plumbing/install.py"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_the_set_up_cell_comes_first_and_does_nothing_where_the_course_is_installed(path):
    cells, tagged = setup_cell_of(path)
    assert len(tagged) == 1 and cells[0] is tagged[0], f"{path.stem}: the set-up cell is not first"
    ran = subprocess.run(
        [sys.executable, "-c", tagged[0].source],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=path.parent,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout == "", f"the set-up cell printed, so it meant to install: {ran.stdout}"


def test_a_learners_helpers_module_beside_a_chapter_does_not_pass_for_the_course(tmp_path):
    """The set-up cell asks for the course's distribution, so a learner's helpers.py does not stop it installing."""
    _, (cell,) = setup_cell_of(CHAPTERS[0])
    (tmp_path / "helpers.py").write_text(
        "def percent(part, whole):\n    return 100 * part / whole\n"
    )
    # a Python without the course (and without pip, so nothing is installed)
    bare = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    ran = subprocess.run(
        [str(bare / "bin" / "python"), "-c", cell.source],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=os.environ | {"COURSE_INSTALL_SOURCE": "onnx-crossings-from-nowhere"},
    )
    assert (
        "Installing the course's package, onnx_crossings, from onnx-crossings-from-nowhere"
        in ran.stdout
    ), ran.stdout + ran.stderr[-2000:]
    assert "No module named pip" in ran.stderr, "it went on to run pip"


def fake_python(monkeypatch, *versions: dict[str, str]) -> list[list[str]]:
    """Give install the installed versions in turn (before, after pip) and record pip's arguments."""
    states = iter(versions)
    current = {}

    def installed():
        nonlocal current
        current = next(states, current)
        return dict(current)

    calls = []

    def pip_install(arguments):
        constraints = arguments[1] if arguments[0] == "--constraint" else None
        calls.append(arguments + ([Path(constraints).read_text()] if constraints else []))

    monkeypatch.setattr(install, "installed_versions", installed)
    monkeypatch.setattr(install, "pip_install", pip_install)
    return calls


def everything_pinned() -> dict[str, str]:
    """This Python's distributions as the course pins them."""
    pins, _ = install.course_pins()
    return {name: str(pin.specifier).removeprefix("==") for name, pin in pins.items()}


def test_nothing_is_installed_when_every_pin_is_in_place(monkeypatch, capsys):
    calls = fake_python(monkeypatch, everything_pinned(), everything_pinned())
    install.install_missing("03_aapl_keras_to_scikit_learn")
    assert calls == [] and capsys.readouterr().out == ""


def test_a_runtimes_own_versions_are_kept_from_colabs_on_and_replaced_when_older(monkeypatch):
    colab = everything_pinned() | {"torch": "2.11.0+cpu", "numpy": "2.1.3", "keras": "3.13.2"}
    fake_python(monkeypatch, colab)
    needed, kept = install.missing("01_mnist_pytorch_to_tensorflow")
    assert needed == [] and kept == {"numpy": "2.1.3", "torch": "2.11.0+cpu", "keras": "3.13.2"}
    old = everything_pinned() | {"torch": "2.1.0", "numpy": "1.26.4", "onnx": "1.16.0"}
    fake_python(monkeypatch, old)
    needed, kept = install.missing("01_mnist_pytorch_to_tensorflow")
    pinned = everything_pinned()
    assert [str(pin) for pin in needed] == [
        f"{name}=={pinned[name]}" for name in ("numpy", "onnx", "torch")
    ]
    assert kept == {}


def test_what_is_missing_is_installed_under_the_pins_and_what_is_kept_stays_as_it_is(
    monkeypatch, capsys
):
    pinned = everything_pinned()
    before = pinned | {"torch": "2.11.0", "numpy": "1.26.4"}
    del before["onnx2tf"], before["tensorflow"]
    after = pinned | {"torch": "2.11.0"}
    calls = fake_python(monkeypatch, before, before, after)
    with pytest.raises(install.RestartNeeded, match="numpy"):  # this process has imported NumPy
        install.install_missing("01_mnist_pytorch_to_tensorflow")
    with_dependencies, alone = calls
    assert with_dependencies[2:4] == [
        f"numpy=={pinned['numpy']}",
        f"tensorflow=={pinned['tensorflow']}",
    ]
    constraints = with_dependencies[4].splitlines()
    assert f"numpy=={pinned['numpy']}" in constraints and "torch==2.11.0" in constraints
    assert "uvicorn==" + pinned["uvicorn"] in constraints  # pip's constraints take no extras
    assert alone == ["--no-deps", f"onnx2tf=={pinned['onnx2tf']}"]
    printed = capsys.readouterr().out
    assert "Keeping this runtime's torch 2.11.0 (the course runs on these" in printed
    assert (
        f"Replacing this runtime's numpy 1.26.4: the course needs numpy>=2.1.3, so it installs "
        f"numpy=={pinned['numpy']}." in printed
    )
    installed = (
        f"numpy {pinned['numpy']}, onnx2tf {pinned['onnx2tf']}, tensorflow {pinned['tensorflow']}"
    )
    assert f"Installed 3 packages: {installed}" in printed


def test_what_is_kept_starts_at_colabs_published_versions():
    """The Colab-runtime test (test_lone_notebook) then runs a chapter on exactly the oldest versions kept."""
    colab_runtime = runpy.run_path(str(REPO_ROOT / "tools" / "colab_runtime.py"))
    colab = colab_runtime["versions"](colab_runtime["LIST"].read_text())
    floors = {name: str(floor) for name, floor in install.KEPT_FROM.items()}
    # but protobuf, which ONNX 1.23 needs newer than Colab's
    expected = {name: f">={colab[name]}" for name in install.KEPT_FROM} | {"protobuf": ">=6.31.1"}
    assert floors == expected
    assert install.KEPT_FROM["protobuf"].contains(colab["protobuf"]) is False


def test_replacing_a_package_this_kernel_imported_asks_for_a_restart(monkeypatch):
    before = everything_pinned() | {"numpy": "2.0.2"}  # older than Colab's: replaced
    fake_python(monkeypatch, before, before, everything_pinned())
    with pytest.raises(install.RestartNeeded, match="numpy.*restart it"):
        install.install_missing("03_aapl_keras_to_scikit_learn")


def test_an_unsupported_python_is_told_which_to_choose(monkeypatch):
    fake_python(monkeypatch, {})
    monkeypatch.setattr(install, "PYTHONS", [(3, 10)])
    with pytest.raises(RuntimeError, match="need Python 3.10"):
        install.install_missing("03_aapl_keras_to_scikit_learn")


def test_an_unknown_chapter_is_named_with_the_chapters_there_are():
    with pytest.raises(ValueError, match="03_aapl_keras_to_scikit_learn"):
        install.missing("04_nothing")
