"""Tests of the dataset-agnostic download plumbing: checksums, atomic writes, verified copies, mirrors."""

import functools
import gzip
import hashlib
import http.server
import io
import tarfile
import threading
from pathlib import Path

import pytest

from helpers.download import (
    DatasetError,
    atomic_write,
    download_md5_verified,
    download_verified,
    safe_extract,
    sha256_of,
    verified_copy,
)

PAYLOAD = bytes(range(256)) * 5000  # 1.28 MB: more than one 1 MiB chunk
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def served(tmp_path: Path) -> Path:
    """A folder holding the payload gzipped as payload.gz, standing in for a mirror."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / "payload.gz").write_bytes(gzip.compress(PAYLOAD))
    return folder


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static file handler that does not log requests to stderr."""

    def log_message(self, *args: object) -> None:
        """Drop the request log line."""


@pytest.fixture
def http_mirror(served: Path):
    """Base URL of a loopback HTTP server over the served folder."""
    handler = functools.partial(QuietHandler, directory=served)
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_port}/"
        server.shutdown()


def md5_of(path: Path) -> str:
    """Hex md5 of a file."""
    return hashlib.md5(path.read_bytes()).hexdigest()


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


def test_download_file_url_gunzips_and_verifies(tmp_path: Path, served: Path) -> None:
    target = tmp_path / "cache" / "payload"
    url = (served / "payload.gz").as_uri()
    md5 = md5_of(served / "payload.gz")
    download_verified([url], target, PAYLOAD_SHA256, md5_of_download=md5, gunzip=True)
    assert target.read_bytes() == PAYLOAD
    assert list(target.parent.iterdir()) == [target]


def test_download_without_gunzip_keeps_bytes(tmp_path: Path, served: Path) -> None:
    target = tmp_path / "cache" / "payload.gz"
    gz = served / "payload.gz"
    download_verified([gz.as_uri()], target, sha256_of(gz))
    assert target.read_bytes() == gz.read_bytes()


@pytest.mark.parametrize("bad", ["md5", "sha256"])
def test_download_checksum_mismatch_writes_nothing(tmp_path: Path, served: Path, bad: str) -> None:
    target = tmp_path / "cache" / "payload"
    gz = served / "payload.gz"
    md5 = "0" * 32 if bad == "md5" else md5_of(gz)
    sha256 = "0" * 64 if bad == "sha256" else PAYLOAD_SHA256
    with pytest.raises(DatasetError) as caught:
        download_verified([gz.as_uri()], target, sha256, md5_of_download=md5, gunzip=True)
    assert ("0" * 32 if bad == "md5" else "0" * 64) in str(caught.value)
    assert list(target.parent.iterdir()) == []


def test_download_falls_back_to_next_mirror_over_http(tmp_path: Path, http_mirror: str) -> None:
    target = tmp_path / "cache" / "payload"
    urls = [http_mirror + "missing.gz", http_mirror + "payload.gz"]
    download_verified(urls, target, PAYLOAD_SHA256, gunzip=True)
    assert target.read_bytes() == PAYLOAD


def test_download_reports_every_failed_mirror(
    tmp_path: Path, served: Path, http_mirror: str
) -> None:
    (served / "not-gzip.gz").write_bytes(PAYLOAD)
    target = tmp_path / "cache" / "payload"
    urls = [
        http_mirror + "missing.gz",
        (served / "absent.gz").as_uri(),
        (served / "not-gzip.gz").as_uri(),
    ]
    with pytest.raises(DatasetError) as caught:
        download_verified(urls, target, PAYLOAD_SHA256, gunzip=True)
    message = str(caught.value)
    assert all(url in message for url in urls)
    assert "404" in message
    assert f"place the file in {target.parent}" in message
    assert list(target.parent.iterdir()) == []


def test_download_md5_verified_keeps_good_file(tmp_path: Path, served: Path) -> None:
    gz = served / "payload.gz"
    target = tmp_path / "cache" / "payload.gz"
    download_md5_verified(gz.as_uri(), target, md5_of(gz))
    assert target.read_bytes() == gz.read_bytes()
    assert list(target.parent.iterdir()) == [target]


def test_download_md5_verified_refuses_wrong_md5(tmp_path: Path, served: Path) -> None:
    gz = served / "payload.gz"
    target = tmp_path / "cache" / "payload.gz"
    with pytest.raises(DatasetError) as caught:
        download_md5_verified(gz.as_uri(), target, "0" * 32)
    assert gz.as_uri() in str(caught.value)
    assert "0" * 32 in str(caught.value) and md5_of(gz) in str(caught.value)
    assert list(target.parent.iterdir()) == []


def test_download_md5_verified_reports_unreachable_url(tmp_path: Path, served: Path) -> None:
    url = (served / "absent.gz").as_uri()
    target = tmp_path / "cache" / "payload.gz"
    with pytest.raises(DatasetError, match="could not download") as caught:
        download_md5_verified(url, target, "0" * 32)
    assert url in str(caught.value)
    assert list(target.parent.iterdir()) == []


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
