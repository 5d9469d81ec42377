"""Files a reader relies on: written whole or not at all (atomic, synced), and fingerprinted by sha256."""

import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

CHUNK_BYTES = 1 << 20


class ModelFilesError(RuntimeError):
    """A model's files (weights, tokenizer, preprocessing) are missing or not the expected ones; says what to do."""


def stream_digest(source: BinaryIO, sink: BinaryIO | None = None, algorithm: str = "sha256") -> str:
    """Copy source into sink (if given) in 1 MiB chunks and return the hex digest of the bytes."""
    digest = hashlib.new(algorithm)
    for chunk in iter(lambda: source.read(CHUNK_BYTES), b""):
        digest.update(chunk)
        if sink is not None:
            sink.write(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    with Path(path).open("rb") as stream:
        return stream_digest(stream)


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[BinaryIO]:
    """Yield a temp file beside path that replaces path, synced to disk, only if the body finishes without error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.chmod(temp, 0o644)
        with os.fdopen(handle, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_write_text(path: Path, newline: str | None = None) -> Iterator[TextIO]:
    """atomic_write for text in UTF-8 (characters it cannot encode become '?')."""
    with atomic_write(path) as out:
        text = io.TextIOWrapper(out, encoding="utf-8", errors="replace", newline=newline)
        yield text
        text.flush()
        text.detach()
