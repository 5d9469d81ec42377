"""Checking batch shapes and moving between channels-first (NCHW) and channels-last (NHWC) layouts."""

import numpy as np


def check_batch_shape(batch: np.ndarray, item_shape: tuple[int, ...], layout: str) -> np.ndarray:
    """Return batch unchanged if it is (N, *item_shape); else raise ValueError saying how to fix it."""
    expected = ("N", *item_shape)
    if batch.ndim == len(expected) and batch.shape[1:] == item_shape:
        return batch
    message = f"expected a batch of shape {expected} ({layout}), got {batch.shape}"
    if batch.ndim == 4 and sorted(batch.shape[1:]) == sorted(item_shape):
        if batch.shape[1:] == (item_shape[1], item_shape[2], item_shape[0]):
            message += ": it looks channels-last (NHWC); use batch.transpose(0, 3, 1, 2)"
        elif batch.shape[1:] == (item_shape[2], item_shape[0], item_shape[1]):
            message += ": it looks channels-first (NCHW); use batch.transpose(0, 2, 3, 1)"
    elif batch.ndim == len(item_shape):
        message += ": a single item? add the batch axis with batch[np.newaxis]"
    raise ValueError(message)


def nchw_to_nhwc(batch: np.ndarray) -> np.ndarray:
    """Move the channel axis of a 4-D NCHW batch to the end (NHWC), as TensorFlow graphs expect."""
    if batch.ndim != 4:
        raise ValueError(f"expected a 4-D NCHW batch (N, C, H, W), got shape {batch.shape}")
    return np.ascontiguousarray(batch.transpose(0, 2, 3, 1))
