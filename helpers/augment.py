"""Data augmentation taught in notebook 07 (used by 09 and the benchmark), and moved test sets.

- ``augmentation_layers`` and ``augmented_dataset``: Keras preprocessing layers
  (``RandomRotation``, ``RandomTranslation``, ``RandomZoom``) mapped over whole batches
  inside a ``tf.data`` pipeline. Notebook 07 writes them in its cells, marked
  ``# @save helpers.augment``: edit those cells, then run
  ``python -m helpers.maintainer.lessons``.
- ``legacy_random_transform`` and ``legacy_flow``: a NumPy/SciPy stand-in for what Keras 2's
  ``ImageDataGenerator(rotation_range=..., width_shift_range=..., height_shift_range=...,
  zoom_range=...).flow(x, y)`` did: one affine transform per image with
  ``scipy.ndimage.affine_transform`` in a Python loop, batch by batch. It exists so that 07
  can time that method, because ``ImageDataGenerator`` is gone from Keras 3.
- ``shift_images`` and ``rotate_images`` build the moved test sets of 07's robustness check.
"""

from __future__ import annotations

from collections.abc import Iterator

import keras
import numpy as np
import tensorflow as tf
from scipy import ndimage

IMAGE_SHAPE = (28, 28, 1)


def _check_images(images: np.ndarray, name: str = "images") -> np.ndarray:
    """Return ``images`` as a float32 array (n, 28, 28, 1); raise ValueError otherwise."""
    array = np.asarray(images)
    if array.ndim == 3 and array.shape[1:] == IMAGE_SHAPE[:2]:
        array = array[..., None]
    if array.ndim != 4 or array.shape[1:] != IMAGE_SHAPE:
        raise ValueError(
            f"{name}: expected shape (n, 28, 28, 1) or (n, 28, 28), got {array.shape}; "
            "use helpers.data.scale_images(x) first"
        )
    return array.astype(np.float32, copy=False)


# >>> notebooks/07_augmentation.ipynb (generated: python -m helpers.maintainer.lessons)
def augmentation_layers(
    rotation_degrees: float = 10.0,
    shift_fraction: float = 0.1,
    zoom_fraction: float = 0.1,
    seed: int | None = None,
) -> keras.Sequential:
    """Return a ``keras.Sequential`` of RandomRotation, RandomTranslation and RandomZoom.

    Rotations are uniform in +-``rotation_degrees``, shifts in +-``shift_fraction`` of the
    image size (0.1 = 2.8 pixels), zooms in +-``zoom_fraction``; uncovered pixels are 0.
    Raises ``ValueError`` for a negative amount or a rotation of 180 degrees or more.
    """
    if min(rotation_degrees, shift_fraction, zoom_fraction) < 0 or rotation_degrees >= 180:
        raise ValueError(
            "rotation_degrees must be in [0, 180), shift_fraction and zoom_fraction 0 or more; "
            f"got {rotation_degrees}, {shift_fraction}, {zoom_fraction}"
        )
    fill = {"fill_mode": "constant", "fill_value": 0.0}
    return keras.Sequential(
        [
            keras.layers.RandomRotation(rotation_degrees / 360, seed=seed, **fill),
            keras.layers.RandomTranslation(shift_fraction, shift_fraction, seed=seed, **fill),
            keras.layers.RandomZoom(zoom_fraction, seed=seed, **fill),
        ],
        name="augmentation",
    )


