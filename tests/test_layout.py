import numpy as np
import pytest

from onnx_crossings.teaching.layout import check_batch_shape, nchw_to_nhwc


def test_a_matching_batch_passes_through_unchanged():
    batch = np.zeros((5, 1, 28, 28), dtype=np.float32)
    assert check_batch_shape(batch, (1, 28, 28), "NCHW") is batch


def test_a_channels_last_batch_gets_the_transpose_to_apply():
    with pytest.raises(
        ValueError, match=r"looks channels-last \(NHWC\); use batch.transpose\(0, 3, 1, 2\)"
    ):
        check_batch_shape(np.zeros((5, 28, 28, 1)), (1, 28, 28), "NCHW")


def test_a_channels_first_batch_for_a_channels_last_model_gets_the_other_transpose():
    with pytest.raises(
        ValueError, match=r"looks channels-first \(NCHW\); use batch.transpose\(0, 2, 3, 1\)"
    ):
        check_batch_shape(np.zeros((5, 1, 28, 28)), (28, 28, 1), "NHWC")


def test_a_missing_batch_axis_is_named():
    with pytest.raises(ValueError, match=r"single item\? add the batch axis"):
        check_batch_shape(np.zeros((1, 28, 28)), (1, 28, 28), "NCHW")


def test_a_wrong_size_says_what_was_expected():
    with pytest.raises(
        ValueError,
        match=r"expected a batch of shape \('N', 1, 28, 28\) \(NCHW\), got \(2, 1, 32, 32\)$",
    ):
        check_batch_shape(np.zeros((2, 1, 32, 32)), (1, 28, 28), "NCHW")


def test_nchw_to_nhwc_moves_the_channel_axis_and_keeps_values():
    batch = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    moved = nchw_to_nhwc(batch)
    assert moved.shape == (2, 4, 5, 3)
    assert moved.flags["C_CONTIGUOUS"]
    assert moved[1, 2, 3, 0] == batch[1, 0, 2, 3]
    assert moved[0, 1, 4, 2] == batch[0, 2, 1, 4]


def test_nchw_to_nhwc_rejects_other_ranks():
    with pytest.raises(ValueError, match="4-D NCHW"):
        nchw_to_nhwc(np.zeros((3, 28, 28)))
