"""Tests for helpers.augment: Keras augmentation layers, the ImageDataGenerator stand-in,
and the shifted / rotated test images."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import augment


def one_pixel_image(row: int = 5, col: int = 20) -> np.ndarray:
    image = np.zeros((1, 28, 28, 1), dtype=np.float32)
    image[0, row, col, 0] = 1.0
    return image


def digit_like(n: int = 4, seed: int = 0) -> np.ndarray:
    images = np.zeros((n, 28, 28, 1), dtype=np.float32)
    rng = np.random.default_rng(seed)
    images[:, 8:20, 10:18, 0] = rng.random((n, 12, 8))
    return images


# ------------------------------------------------------------------------- layers


def test_augmentation_layers_are_the_three_digit_friendly_ones():
    layers = augment.augmentation_layers(rotation_degrees=15, shift_fraction=0.2, seed=1)
    names = [type(layer).__name__ for layer in layers.layers]
    assert names == ["RandomRotation", "RandomTranslation", "RandomZoom"]
    assert layers.layers[0].factor == pytest.approx((-15 / 360, 15 / 360))


def test_augmentation_changes_images_only_in_training():
    images = digit_like()
    layers = augment.augmentation_layers(seed=1)
    unchanged = np.asarray(layers(images, training=False))
    np.testing.assert_allclose(unchanged, images)
    moved = np.asarray(layers(images, training=True))
    assert moved.shape == images.shape
    assert not np.allclose(moved, images)
    assert moved.min() >= -1e-6 and moved.max() <= 1 + 1e-6


@pytest.mark.parametrize(
    "kwargs", [{"rotation_degrees": -1}, {"shift_fraction": -0.1}, {"rotation_degrees": 180}]
)
def test_augmentation_layers_reject_bad_amounts(kwargs):
    name, value = next(iter(kwargs.items()))
    with pytest.raises(ValueError, match=name) as error:
        augment.augmentation_layers(**kwargs)
    assert f"got {value}," in str(error.value) or f", {value}" in str(error.value)


def test_augmented_dataset_batches_and_one_hot():
    images, labels = digit_like(10), np.arange(10) % 3
    dataset = augment.augmented_dataset(
        images, labels, batch_size=4, augmenter=augment.augmentation_layers(seed=0),
        num_classes=3,
    )  # fmt: skip
    batches = list(dataset)
    assert [len(x) for x, _ in batches] == [4, 4, 2]
    x, y = batches[0]
    assert x.shape == (4, 28, 28, 1) and y.shape == (4, 3)
    np.testing.assert_allclose(np.asarray(y).sum(axis=1), 1.0)


def test_augmented_dataset_without_augmenter_keeps_images_and_order():
    images, labels = digit_like(6), np.arange(6)
    dataset = augment.augmented_dataset(images, labels, batch_size=6, shuffle=False)
    x, y = next(iter(dataset))
    np.testing.assert_array_equal(np.asarray(x), images)
    np.testing.assert_array_equal(np.asarray(y), labels)


def test_augmented_dataset_shuffles_each_image_once_and_takes_a_tensor_as_it_is():
    import tensorflow as tf

    images, labels = digit_like(10), np.arange(10)
    from_numpy = augment.augmented_dataset(images, labels, batch_size=4, seed=3)
    from_tensor = augment.augmented_dataset(tf.constant(images), labels, batch_size=4, seed=3)
    epoch = [(np.asarray(x), np.asarray(y)) for x, y in from_numpy]
    order = np.concatenate([y for _, y in epoch])
    assert sorted(order) == list(range(10)) and list(order) != list(range(10))
    np.testing.assert_array_equal(np.concatenate([x for x, _ in epoch]), images[order])
    for (x, y), (tx, ty) in zip(epoch, from_tensor, strict=True):
        np.testing.assert_array_equal(x, np.asarray(tx))
        np.testing.assert_array_equal(y, np.asarray(ty))


def test_augmented_dataset_scales_bytes_batch_by_batch_to_the_float_images():
    import tensorflow as tf

    pixels = np.random.default_rng(1).integers(0, 256, (10, 28, 28, 1)).astype(np.uint8)
    scaled = pixels.astype(np.float32) / 255.0
    for x in (pixels, tf.constant(pixels)):
        from_bytes = augment.augmented_dataset(x, np.arange(10), batch_size=4, seed=3)
        from_floats = augment.augmented_dataset(scaled, np.arange(10), batch_size=4, seed=3)
        for (bx, by), (fx, fy) in zip(from_bytes, from_floats, strict=True):
            assert bx.dtype == tf.float32
            np.testing.assert_array_equal(np.asarray(bx), np.asarray(fx))
            np.testing.assert_array_equal(np.asarray(by), np.asarray(fy))


def test_augmented_dataset_rejects_mismatched_lengths_and_shapes():
    with pytest.raises(ValueError, match="3 labels"):
        augment.augmented_dataset(digit_like(4), np.arange(3), batch_size=2)
    with pytest.raises(ValueError, match=r"x \(4, 32, 32, 3\)"):
        augment.augmented_dataset(np.zeros((4, 32, 32, 3)), np.arange(4), batch_size=2)
    with pytest.raises(ValueError, match="batch_size 0"):
        augment.augmented_dataset(digit_like(4), np.arange(4), batch_size=0)


# ------------------------------------------------------- ImageDataGenerator stand-in


def test_legacy_matrix_is_identity_without_a_transform():
    matrix = augment.legacy_transform_matrix(0, 0, 0, 1, 1)
    np.testing.assert_allclose(matrix, np.eye(3), atol=1e-12)


def test_legacy_matrix_rotates_about_the_centre():
    matrix = augment.legacy_transform_matrix(90, 0, 0, 1, 1)
    centre = np.array([13.5, 13.5, 1.0])
    np.testing.assert_allclose(matrix @ centre, centre, atol=1e-12)


def test_legacy_transform_rotates_like_rot90():
    image = one_pixel_image()[0]
    rng = np.random.default_rng(0)
    # rotation_range=90 draws a random angle; pin it by a matrix instead
    matrix = augment.legacy_transform_matrix(90, 0, 0, 1, 1)
    from scipy import ndimage

    turned = ndimage.affine_transform(image[..., 0], matrix[:2, :2], matrix[:2, 2], order=1)
    assert np.allclose(turned, np.rot90(image[..., 0], k=-1)) or np.allclose(
        turned, np.rot90(image[..., 0], k=1)
    )
    unchanged = augment.legacy_random_transform(
        image, rng, rotation_range=0, width_shift_range=0, height_shift_range=0, zoom_range=0
    )
    np.testing.assert_allclose(unchanged, image, atol=1e-6)


def test_legacy_transform_shift_moves_the_pixel():
    image = one_pixel_image(10, 10)[0]
    rng = np.random.default_rng(3)
    moved = augment.legacy_random_transform(
        image, rng, rotation_range=0, width_shift_range=0.2, height_shift_range=0.2, zoom_range=0
    )
    assert moved.shape == image.shape
    assert not np.allclose(moved, image)
    assert moved.sum() == pytest.approx(1.0, abs=1e-5)  # bilinear, kept inside the frame


def test_legacy_flow_yields_matching_batches_forever():
    images = np.zeros((5, 28, 28, 1), dtype=np.float32)
    for i in range(5):
        images[i, 14, 14, 0] = (i + 1) / 5  # each image identifies its label
    labels = np.arange(5)
    flow = augment.legacy_flow(
        images, labels, batch_size=2, rotation_range=0, width_shift_range=0,
        height_shift_range=0, zoom_range=0,
    )  # fmt: skip
    batches = [next(flow) for _ in range(6)]
    assert [len(y) for _, y in batches] == [2, 2, 1, 2, 2, 1]
    for x, y in batches:
        np.testing.assert_allclose(x[:, 14, 14, 0], (y + 1) / 5, atol=1e-6)
    assert sorted(np.concatenate([y for _, y in batches[:3]])) == [0, 1, 2, 3, 4]


def test_legacy_flow_rejects_bad_input():
    with pytest.raises(ValueError, match="labels"):
        next(augment.legacy_flow(digit_like(3), np.arange(2), batch_size=2))
    with pytest.raises(ValueError, match="expected shape"):
        next(augment.legacy_flow(np.zeros((3, 28, 28, 3)), np.arange(3), batch_size=2))


# ------------------------------------------------------------- moved test images


def test_shift_images_moves_by_whole_pixels_and_fills_with_zero():
    image = one_pixel_image(5, 20)
    moved = augment.shift_images(image, (3, -2))
    assert moved[0, 8, 18, 0] == 1.0 and moved.sum() == 1.0
    gone = augment.shift_images(image, (-6, 0))
    assert gone.sum() == 0.0


def test_shift_images_one_shift_per_image():
    images = np.concatenate([one_pixel_image(10, 10), one_pixel_image(10, 10)])
    moved = augment.shift_images(images, np.array([[0, 1], [2, 0]]))
    assert moved[0, 10, 11, 0] == 1.0 and moved[1, 12, 10, 0] == 1.0


def test_rotate_images_quarter_turn_and_range():
    image = one_pixel_image(5, 13)
    turned = augment.rotate_images(image, 90.0)
    np.testing.assert_allclose(turned[0, ..., 0], np.rot90(image[0, ..., 0]), atol=1e-6)
    images = digit_like(3)
    out = augment.rotate_images(images, np.array([15.0, -15.0, 0.0]))
    assert out.shape == images.shape and out.min() >= 0 and out.max() <= 1
    np.testing.assert_allclose(out[2], images[2], atol=1e-6)


def test_moved_images_accept_28x28_and_reject_other_shapes():
    assert augment.shift_images(np.zeros((2, 28, 28)), (1, 1)).shape == (2, 28, 28, 1)
    with pytest.raises(ValueError, match="expected shape"):
        augment.rotate_images(np.zeros((2, 28, 27)), 10.0)
