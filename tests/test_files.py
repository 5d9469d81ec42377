"""Files a reader relies on: sha256 over more than one chunk, and writes that land whole or not at all."""

import hashlib
from pathlib import Path

import pytest

from onnx_crossings.plumbing.files import atomic_write, atomic_write_text, sha256_of

PAYLOAD = bytes(range(256)) * 5000  # 1.28 MB: more than one 1 MiB chunk
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


def test_sha256_of_streams_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(PAYLOAD)
    assert sha256_of(path) == PAYLOAD_SHA256
    path.write_bytes(PAYLOAD + b"x")
    assert sha256_of(path) != PAYLOAD_SHA256


def test_atomic_write_replaces_target(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "file"
    with atomic_write(target) as out:
        out.write(b"new")
        assert not target.exists()  # nothing visible until the body finishes
    assert target.read_bytes() == b"new"
    assert [p.name for p in target.parent.iterdir()] == ["file"]


def write_half_then_fail(target: Path) -> None:
    """Start an atomic write of target and raise in the middle of it."""
    with pytest.raises(KeyError):
        with atomic_write(target) as out:
            out.write(b"half")
            raise KeyError("boom")


def test_atomic_write_leaves_nothing_when_body_raises(tmp_path: Path) -> None:
    target = tmp_path / "file"
    write_half_then_fail(target)
    assert list(tmp_path.iterdir()) == []
    target.write_bytes(b"old")
    write_half_then_fail(target)
    assert target.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_text_is_utf8_with_unencodable_characters_replaced(tmp_path: Path) -> None:
    target = tmp_path / "table.md"
    with atomic_write_text(target) as out:
        out.write("caf\u00e9 \ud800\n")
        assert not target.exists()
    assert target.read_bytes() == "café ?\n".encode()
    assert [p.name for p in tmp_path.iterdir()] == ["table.md"]
