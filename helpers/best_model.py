"""The best model, introduced in notebook 09: its builder, input pipeline and training recipe.

Notebook 09 writes these functions in its cells, marked ``# @save helpers.best_model``;
``helpers.maintainer.bench.best_recipe_trial`` trains with them. Edit the notebook's
cells, then run ``python -m helpers.maintainer.lessons``.

- ``build_best_cnn``: conv-BatchNorm-ReLU blocks 32 | 64, 64 | 128, 128, dropout, softmax;
- ``best_training_data``: shuffled, augmented, one-hot ``tf.data`` batches;
- ``train_best_model``: one seed of 09's recipe (one-cycle Adam, label smoothing 0.1).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from helpers import architectures, augment, config


# >>> notebooks/09_best_model.ipynb (generated: python -m helpers.maintainer.lessons)
def build_best_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    num_classes: int = 10,
    dropout: float = 0.4,
    convs_at_7x7: int = 2,
) -> keras.Model:
    """Return notebook 09's model: conv-BN-ReLU blocks 32 | 64, 64 | 128, 128, dropout, softmax.

    Conv 32 (28x28) -> pool -> Conv 64 -> Conv 64 (14x14) -> pool -> Conv 128 -> Conv 128
    (7x7) -> Flatten -> Dropout -> Dense softmax: 341,162 parameters for MNIST.
    ``convs_at_7x7=1`` gives the smaller first version that 09's recipe trial compares
    against (193,194 parameters). Raises ``ValueError`` if ``convs_at_7x7`` is below 1.
    """
    if convs_at_7x7 < 1:
        raise ValueError(f"convs_at_7x7 must be at least 1, got {convs_at_7x7}")
    inputs = keras.Input(shape=input_shape)
    x = architectures.conv_bn_relu(inputs, 32, name="block1")
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = architectures.conv_bn_relu(x, 64, name="block2a")
    x = architectures.conv_bn_relu(x, 64, name="block2b")
    x = keras.layers.MaxPooling2D(2, name="pool2")(x)
    for index in range(convs_at_7x7):
        x = architectures.conv_bn_relu(x, 128, name=f"block3{'abcdefgh'[index]}")
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="best_cnn")


def best_training_data(
    x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, num_classes: int = 10
) -> tf.data.Dataset:
    """Return shuffled, augmented batches of (images, one-hot labels) from ``x`` and ``y``.

    Every epoch gets a new order and new random moves (notebook 07's augmentation layers:
    rotations up to 10 degrees, shifts and zooms up to 0.1), drawn from ``seed``. The
    pipeline keeps one float32 copy of ``x`` and shuffles indices, not images.
    """
    augmenter = augment.augmentation_layers(
        rotation_degrees=10, shift_fraction=0.1, zoom_fraction=0.1, seed=seed
    )
    images = tf.constant(x, dtype=tf.float32)
    labels = tf.one_hot(y, num_classes)

    def load_batch(indices: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        batch = tf.gather(images, indices)
        return augmenter(batch, training=True), tf.gather(labels, indices)

    order = tf.data.Dataset.range(len(x))
    shuffled = order.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    augmented = shuffled.batch(batch_size).map(load_batch, num_parallel_calls=tf.data.AUTOTUNE)
    return augmented.prefetch(tf.data.AUTOTUNE)


def train_best_model(
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    seed: int,
    batch_size: int = 128,
    peak_lr: float = 3e-3,
    label_smoothing: float = 0.1,
    convs_at_7x7: int = 2,
    verbose: int = 2,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> tuple[keras.Model, keras.callbacks.History]:
    """Return ``build_best_cnn(convs_at_7x7)`` trained on ``(x, y)`` with 09's recipe, and its history.

    Seeds Python, NumPy and TensorFlow with ``seed`` (not bit-for-bit deterministic, for
    speed), then trains on ``best_training_data`` with Adam on a one-cycle schedule peaking
    at ``peak_lr`` and cross-entropy with ``label_smoothing``. ``callbacks`` go to ``fit``.
    """
    config.set_seed(seed, deterministic=False)
    train = best_training_data(x, y, batch_size, seed)
    steps = epochs * int(np.ceil(len(x) / batch_size))
    model = build_best_cnn(convs_at_7x7=convs_at_7x7)
    model.compile(
        optimizer=keras.optimizers.Adam(architectures.one_cycle(peak_lr, max(steps, 2))),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )
    # shuffle=False: the pipeline already reshuffles every epoch
    history = model.fit(train, epochs=epochs, shuffle=False, verbose=verbose, callbacks=callbacks)
    return model, history


# <<< notebooks/09_best_model.ipynb
