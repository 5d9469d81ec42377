"""Chapter 2's ONNX sentiment model and its preprocessing, checked at start-up and scored in batches."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from onnx_crossings.data import imdb
from onnx_crossings.plumbing import batching, paths
from onnx_crossings.plumbing.files import ModelFilesError, sha256_of
from onnx_crossings.teaching import runtimes

MODEL_NAME = "review_sentiment.onnx"
PREPROCESSING_NAME = "review_sentiment_preprocessing.json"
MAKE_IT = (
    "run chapter 2 to write it: `make chapters`, or execute notebooks/02_imdb_keras_to_pytorch.ipynb "
    "(about 6 minutes)"
)
VERSION_CHARACTERS = 12  # of the ONNX file's sha256
RUN_REVIEWS = 1000  # at most per ONNX Runtime run: its LSTM overflows a size computation on ~25,000


@dataclass(frozen=True)
class Prediction:
    """One review's score (the model's logit and its sigmoid), with how many of the tokens the model read it knew."""

    logit: float
    probability: float
    label: str
    known_tokens: int
    unknown_tokens: int
    unknown_words: list[str]


def model_files(folder: Path | None = None) -> tuple[Path, Path]:
    """The ONNX file and the preprocessing file chapter 2 writes into folder (default: paths.artifacts_dir())."""
    folder = paths.artifacts_dir() if folder is None else Path(folder)
    return folder / MODEL_NAME, folder / PREPROCESSING_NAME


class SentimentModel:
    """Chapter 2's LSTM in ONNX Runtime, with the vocabulary and sequence length it was trained with."""

    def __init__(self, onnx_path: Path, preprocessing_path: Path):
        for path in (onnx_path, preprocessing_path):
            if not path.is_file():
                raise ModelFilesError(f"{path} is missing: {MAKE_IT}")
        try:
            self.vocabulary, self.sequence_length = imdb.load_preprocessing(preprocessing_path)
        except (ValueError, KeyError) as error:
            raise ModelFilesError(
                f"{preprocessing_path} is unusable ({error}): {MAKE_IT}"
            ) from error
        options = ort.SessionOptions()
        # idle ONNX Runtime threads sleep instead of spinning: between runs the web server needs the cores
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = runtimes.inference_session(str(onnx_path), options)
        # ONNX Runtime raises exception types of its own for files it cannot read
        except Exception as error:
            raise ModelFilesError(
                f"{onnx_path} is not a usable ONNX model ({error}): {MAKE_IT}"
            ) from error
        [tokens] = self.session.get_inputs()
        if tokens.shape[1:] != [self.sequence_length]:
            raise ModelFilesError(
                f"{onnx_path} reads {tokens.shape[1:]} tokens a review but {preprocessing_path} makes "
                f"{self.sequence_length}: the two files come from different runs; {MAKE_IT}"
            )
        self.input_name = tokens.name
        self.onnx_path = onnx_path
        self.preprocessing_path = preprocessing_path
        self.version = sha256_of(onnx_path)[:VERSION_CHARACTERS]

    def score(self, reviews: list[str]) -> list[Prediction]:
        """Clean, encode and score reviews, in runs of at most RUN_REVIEWS."""
        ids = imdb.encode(reviews, self.vocabulary, self.sequence_length)
        logits = batching.in_batches(
            lambda batch: self.session.run(None, {self.input_name: batch})[0][:, 0],
            ids,
            RUN_REVIEWS,
        ).astype(np.float64)
        return [
            Prediction(
                logit=float(logit),
                probability=float(1 / (1 + np.exp(-logit))),
                label="positive" if logit >= 0 else "negative",
                known_tokens=int((row >= imdb.FIRST_WORD_ID).sum()),
                unknown_tokens=int((row == imdb.OOV_ID).sum()),
                unknown_words=self.unknown_words(review),
            )
            for review, row, logit in zip(reviews, ids, logits, strict=True)
        ]

    def unknown_words(self, review: str) -> list[str]:
        """The distinct words of the review's last sequence_length words that are not in the vocabulary."""
        words = imdb.clean_review(review).split()[-self.sequence_length :]
        return list(dict.fromkeys(word for word in words if word not in self.vocabulary))
