"""Colab's runtime as its published package list describes it: the list, its versions, and refreshing it.

Google publishes the packages of Colab's runtime in googlecolab/backend-info (`pip-freeze.txt`, beside `os-info.txt`
with its Python). `make lone-notebook` builds a runtime of those versions to run a chapter in, as Colab opens it;
`make colab-runtime` fetches the list again (online) and writes it here with the day it was fetched.

    python tools/colab_runtime.py refresh [--source URL_OR_FILE] [--to FILE]
"""

import argparse
import re
import sys
import urllib.request
from datetime import date
from pathlib import Path

from packaging.utils import canonicalize_name

from onnx_crossings.plumbing.files import atomic_write_text

LIST = Path(__file__).resolve().parent / "colab" / "pip-freeze.txt"
SOURCE = "https://raw.githubusercontent.com/googlecolab/backend-info/main/pip-freeze.txt"
PYTHON = "3.13"  # os-info.txt: Python 3.13.15 since 2026-08-19
# a build named by its URL, as Colab lists PyTorch's CPU builds: torch @ https://.../torch-2.11.0%2Bcpu-cp313-...
BUILD = re.compile(r"^([A-Za-z0-9_.\-]+) @ \S+/[A-Za-z0-9_]+-(\d[^-%]*)(?:%2B[^-]*)?-")


def versions(text: str) -> dict[str, str]:
    """Each package's version in a pip freeze listing, by canonical name (PyTorch's builds too)."""
    found = {}
    for line in text.splitlines():
        pinned = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)$", line) or BUILD.match(line)
        if pinned:
            found[canonicalize_name(pinned.group(1))] = pinned.group(2)
    return found


def refresh(source: str, to: Path) -> dict[str, str]:
    """Fetch Colab's list from a URL or file, check it, and write it to a file with where and when it came from."""
    if re.match(r"https?://", source):
        with urllib.request.urlopen(source, timeout=60) as response:
            text = response.read().decode()
    else:
        text = Path(source).read_text()
    text = "".join(line + "\n" for line in text.splitlines() if not line.startswith("# Fetched"))
    found = versions(text)
    if not {"numpy", "tensorflow", "torch"} <= set(found):
        raise SystemExit(
            f"{source} does not look like Colab's package list (no numpy, tensorflow or torch)"
        )
    with atomic_write_text(to) as file:
        file.write(
            f"# Fetched from {source} on {date.today().isoformat()} (make colab-runtime).\n{text}"
        )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["refresh"])
    parser.add_argument("--source", default=SOURCE, help=f"a URL or a file ({SOURCE})")
    parser.add_argument("--to", type=Path, default=LIST, help=f"where to write it ({LIST.name})")
    arguments = parser.parse_args(argv)
    found = refresh(arguments.source, arguments.to)
    print(
        f"Wrote {arguments.to}: {len(found)} packages, numpy {found['numpy']}, torch {found['torch']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
