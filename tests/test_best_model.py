"""Tests for helpers.best_model: notebook 09's input pipeline and training recipe."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import best_model


@pytest.fixture
def digits() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((40, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 40)


def test_training_data_gives_augmented_batches_with_one_hot_labels(digits):
    x, y = digits
    batches = list(best_model.best_training_data(x, y, batch_size=16, seed=0))
    assert [len(images) for images, _ in batches] == [16, 16, 8]
    images, labels = batches[0]
    assert images.shape == (16, 28, 28, 1) and labels.shape == (16, 10)
    np.testing.assert_array_equal(labels.numpy().sum(axis=1), 1.0)
    all_labels = np.concatenate([labels.numpy().argmax(axis=1) for _, labels in batches])
    assert sorted(all_labels) == sorted(y)  # every image once per epoch, shuffled


def test_train_best_model_returns_the_trained_model_and_its_history(digits):
    x, y = digits
    model, history = best_model.train_best_model(
        x, y, epochs=1, seed=0, batch_size=16, convs_at_7x7=1, verbose=0
    )
    assert model.name == "best_cnn" and model.count_params() == 193_194
    assert len(history.history["loss"]) == 1
    # label smoothing 0.1 over 10 classes: the loss cannot fall below the target's entropy
    assert history.history["loss"][0] > 0.5


def _constant_field(value_rows: float, value_cols: float):
    """A stand-in for keras.random.uniform: the same displacement at every pixel."""

    def uniform(shape, minval, maxval, seed=None):
        import tensorflow as tf

        field = np.zeros(shape, np.float32)
        field[..., 0], field[..., 1] = value_rows, value_cols
        return tf.constant(field)

    return uniform


def test_elastic_distortion_with_no_displacement_gives_the_images_back(digits):
    x, _ = digits
    layer = best_model.ElasticDistortion(alpha=0.0, seed=0)
    np.testing.assert_allclose(layer(x, training=True).numpy(), x, atol=1e-6)
    np.testing.assert_array_equal(best_model.ElasticDistortion(seed=0)(x, training=False), x)


@pytest.mark.parametrize(("rows", "cols"), [(0.0, 1.0), (1.0, 0.0), (0.0, -1.0)])
def test_elastic_distortion_reads_each_pixel_from_where_the_field_points(
    monkeypatch, digits, rows, cols
):
    x, _ = digits
    monkeypatch.setattr("keras.random.uniform", _constant_field(rows, cols))
    # sigma 0.5: a 3-tap blur, so the field is unchanged one pixel away from the edges
    out = best_model.ElasticDistortion(alpha=1.0, sigma=0.5, seed=0)(x, training=True).numpy()
    dr, dc = int(rows), int(cols)
    inner = (slice(None), slice(2, -2), slice(2, -2))
    moved = np.roll(x, (-dr, -dc), axis=(1, 2))  # moved[r, c] = x[r + dr, c + dc]
    np.testing.assert_allclose(out[inner], moved[inner], atol=1e-6)


def test_elastic_distortion_half_a_pixel_averages_the_two_neighbours(monkeypatch, digits):
    x, _ = digits
    monkeypatch.setattr("keras.random.uniform", _constant_field(0.0, 0.5))
    out = best_model.ElasticDistortion(alpha=1.0, sigma=0.5, seed=0)(x, training=True).numpy()
    expected = (x[:, :, 2:-1] + x[:, :, 3:]) / 2  # halfway between column c and c + 1
    np.testing.assert_allclose(out[:, 2:-2, 2:-2], expected[:, 2:-2, :-1], atol=1e-6)


def test_elastic_distortion_keeps_values_in_range_and_repeats_with_its_seed(digits):
    x, _ = digits
    first = best_model.ElasticDistortion(seed=3)(x, training=True).numpy()
    again = best_model.ElasticDistortion(seed=3)(x, training=True).numpy()
    np.testing.assert_array_equal(first, again)
    assert first.min() >= 0.0 and first.max() <= 1.0
    assert np.abs(first - x).mean() > 0.05  # it does move the pixels


def test_predict_shifted_averages_the_image_and_its_four_one_pixel_shifts():
    seen = []

    class Recorder:
        def predict(self, x, batch_size, verbose):
            seen.append(x.copy())
            return x.reshape(len(x), -1)[:, :10] + len(seen)  # differs per call

    x = np.zeros((3, 28, 28, 1), np.float32)
    x[:, 10:15, 12:16] = 1.0
    probs = best_model.predict_shifted(Recorder(), x)
    assert len(seen) == 5
    np.testing.assert_array_equal(seen[0], x)
    assert sorted(int(np.argwhere(s[0, ..., 0])[0].sum()) for s in seen) == [21, 21, 22, 23, 23]
    np.testing.assert_allclose(
        probs, np.mean([s.reshape(3, -1)[:, :10] + i + 1 for i, s in enumerate(seen)], axis=0)
    )
