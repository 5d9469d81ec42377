"""Chapter 2's Keras classifier, as the chapter and its bonus build it."""

import numpy as np
import pytest

from helpers import models


def test_review_lstm_starts_from_the_given_embeddings_and_gives_one_probability():
    embeddings = np.arange(40, dtype=np.float32).reshape(10, 4) / 40
    model = models.review_sentiment_lstm(embeddings, sequence_length=7)
    assert model.input_shape == (None, 7) and model.output_shape == (None, 1)
    np.testing.assert_array_equal(model.get_layer(index=1).get_weights()[0], embeddings)
    probabilities = model.predict(np.array([[0, 0, 3, 4, 5, 6, 9]], dtype=np.int32), verbose=0)
    assert probabilities.shape == (1, 1) and 0 < probabilities[0, 0] < 1
    # max pooling drops the mask, and Keras says so (chapter 2 explains why the chapter does not mask)
    with pytest.warns(UserWarning, match="destroy the mask"):
        masked = models.review_sentiment_lstm(embeddings, sequence_length=7, mask_padding=True)
    assert masked.get_layer(index=1).mask_zero and not model.get_layer(index=1).mask_zero