def augmented_dataset(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    augmenter: keras.Layer | None = None,
    shuffle: bool = True,
    seed: int = 0,
    num_classes: int | None = None,
) -> tf.data.Dataset:
    """Return a ``tf.data.Dataset`` of (images, labels) batches, augmented by ``augmenter``.

    ``x`` is uint8 pixels 0..255, kept as bytes and scaled to [0, 1] batch by batch, or
    floats already in [0, 1], kept as float32; a uint8 or float32 tensor is used as it
    is, not copied. Shuffles indices, not images. With ``num_classes`` the labels become one-hot
    vectors. Raises ``ValueError`` unless ``x`` is (n, 28, 28, 1) with n labels in ``y``
    and ``batch_size`` is at least 1.
    """
    if np.shape(x)[1:] != (28, 28, 1) or len(x) != len(y) or batch_size < 1:
        raise ValueError(
            "expected x of shape (n, 28, 28, 1), n labels and batch_size >= 1; got "
            f"x {np.shape(x)}, {len(y)} labels, batch_size {batch_size}"
        )
    images = tf.convert_to_tensor(x)
    if images.dtype != tf.uint8:
        images = tf.cast(images, tf.float32)  # no copy if it is float32 already
    labels = tf.constant(y) if num_classes is None else tf.one_hot(y, num_classes)

    def load_batch(indices: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        batch = tf.gather(images, indices)
        if batch.dtype == tf.uint8:
            batch = tf.cast(batch, tf.float32) / 255.0  # bytes to [0, 1], this batch only
        if augmenter is not None:
            batch = augmenter(batch, training=True)
        return batch, tf.gather(labels, indices)

    order = tf.data.Dataset.range(len(x))
    if shuffle:
        order = order.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    dataset = order.batch(batch_size).map(load_batch, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


# <<< notebooks/07_augmentation.ipynb


# ------------------------------------------------- what ImageDataGenerator used to do


def legacy_transform_matrix(
    theta_degrees: float, shift_rows: float, shift_cols: float, zoom_rows: float,
    zoom_cols: float, size: tuple[int, int] = (28, 28),
) -> np.ndarray:  # fmt: skip
    """Return the 3x3 matrix Keras 2's ``apply_affine_transform`` built, centred on the image.

    Rotation, then shift, then zoom, as output-to-input coordinates for
    ``scipy.ndimage.affine_transform`` (rows, cols), moved so the image centre stays put.
    """
    theta = np.deg2rad(theta_degrees)
    rotation = np.array(
        [[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]]
    )
    shift = np.array([[1, 0, shift_rows], [0, 1, shift_cols], [0, 0, 1]])
    zoom = np.array([[zoom_rows, 0, 0], [0, zoom_cols, 0], [0, 0, 1]])
    matrix = rotation @ shift @ zoom
    o_rows, o_cols = size[0] / 2 - 0.5, size[1] / 2 - 0.5
    to_centre = np.array([[1, 0, o_rows], [0, 1, o_cols], [0, 0, 1]])
    from_centre = np.array([[1, 0, -o_rows], [0, 1, -o_cols], [0, 0, 1]])
    return to_centre @ matrix @ from_centre


def legacy_random_transform(
    image: np.ndarray,
    rng: np.random.Generator,
    rotation_range: float = 10.0,
    width_shift_range: float = 0.1,
    height_shift_range: float = 0.1,
    zoom_range: float = 0.1,
    fill_mode: str = "constant",
) -> np.ndarray:
    """Return one randomly moved copy of ``image`` (28, 28, 1), as ImageDataGenerator did.

    Draws an angle in +-``rotation_range`` degrees, shifts in +- the fractions of the
    height and width, and independent row/column zooms in [1 - zoom_range, 1 + zoom_range];
    then interpolates bilinearly (``order=1``) with ``scipy.ndimage.affine_transform``.
    ImageDataGenerator's default ``fill_mode`` was "nearest"; "constant" fills with 0 like
    ``augmentation_layers``.
    """
    height, width = image.shape[:2]
    theta = rng.uniform(-rotation_range, rotation_range)
    shift_rows = rng.uniform(-height_shift_range, height_shift_range) * height
    shift_cols = rng.uniform(-width_shift_range, width_shift_range) * width
    zoom_rows, zoom_cols = rng.uniform(1 - zoom_range, 1 + zoom_range, 2)
    matrix = legacy_transform_matrix(
        theta, shift_rows, shift_cols, zoom_rows, zoom_cols, (height, width)
    )
    channels = [
        ndimage.affine_transform(
            image[..., c], matrix[:2, :2], matrix[:2, 2], order=1, mode=fill_mode, cval=0.0
        )
        for c in range(image.shape[-1])
    ]
    return np.stack(channels, axis=-1)


def legacy_flow(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    seed: int = 0,
    **transform: float,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield shuffled (images, labels) batches, each image moved by ``legacy_random_transform``.

    Like ``ImageDataGenerator(...).flow(x, y, batch_size)``: a new permutation each pass,
    one image at a time in Python, forever. ``transform`` is passed on (rotation_range,
    width_shift_range, height_shift_range, zoom_range, fill_mode). Raises ``ValueError``
    for bad shapes or mismatched lengths.
    """
    images = _check_images(x, "x")
    labels = np.asarray(y)
    if len(labels) != len(images):
        raise ValueError(f"x has {len(images)} images but y has {len(labels)} labels")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(len(images))
        for start in range(0, len(images), batch_size):
            index = order[start : start + batch_size]
            batch = np.empty((len(index), *images.shape[1:]), dtype=np.float32)
            for i, j in enumerate(index):
                batch[i] = legacy_random_transform(images[j], rng, **transform)
            yield batch, labels[index]


# ------------------------------------------------------------- moved test images


def shift_images(images: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Return ``images`` moved by whole pixels, filling with 0: ``shifts[i] = (down, right)``.

    ``shifts`` is one (down, right) pair for every image, or a single pair for all.
    Pixels moved out of the frame are lost. Raises ``ValueError`` for bad shapes.
    """
    array = _check_images(images)
    moves = np.broadcast_to(np.asarray(shifts, dtype=int), (len(array), 2))
    out = np.zeros_like(array)
    height, width = array.shape[1:3]
    for i, (down, right) in enumerate(moves):
        src_rows = slice(max(0, -down), min(height, height - down))
        dst_rows = slice(max(0, down), min(height, height + down))
        src_cols = slice(max(0, -right), min(width, width - right))
        dst_cols = slice(max(0, right), min(width, width + right))
        out[i, dst_rows, dst_cols] = array[i, src_rows, src_cols]
    return out


def rotate_images(images: np.ndarray, degrees: np.ndarray | float) -> np.ndarray:
    """Return ``images`` rotated about their centre by ``degrees`` (one angle each, or one for all).

    Positive angles turn anticlockwise; corners are filled with 0, and bilinear
    interpolation keeps pixels in [0, 1]. Raises ``ValueError`` for bad shapes.
    """
    array = _check_images(images)
    angles = np.broadcast_to(np.asarray(degrees, dtype=float), (len(array),))
    out = np.empty_like(array)
    for i, angle in enumerate(angles):
        out[i, ..., 0] = ndimage.rotate(
            array[i, ..., 0], angle, reshape=False, order=1, mode="constant", cval=0.0
        )
    return np.clip(out, 0.0, 1.0)
