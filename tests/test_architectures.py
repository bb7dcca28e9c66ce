"""Tests for helpers.architectures: every builder's output shape and parameter count."""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest

from helpers import architectures, best_model, models, speed_run

EXPECTED_PARAMS = {
    "two_block_cnn": 34_826,
    "vgg_cnn": 96_938,
    "small_resnet": 310_570,
    "mobilenet_cnn": 69_258,
    "inception_cnn": 54_538,
    "best_cnn": 341_162,
    "speed_cnn": 108_874,
}
BUILDERS = {
    "two_block_cnn": architectures.build_two_block_cnn,
    "vgg_cnn": architectures.build_vgg_cnn,
    "small_resnet": architectures.build_small_resnet,
    "mobilenet_cnn": architectures.build_mobilenet_cnn,
    "inception_cnn": architectures.build_inception_cnn,
    "best_cnn": best_model.build_best_cnn,
    "speed_cnn": speed_run.build_speed_cnn,
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builder_parameter_count_and_name(name):
    model = BUILDERS[name]()
    assert model.name == name
    assert model.count_params() == EXPECTED_PARAMS[name]
    assert model.output_shape == (None, 10)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builder_outputs_probabilities(name):
    model = BUILDERS[name]()
    images = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    probs = keras.ops.convert_to_numpy(model(images, training=False))
    assert probs.shape == (3, 10)
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builder_other_number_of_classes(name):
    model = BUILDERS[name](num_classes=5)
    assert model.output_shape == (None, 5)


def test_builders_are_uncompiled_and_independent():
    first, second = best_model.build_best_cnn(), best_model.build_best_cnn()
    assert not first.compiled
    assert first.layers[1] is not second.layers[1]


def test_vgg_widths_change_depth():
    model = architectures.build_vgg_cnn(widths=(16, 32, 64))
    assert model.get_layer("block3_pool").output.shape == (None, 3, 3, 64)


def test_vgg_block_is_two_convolutions_then_pooling():
    inputs = keras.Input(shape=(28, 28, 1))
    block = keras.Model(inputs, architectures.vgg_block(inputs, 16, name="b"))
    kinds = [type(layer).__name__ for layer in block.layers[1:]]
    assert kinds == ["Conv2D", "BatchNormalization", "ReLU"] * 2 + ["MaxPooling2D"]
    assert block.output_shape == (None, 14, 14, 16)
    assert block.get_layer("ba_bn").momentum == architectures.BN_MOMENTUM


@pytest.mark.slow
def test_compare_models_trains_each_model_and_scores_every_set():
    rng = np.random.default_rng(0)
    x = rng.random((96, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 96)
    start = time.perf_counter()
    rows, trained = architectures.compare_models(
        {"two-block": architectures.build_two_block_cnn},
        (x[:64], y[:64]),
        {"validation": (x[64:80], y[64:80]), "test": (x[80:], y[80:])},
        epochs=1,
        batch_size=32,
    )
    wall_seconds = time.perf_counter() - start
    assert list(trained) == ["two-block"] and trained["two-block"].compiled
    (row,) = rows
    assert list(row) == [
        "model", "parameters", "seconds per epoch", "validation accuracy", "test accuracy"
    ]  # fmt: skip
    assert row["model"] == "two-block" and row["parameters"] == 34_826
    assert 0 < row["seconds per epoch"] <= wall_seconds
    model = trained["two-block"]
    for split, (images, labels) in {
        "validation": (x[64:80], y[64:80]),
        "test": (x[80:], y[80:]),
    }.items():
        predicted = model.predict(images, verbose=0).argmax(axis=1)
        assert row[f"{split} accuracy"] == pytest.approx((predicted == labels).mean())  # this set's


def test_resnet_blocks_add_a_shortcut():
    model = architectures.build_small_resnet()
    adds = [layer for layer in model.layers if isinstance(layer, keras.layers.Add)]
    assert len(adds) == 3
    assert model.get_layer("res3_out").output.shape == (None, 4, 4, 128)


def test_mobilenet_uses_depthwise_convolutions():
    model = architectures.build_mobilenet_cnn()
    depthwise = [ly for ly in model.layers if isinstance(ly, keras.layers.DepthwiseConv2D)]
    assert len(depthwise) == 4


def test_inception_block_concatenates_four_branches():
    model = architectures.build_inception_cnn()
    assert model.get_layer("inc1_concat").output.shape == (None, 14, 14, 80)
    assert model.get_layer("inc2_concat").output.shape == (None, 7, 7, 160)


def test_speed_cnn_downsamples_in_its_first_layer():
    model = speed_run.build_speed_cnn()
    assert model.get_layer("conv1").output.shape == (None, 12, 12, 16)
    assert model.get_layer("conv2").output.shape == (None, 10, 10, 32)
    assert model.get_layer("pool").output.shape == (None, 5, 5, 32)


def test_speed_cnn_keeps_float32_output_under_mixed_precision():
    policy = keras.mixed_precision.global_policy()
    try:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        model = speed_run.build_speed_cnn()
        assert model.get_layer("conv1").compute_dtype == "bfloat16"
        assert model.get_layer("predictions").compute_dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy(policy)


def test_comparison_builders_lists_the_six_models_of_notebook_08():
    builders = architectures.comparison_builders()
    assert len(builders) == 6
    assert list(builders)[0] == "article CNN"
    assert builders["article CNN"] is models.build_article_cnn
    assert all(callable(build) for build in builders.values())


def test_best_cnn_with_one_convolution_at_7x7_is_the_first_version():
    assert best_model.build_best_cnn(convs_at_7x7=1).count_params() == 193_194
    with pytest.raises(ValueError, match="convs_at_7x7"):
        best_model.build_best_cnn(convs_at_7x7=0)
