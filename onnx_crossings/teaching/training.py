"""Training a PyTorch classifier on in-memory tensors: the loop chapter 1 and its bonus share."""

import inspect
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from onnx_crossings.data import mnist
from onnx_crossings.plumbing import batching, devices, paths
from onnx_crossings.plumbing.files import atomic_write

BATCH_SIZE = 128


def evaluate(model, images, labels, batch_size=1_000):
    """Mean cross-entropy loss and accuracy of model on a labelled set, on the device the model is on."""
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        batches = batching.batches(images, batch_size)
        logits = torch.cat([model(batch.to(device)).cpu() for batch in batches])
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
