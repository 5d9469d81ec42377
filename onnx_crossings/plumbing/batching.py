"""The one batch loop: a sequence cut into batches, and a function's outputs over them put back together."""

from collections.abc import Callable, Iterator, Sequence

import numpy as np


def batches[Items: Sequence](items: Items, size: int) -> Iterator[Items]:
    """Consecutive slices of at most size items (arrays, tensors, lists), in order."""
    if size < 1:
        raise ValueError(f"a batch holds at least one item, not {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def in_batches(predict: Callable, inputs: Sequence, size: int):
    """predict's outputs over inputs, batch by batch, concatenated (a list of arrays where it returns several)."""
    if len(inputs) == 0:
        raise ValueError("there are no inputs to run: pass at least one")
    outputs = [predict(batch) for batch in batches(inputs, size)]
    if isinstance(outputs[0], list | tuple):
        return [np.concatenate(position) for position in zip(*outputs, strict=True)]
    return np.concatenate(outputs)
