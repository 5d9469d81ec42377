"""The PyTorch training loops: chapter 1's CNN (fit, shared with its bonus and chapter 4) and chapter 2 bonus's
fine-tuning of the pretrained review classifier (fine_tune)."""

import inspect
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from helpers import batching, devices, mnist, paths
from helpers.files import atomic_write
from helpers.models import BERT_PAD_ID

BATCH_SIZE = 128


def evaluate(model, images, labels, batch_size=1_000):
    """Mean cross-entropy loss and accuracy of model on a labelled set, on the device the model is on."""
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        logits = torch.from_numpy(
            batching.in_batches(
                lambda batch: model(batch.to(device)).cpu().numpy(), images, batch_size
            )
        )
    accuracy = (logits.argmax(1) == labels).float().mean().item()
    return F.cross_entropy(logits, labels).item(), accuracy


def train_one_epoch(model, optimizer, scheduler, images, labels):
    """One pass over shuffled mini-batches on the model's device; returns mean training loss and accuracy."""
    model.train()
    device = next(model.parameters()).device
    order = torch.randperm(len(images))
    total_loss, correct = 0.0, 0
    for batch in batching.batches(order, BATCH_SIZE):
        inputs = images[batch].to(device, memory_format=torch.channels_last)
        targets = labels[batch].to(device)
        logits = model(inputs)
        loss = F.cross_entropy(logits, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        total_loss += loss.item() * len(batch)
        correct += (logits.argmax(1) == targets).sum().item()
    return total_loss / len(images), correct / len(images)


def fit(model, train, validation, epochs, max_lr=3e-3, device=None):
    """Train with AdamW and a one-cycle schedule on a device (devices.torch_device() by default), a progress bar
    per run; hand the model back on the CPU, where it is exported and compared; return history and seconds."""
    (images, labels), (val_images, val_labels) = train, validation
    model.to(devices.torch_device() if device is None else device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=max_lr,
        epochs=epochs,
        steps_per_epoch=math.ceil(len(images) / BATCH_SIZE),
    )
    history = {"train_loss": [], "train_accuracy": [], "val_loss": [], "val_accuracy": []}
    started = time.perf_counter()
    progress = tqdm(range(1, epochs + 1), desc="Training", unit="epoch", file=sys.stdout)
    for _ in progress:
        train_loss, train_accuracy = train_one_epoch(model, optimizer, scheduler, images, labels)
        val_loss, val_accuracy = evaluate(model, val_images, val_labels)
        for key, value in zip(
            history, (train_loss, train_accuracy, val_loss, val_accuracy), strict=True
        ):
            history[key].append(value)
        progress.set_postfix(
            loss=f"{train_loss:.4f}", val_loss=f"{val_loss:.4f}", val_accuracy=f"{val_accuracy:.2%}"
        )
    model.to("cpu")
    return history, time.perf_counter() - started


def trained_copy(architecture, epochs: int, seed: int) -> Path:
    """Where a model trained by this loop on MNIST is kept, named by a hash of all that decides its weights."""
    recipe = [inspect.getsource(code) for code in (architecture, sys.modules[__name__], mnist)]
    recipe += [str(epochs), str(seed), torch.__version__]
    return paths.trained_file(architecture.__name__, recipe, ".pt")


def save_trained(model, history: dict, seconds: float, path: Path) -> None:
    """Keep a trained model's weights, history and training seconds in one file, written whole or not at all."""
    with atomic_write(path) as out:
        torch.save({"weights": model.state_dict(), "history": history, "seconds": seconds}, out)


def load_trained(model, path: Path) -> tuple[dict, float]:
    """Load the weights save_trained kept into model; return their training history and seconds."""
    kept = torch.load(path, weights_only=True)
    model.load_state_dict(kept["weights"])
    return kept["history"], kept["seconds"]


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
    from helpers.transformer import predict  # imported here: chapter 1 needs no tokenizer

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
