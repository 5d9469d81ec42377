"""Tests of the dataset-agnostic download plumbing: verified copies, mirrors, safe extraction."""

import gzip
import hashlib
import io
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from onnx_crossings.data.download import (
    DatasetError,
    downloaded,
    safe_extract,
    verified_copy,
)
from onnx_crossings.plumbing.files import sha256_of

PAYLOAD = bytes(range(256)) * 5000  # 1.28 MB: more than one 1 MiB chunk
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def served(mirror_folder: Path) -> Path:
    """The loopback mirror's folder, holding the payload gzipped as payload.gz."""
    (mirror_folder / "payload.gz").write_bytes(gzip.compress(PAYLOAD))
    return mirror_folder


def md5_of(path: Path) -> str:
    """Hex md5 of a file."""
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_verified_copy_copies_good_file(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.write_bytes(PAYLOAD)
    target = tmp_path / "cache" / "copy"
    verified_copy(source, target, PAYLOAD_SHA256)
    assert target.read_bytes() == PAYLOAD
    assert list(target.parent.iterdir()) == [target]


def test_verified_copy_refuses_bad_file(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.write_bytes(PAYLOAD[:-1])
    target = tmp_path / "cache" / "copy"
    with pytest.raises(DatasetError) as caught:
        verified_copy(source, target, PAYLOAD_SHA256, advice="reinstall it")
    message = str(caught.value)
    assert str(source) in message
    assert PAYLOAD_SHA256 in message and sha256_of(source) in message
    assert "reinstall it" in message
    assert list(target.parent.iterdir()) == []


def test_verified_copy_gunzips(tmp_path: Path, served: Path) -> None:
    target = tmp_path / "cache" / "payload"
    verified_copy(served / "payload.gz", target, PAYLOAD_SHA256, gunzip=True)
    assert target.read_bytes() == PAYLOAD


def test_verified_copy_refuses_what_is_not_gzip(tmp_path: Path) -> None:
    source = tmp_path / "payload.gz"
    source.write_bytes(PAYLOAD)
    target = tmp_path / "cache" / "payload"
    with pytest.raises(DatasetError, match="could not be gunzipped.*fetch it again"):
        verified_copy(source, target, PAYLOAD_SHA256, gunzip=True, advice="fetch it again")
    assert list(target.parent.iterdir()) == []


def test_downloaded_yields_checked_file_then_cleans_up(
    tmp_path: Path, served: Path, mirror_url: str
) -> None:
    gz = served / "payload.gz"
    near = tmp_path / "cache"
    with downloaded([mirror_url + "payload.gz"], f"md5:{md5_of(gz)}", near) as path:
        assert path.read_bytes() == gz.read_bytes()
        assert path.parent.parent == near
    assert list(near.iterdir()) == []


def test_downloaded_cleans_up_when_body_raises(
    tmp_path: Path, served: Path, mirror_url: str
) -> None:
    near = tmp_path / "cache"
    with pytest.raises(KeyError):
        with downloaded([mirror_url + "payload.gz"], f"md5:{md5_of(served / 'payload.gz')}", near):
            raise KeyError("boom")
    assert list(near.iterdir()) == []


def test_downloaded_falls_back_to_next_mirror(
    tmp_path: Path, served: Path, mirror_url: str
) -> None:
    urls = [mirror_url + "missing.gz", mirror_url + "payload.gz"]
    with downloaded(urls, f"md5:{md5_of(served / 'payload.gz')}", tmp_path) as path:
        assert path.read_bytes() == (served / "payload.gz").read_bytes()


def test_downloaded_reports_every_failed_mirror(
    tmp_path: Path, served: Path, mirror_url: str
) -> None:
    with socket.socket() as closed:  # a loopback port nobody listens on
        closed.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{closed.getsockname()[1]}/payload.gz"
    urls = [mirror_url + "missing.gz", refused, mirror_url + "payload.gz"]
    near = tmp_path / "cache"
    wrong = "0" * 32
    with pytest.raises(DatasetError) as caught:
        with downloaded(urls, f"md5:{wrong}", near):
            pytest.fail("no mirror should pass")
    message = str(caught.value)
    assert all(url in message for url in urls)
    assert "404" in message
    assert wrong in message and md5_of(served / "payload.gz") in message
    assert "Check your internet connection" in message
    assert list(near.iterdir()) == []


Member = tuple[tarfile.TarInfo, bytes | None]


def member(
    name: str, data: bytes | None = None, kind: bytes = tarfile.REGTYPE, link: str = ""
) -> Member:
    """A tar member: its header and, for a regular file, its bytes."""
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, len(data or b"")
    return info, data


def write_tar(path: Path, members: list[Member]) -> Path:
    """Write a gzipped tar archive of the given (header, bytes) members at path."""
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def test_safe_extract_writes_files_and_folders(tmp_path: Path) -> None:
    archive = write_tar(
        tmp_path / "good.tar.gz",
        [
            member("top", kind=tarfile.DIRTYPE),
            member("top/a.txt", b"alpha"),
            member("b.txt", b"beta"),
        ],
    )
    target = tmp_path / "out" / "tree"
    safe_extract(archive, target)
    assert (target / "top" / "a.txt").read_bytes() == b"alpha"
    assert (target / "b.txt").read_bytes() == b"beta"
    assert list(target.parent.iterdir()) == [target]  # the temp folder is gone


@pytest.mark.parametrize(
    ("name", "kind", "link", "reason"),
    [
        ("../evil.txt", tarfile.REGTYPE, "", "climbs out"),
        ("top/../../evil.txt", tarfile.REGTYPE, "", "climbs out"),
        ("TMP/evil.txt", tarfile.REGTYPE, "", "absolute path"),
        ("link", tarfile.SYMTYPE, "/etc/passwd", "link or special file"),
        ("inner-link", tarfile.SYMTYPE, "good.txt", "link or special file"),
        ("hard", tarfile.LNKTYPE, "good.txt", "link or special file"),
        ("fifo", tarfile.FIFOTYPE, "", "link or special file"),
    ],
)
def test_safe_extract_refuses_unsafe_member(
    tmp_path: Path, name: str, kind: bytes, link: str, reason: str
) -> None:
    name = name.replace("TMP", str(tmp_path))  # an absolute path that would land in tmp_path
    info, data = member(name, b"evil" if kind == tarfile.REGTYPE else None, kind, link)
    archive = write_tar(tmp_path / "bad.tar.gz", [member("good.txt", b"fine"), (info, data)])
    target = tmp_path / "out" / "tree"
    with pytest.raises(DatasetError) as caught:
        safe_extract(archive, target)
    assert repr(info.name) in str(caught.value) and reason in str(caught.value)
    assert list(target.parent.iterdir()) == []  # not even the good member is left
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["bad.tar.gz", "out"]


def test_safe_extract_refuses_unreadable_archive(tmp_path: Path) -> None:
    archive = tmp_path / "broken.tar.gz"
    archive.write_bytes(PAYLOAD)
    target = tmp_path / "out" / "tree"
    with pytest.raises(DatasetError, match="not a readable tar archive"):
        safe_extract(archive, target)
    assert list(target.parent.iterdir()) == []


def test_importing_the_loaders_leaves_pooch_and_its_progress_bars_unloaded():
    code = (
        "import sys, onnx_crossings.data.mnist, onnx_crossings.data.imdb, onnx_crossings.data.stocks; "
        "print('pooch' in sys.modules)"
    )
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert child.stdout.strip() == "False", (
        "a chapter importing a loader would print tqdm's warning"
    )
