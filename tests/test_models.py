"""Tests for helpers.models."""

from __future__ import annotations

import numpy as np

from helpers import models


def test_article_cnn_matches_the_article():
    model = models.build_article_cnn()
    assert model.count_params() == 693_962
    assert [layer.count_params() for layer in model.layers] == [320, 0, 0, 0, 692_352, 0, 1_290]
    assert model.output_shape == (None, 10)
    assert [layer.name for layer in model.layers] == [
        "conv", "pool", "dropout_conv", "flatten", "dense", "dropout_dense", "predictions",
    ]  # fmt: skip
    probs = model.predict(np.zeros((2, 28, 28, 1), dtype=np.float32), verbose=0)
    assert probs.shape == (2, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_article_cnn_other_input_and_classes():
    model = models.build_article_cnn(input_shape=(32, 32, 3), num_classes=5)
    assert model.output_shape == (None, 5)
    assert model.layers[0].count_params() == 3 * 3 * 3 * 32 + 32


def test_train_article_cnn_learns_something():
    from helpers import config

    config.set_seed(0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=256)
    x = np.zeros((256, 28, 28, 1), dtype=np.float32)
    x[y == 1, :14] = 1.0  # class 1: top half lit, class 0: dark
    model, history = models.train_article_cnn(x, y, epochs=3, batch_size=32, verbose=0)
    assert model.optimizer.learning_rate.numpy() == np.float32(1e-3)
    assert model.loss == "sparse_categorical_crossentropy"
    assert history.history["accuracy"][-1] > 0.9
