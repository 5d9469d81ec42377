"""Chapter 2's Keras classifier, as the chapter and its bonus build it."""

import numpy as np
import pytest

from onnx_crossings.teaching import models


def test_review_lstm_starts_from_the_given_embeddings_and_gives_one_logit_trained_as_one():
    embeddings = np.arange(40, dtype=np.float32).reshape(10, 4) / 40
    model = models.review_sentiment_lstm(embeddings, sequence_length=7)
    assert model.input_shape == (None, 7) and model.output_shape == (None, 1)
    np.testing.assert_array_equal(model.get_layer(index=1).get_weights()[0], embeddings)
    tokens = np.array([[0, 0, 3, 4, 5, 6, 9], [0, 3, 3, 3, 5, 5, 9]], dtype=np.int32)
    logits = model.predict(tokens, verbose=0)
    assert logits.shape == (2, 1) and logits.dtype == np.float32
    # the loss and the accuracy read the output as a logit: sigmoid inside the loss, threshold 0
    labels = np.array([[1.0], [0.0]])
    loss, accuracy = model.evaluate(tokens, labels, verbose=0)
    expected_loss = np.mean(
        np.logaddexp(0, -logits[:, 0]) * labels[:, 0]
        + np.logaddexp(0, logits[:, 0]) * (1 - labels[:, 0])
    )
    assert loss == pytest.approx(expected_loss, rel=1e-4)
    assert accuracy == np.mean((logits >= 0) == labels)
    # max pooling drops the mask, and Keras says so (chapter 2 explains why the chapter does not mask)
    with pytest.warns(UserWarning, match="destroy the mask"):
        masked = models.review_sentiment_lstm(embeddings, sequence_length=7, mask_padding=True)
    assert masked.get_layer(index=1).mask_zero and not model.get_layer(index=1).mask_zero
