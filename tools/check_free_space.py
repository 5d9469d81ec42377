"""Stop an install early, with advice, when the disk cannot hold what it is about to write."""

import shutil
import sys
from pathlib import Path


def free_gigabytes(path: Path) -> float:
    """Free space, in GB, on the disk that holds a path (or would, once created)."""
    existing = Path(path).absolute()
    while not existing.exists():
        existing = existing.parent
    return shutil.disk_usage(existing).free / 1e9


def main(arguments: list[str]) -> int:
    """Check `path needed_gb`; print what to do and return 1 when the space is not there."""
    path, needed = Path(arguments[0]), float(arguments[1])
    free = free_gigabytes(path)
    if free >= needed:
        return 0
    print(
        f"Not enough disk space for {path}: it needs about {needed:g} GB and only {free:.1f} GB are free there.\n"
        f"Free some space (old clones, caches, `make clean`), or put the environment on a larger disk "
        f"with `make VENV=/larger/disk/onnx-crossings-venv ...`, then run make again.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
