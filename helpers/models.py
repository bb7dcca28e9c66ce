"""The article's CNN, built in notebook 03, and notebook 04's recipe for training it.

``build_article_cnn`` is generated from notebook 03's ``# @save`` cell (edit it there, then
run ``python -m helpers.maintainer.lessons``); it returns an uncompiled model.
``train_article_cnn`` is for the notebooks that need a trained model when notebook 04's
saved one is missing.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers


# >>> notebooks/03_model.ipynb (generated: python -m helpers.maintainer.lessons)
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


# <<< notebooks/03_model.ipynb


def train_article_cnn(
    x_train: np.ndarray,
    y_train: np.ndarray,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    epochs: int = 2,
    batch_size: int = 128,
    verbose: int = 2,
) -> tuple[keras.Model, keras.callbacks.History]:
    """Build, compile and train the article's CNN with notebook 04's recipe.

    Adam(learning_rate=1e-3), sparse categorical cross-entropy, accuracy. For notebooks
    that need a trained model when notebook 04's saved one is missing; 04 itself spells
    every step out. Returns ``(model, history)``.
    """
    model = build_article_cnn()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=validation_data,
        verbose=verbose,
    )
    return model, history
