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


class ElasticDistortion(keras.layers.Layer):
    """Move every pixel of a batch of images by its own smooth random displacement.

    Simard et al. (2003): a field of displacements uniform in [-1, 1] pixels is blurred
    with a Gaussian of width ``sigma`` pixels and scaled by ``alpha``, then each image is
    resampled at its moved pixel positions (bilinear; 0 outside the image). Only in
    training; ``seed`` makes the fields repeatable. Expects (n, height, width, 1) floats.
    """

    def __init__(self, alpha: float = 34.0, sigma: float = 5.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.alpha, self.sigma = alpha, sigma
        self.seed_generator = keras.random.SeedGenerator(seed)
        offsets = np.arange(-int(3 * sigma), int(3 * sigma) + 1)
        gaussian = np.exp(-(offsets**2) / (2 * sigma**2))
        # one 1-D Gaussian, as a depthwise kernel for each of the 2 fields (rows, columns)
        self.blur = np.tile((gaussian / gaussian.sum()).astype("float32")[:, None, None], (1, 2, 1))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def displacements(self, n: int | tf.Tensor, height: int, width: int) -> tf.Tensor:
        """Return ``n`` random smooth fields of moves in pixels: (n, height, width, 2)."""
        noise = keras.random.uniform((n, height, width, 2), -1.0, 1.0, seed=self.seed_generator)
        down, across = self.blur[:, None], self.blur[None, :]  # (k, 1, 2, 1) and (1, k, 2, 1)
        field = tf.nn.depthwise_conv2d(noise, down, [1, 1, 1, 1], "SAME")
        return tf.nn.depthwise_conv2d(field, across, [1, 1, 1, 1], "SAME") * self.alpha

    def call(self, images: tf.Tensor, training: bool = True) -> tf.Tensor:
        if not training:
            return images
        height, width = images.shape[1], images.shape[2]
        field = self.displacements(tf.shape(images)[0], height, width)
        rows, cols = np.meshgrid(
            *(np.arange(n, dtype="float32") for n in (height, width)), indexing="ij"
        )
        y, x = rows + field[..., 0], cols + field[..., 1]  # where each output pixel reads
        y0, x0 = tf.floor(y), tf.floor(x)
        wy, wx = y - y0, x - x0  # how far past the pixel above and to the left
        padded = tf.pad(images[..., 0], [[0, 0], [1, 1], [1, 1]])  # a border of zeros

        def pixel(r: tf.Tensor, c: tf.Tensor) -> tf.Tensor:  # image[r, c], 0 outside
            r = tf.clip_by_value(tf.cast(r, tf.int32) + 1, 0, height + 1)
            c = tf.clip_by_value(tf.cast(c, tf.int32) + 1, 0, width + 1)
            return tf.gather_nd(padded, tf.stack([r, c], axis=-1), batch_dims=1)

        top = (1 - wx) * pixel(y0, x0) + wx * pixel(y0, x0 + 1)
        bottom = (1 - wx) * pixel(y0 + 1, x0) + wx * pixel(y0 + 1, x0 + 1)
        return ((1 - wy) * top + wy * bottom)[..., None]


def best_training_data(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    seed: int,
    num_classes: int = 10,
    elastic: bool = False,
) -> tf.data.Dataset:
    """Return shuffled, augmented batches of (images, one-hot labels) from ``x`` and ``y``.

    Every epoch gets a new order and new random moves, drawn from ``seed``: notebook 07's
    layers (rotations up to 10 degrees, shifts and zooms up to 0.1), then, with ``elastic``,
    an ``ElasticDistortion``. Built by notebook 07's ``augmented_dataset``: ``x`` stays
    uint8 and is scaled batch by batch, and indices are shuffled, not images.
    """
    augmenter = augment.augmentation_layers(
        rotation_degrees=10, shift_fraction=0.1, zoom_fraction=0.1, seed=seed
    )
    if elastic:
        augmenter = keras.Sequential([augmenter, ElasticDistortion(seed=seed)])
    return augment.augmented_dataset(
        x, y, batch_size, augmenter, seed=seed, num_classes=num_classes
    )


def train_best_model(
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    seed: int,
    batch_size: int = 128,
    peak_lr: float = 3e-3,
    label_smoothing: float = 0.1,
    convs_at_7x7: int = 2,
    elastic: bool = False,
    verbose: int = 2,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> tuple[keras.Model, keras.callbacks.History]:
    """Return ``build_best_cnn(convs_at_7x7)`` trained on ``(x, y)`` with 09's recipe, and its history.

    Seeds Python, NumPy and TensorFlow with ``seed`` (not bit-for-bit deterministic, for
    speed), then trains on ``best_training_data`` with Adam on a one-cycle schedule peaking
    at ``peak_lr`` and cross-entropy with ``label_smoothing``; ``elastic=True`` adds the
    elastic distortion to the augmentation. ``callbacks`` go to ``fit``.
    """
    config.set_seed(seed, deterministic=False)
    train = best_training_data(x, y, batch_size, seed, elastic=elastic)
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


def predict_shifted(model: keras.Model, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Return ``model``'s probabilities for ``x``, averaged over ``x`` and four 1-pixel shifts.

    The shifts are up, down, left and right (``augment.shift_images``; 0 fills the edge).
    """
    moves = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]
    shifted = [
        model.predict(augment.shift_images(x, move), batch_size=batch_size, verbose=0)
        for move in moves
    ]
    return np.mean(shifted, axis=0)


# <<< notebooks/09_best_model.ipynb
