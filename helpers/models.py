"""Model builders used by more than one notebook. Each returns an uncompiled model."""

from __future__ import annotations

import keras
from keras import layers


def build_article_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10
) -> keras.Model:
    """Return the article's CNN, written with ``keras.Input`` (693,962 parameters for MNIST).

    Conv2D(32, 3x3, ReLU) -> MaxPool(2) -> Dropout(0.25) -> Flatten -> Dense(128, ReLU)
    -> Dropout(0.5) -> Dense(num_classes, softmax). The model is not compiled.
    """
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu", name="conv"),
            layers.MaxPooling2D(pool_size=(2, 2), name="pool"),
            layers.Dropout(0.25, name="dropout_conv"),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense"),
            layers.Dropout(0.5, name="dropout_dense"),
            layers.Dense(num_classes, activation="softmax", name="predictions"),
        ],
        name="article_cnn",
    )
