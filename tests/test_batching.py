"""The one batch loop: every item once, in order, whatever the batch size; several outputs kept apart."""

import numpy as np
import pytest
import torch

from onnx_crossings.plumbing.batching import batches, in_batches


@pytest.mark.parametrize("size", [1, 3, 7, 10, 11])
def test_batches_cover_every_item_once_in_order(size):
    items = np.arange(10)
    cut = list(batches(items, size))
    assert all(len(batch) <= size for batch in cut)
    assert np.array_equal(np.concatenate(cut), items)
    assert [len(batch) for batch in batches(list(range(10)), size)] == [len(batch) for batch in cut]


def test_outputs_are_put_back_together_one_array_or_several():
    inputs = np.arange(10, dtype=np.float32).reshape(5, 2)
    assert np.array_equal(in_batches(lambda batch: batch * 2, inputs, 2), inputs * 2)
    doubled, summed = in_batches(lambda batch: (batch * 2, batch.sum(1)), inputs, 3)
    assert np.array_equal(doubled, inputs * 2) and np.array_equal(summed, inputs.sum(1))
    tensors = torch.arange(6).reshape(3, 2)
    assert np.array_equal(
        in_batches(lambda batch: batch.numpy() + 1, tensors, 2), tensors.numpy() + 1
    )


def test_nothing_to_run_and_empty_batches_are_refused_with_a_sentence():
    with pytest.raises(ValueError, match="no inputs to run"):
        in_batches(lambda batch: batch, np.zeros((0, 2)), 4)
    with pytest.raises(ValueError, match="at least one item, not 0"):
        list(batches([1, 2], 0))
