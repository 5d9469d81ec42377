"""The chapters' models that their bonus notebooks train again: chapter 1's digit CNN, chapter 2's review LSTM."""

import numpy as np
from torch import nn


class DigitCNN(nn.Module):
    """Two convolution blocks and a small classifier: 28 × 28 digits in, 10 logits out."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3, padding=1, bias=False),  # 32 × 28 × 28
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 32 × 14 × 14
            nn.Conv2d(32, 64, kernel_size=3, padding=1, bias=False),  # 64 × 14 × 14
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 64 × 7 × 7
        )
        self.classifier = nn.Sequential(
            nn.Dropout(0.3),
            nn.Linear(64 * 7 * 7, 128),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(128, 10),
        )

    def forward(self, images):
        features = self.features(images)
        return self.classifier(features.reshape(-1, 64 * 7 * 7))


def review_sentiment_lstm(initial_embeddings: np.ndarray, sequence_length: int, mask_padding=False):
    """Chapter 2's Keras classifier, compiled: word2vec-initialised embedding, bidirectional LSTM, max, a logit."""
    import keras  # imported here: chapter 1 and its bonus need only PyTorch

    tokens = keras.Input(shape=(sequence_length,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(
        *initial_embeddings.shape,
        embeddings_initializer=keras.initializers.Constant(initial_embeddings),
        mask_zero=mask_padding,
    )(tokens)
    x = keras.layers.SpatialDropout1D(0.2)(x)
    x = keras.layers.Bidirectional(keras.layers.LSTM(64, return_sequences=True))(x)
    x = keras.layers.GlobalMaxPooling1D()(x)
    x = keras.layers.Dropout(0.5)(x)
    logit = keras.layers.Dense(1, name="logit")(x)  # the log odds that the review is positive
    model = keras.Model(tokens, logit, name="review_sentiment")
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        # the loss applies the sigmoid itself, which is more exact than a sigmoid layer before it
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        # a logit of 0 is a probability of 0.5
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)],
    )
    return model
