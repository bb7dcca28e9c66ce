"""The speed run, introduced in notebook 10: CPU threads, a small CNN, our own training step.

Notebook 10 writes these functions in its cells, marked ``# @save helpers.speed_run``;
``helpers.maintainer.bench`` calls them to rerun the notebook's measurements. Edit the
notebook's cells, then run ``python -m helpers.maintainer.lessons``.

- ``set_cpu_threads``: every core inside an operation, one operation at a time;
- ``time_article_pipeline``: the baseline, the article's CNN and recipe, timed;
- ``build_speed_cnn``: the small, fast CNN (a strided first convolution, no BatchNorm);
- ``speed_recipe``: one-cycle Adam with short memories, and label-smoothed cross-entropy;
- ``make_train_step``: one compiled step (``tf.GradientTape`` in ``tf.function``);
- ``time_speed_run``: one seed of the speed run, timed, with its test accuracy.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from helpers import architectures, config, models


# >>> notebooks/10_speed_run.ipynb (generated: python -m helpers.maintainer.lessons)
def set_cpu_threads() -> None:
    """Use every core inside each operation, and run one operation at a time.

    Raises ``RuntimeError`` if TensorFlow has already run an operation.
    """
    tf.config.threading.set_intra_op_parallelism_threads(os.cpu_count() or 1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def time_article_pipeline(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    epochs: int = 10,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
) -> tuple[float, float]:
    """Train the article's CNN with the article's recipe; return (training seconds, test accuracy).

    Only ``fit`` is timed. The caller seeds the run.
    """
    model = models.build_article_cnn()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)[1]
    return seconds, float(accuracy)


def build_speed_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10
) -> keras.Model:
    """Return the speed run's small CNN, uncompiled (108,874 parameters for MNIST).

    Conv(16, 5x5, stride 2) -> Conv(32, 3x3) -> MaxPool -> Dense(128) -> softmax: a 28x28
    image becomes 12x12x16, 10x10x32, then 5x5x32.
    """
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(16, 5, strides=2, activation="relu", name="conv1"),
            layers.Conv2D(32, 3, activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool"),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense"),
            layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions"),
        ],
        name="speed_cnn",
    )


def speed_recipe(
    steps: int, peak_lr: float = 1.5e-2, label_smoothing: float = 0.1
) -> tuple[keras.optimizers.Optimizer, keras.losses.Loss]:
    """Return the speed run's optimizer and loss for a run of ``steps`` training steps.

    Adam with short memories on a one-cycle schedule that peaks at ``peak_lr``, and
    cross-entropy on one-hot targets with label smoothing.
    """
    optimizer = keras.optimizers.Adam(
        learning_rate=architectures.one_cycle(peak_lr, steps), beta_1=0.7, beta_2=0.9
    )
    loss_fn = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    return optimizer, loss_fn


def make_train_step(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    loss_fn: keras.losses.Loss,
    images: tf.Tensor,
    labels: tf.Tensor,
    jit_compile: bool = False,
    build_optimizer: bool = True,
) -> Callable[[np.ndarray], None]:
    """Return a compiled step that trains ``model`` on the images at the given indices.

    The optimizer's variables are created first, so that the step is traced only once;
    ``build_optimizer=False`` leaves them to the first trace (for the comparison below).
    """
    if build_optimizer:
        optimizer.build(model.trainable_variables)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)], jit_compile=jit_compile)
    def train_step(batch):
        x, y = tf.gather(images, batch), tf.gather(labels, batch)
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)

    return train_step


def time_speed_run(
    images: tf.Tensor,
    labels: tf.Tensor,
    x_test: np.ndarray,
    y_test: np.ndarray,
    seed: int,
    precision: str = "float32",
    epochs: int = 1,
    batch_size: int = 256,
    jit_compile: bool = False,
) -> tuple[float, float]:
    """Train the speed CNN once with our own step; return (training seconds, test accuracy).

    ``images`` and one-hot ``labels`` are the training set as tensors; ``precision`` is a
    Keras dtype policy ("float32", "mixed_bfloat16"), restored afterwards.
    """
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        config.set_seed(seed, deterministic=False)
        model = build_speed_cnn()
        optimizer, loss_fn = speed_recipe(epochs * math.ceil(len(images) / batch_size))
        start = time.perf_counter()
        train_step = make_train_step(model, optimizer, loss_fn, images, labels, jit_compile)
        rng = np.random.default_rng(seed)
        for _ in range(epochs):
            order = rng.permutation(len(images)).astype("int32")  # a new shuffle every epoch
            for first in range(0, len(order), batch_size):
                train_step(order[first : first + batch_size])
        seconds = time.perf_counter() - start
        predictions = model.predict(x_test, batch_size=1000, verbose=0).argmax(axis=1)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    return seconds, float((predictions == y_test).mean())


# <<< notebooks/10_speed_run.ipynb
