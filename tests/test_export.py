"""Tests for helpers.export: notebook 11's TFLite converters, evaluation, sizes, latency."""

from __future__ import annotations

import sys
import warnings

import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf

from helpers import export

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.random((40, 28, 28, 1), dtype=np.float32)


@pytest.fixture(scope="module")
def tiny_model() -> keras.Model:
    """A small untrained conv net: enough layers to quantise, converts in a second."""
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.MaxPooling2D(4),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


@pytest.fixture(scope="module")
def saved_model_dir(tiny_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "saved_model"
    tiny_model.export(path, verbose=False)
    return path


@pytest.fixture(scope="module")
def tflite_models(saved_model_dir, images) -> dict[str, bytes]:
    return {
        q: export.convert_to_tflite(saved_model_dir, q, representative_images=images)
        for q in export.QUANTIZATIONS
    }


# ------------------------------------------------------------------------------ sizes


def test_path_size_of_a_file_and_a_folder(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"x" * 10)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.bin").write_bytes(b"y" * 5)
    assert export.path_size(tmp_path / "a.bin") == 10
    assert export.path_size(tmp_path) == 15


def test_path_size_of_a_missing_path_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing_here"):
        export.path_size(tmp_path / "nothing_here")


# ---------------------------------------------------------------------- calibration


def test_representative_dataset_yields_single_images(images):
    batches = list(export.representative_dataset(images, n=3)())
    assert len(batches) == 3
    assert all(len(b) == 1 and b[0].shape == (1, 28, 28, 1) for b in batches)
    assert batches[0][0].dtype == np.float32
    np.testing.assert_array_equal(batches[2][0][0], images[2])


def test_representative_dataset_stops_at_the_images_it_has(images):
    assert len(list(export.representative_dataset(images[:2], n=10)())) == 2


@pytest.mark.parametrize("bad", [{"images": np.empty((0, 28, 28, 1))}, {"n": 0}])
def test_representative_dataset_refuses_nothing_to_calibrate(images, bad):
    kwargs = {"images": images, "n": 5, **bad}
    with pytest.raises(ValueError):
        export.representative_dataset(**kwargs)


# ------------------------------------------------------------------------ conversion


def test_convert_refuses_unknown_quantization(saved_model_dir):
    with pytest.raises(ValueError, match="quantization"):
        export.convert_to_tflite(saved_model_dir, "int4")


def test_convert_int8_needs_calibration_images(saved_model_dir):
    with pytest.raises(ValueError, match="representative_images"):
        export.convert_to_tflite(saved_model_dir, "int8")


def test_convert_refuses_a_folder_that_is_not_a_saved_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="saved_model.pb"):
        export.convert_to_tflite(tmp_path)


def test_converters_carry_the_settings_of_their_form(saved_model_dir, images):
    assert not export.float32_converter(saved_model_dir).optimizations
    float16 = export.float16_converter(saved_model_dir)
    assert float16.optimizations == [tf.lite.Optimize.DEFAULT]
    assert float16.target_spec.supported_types == [tf.float16]
    int8 = export.int8_converter(saved_model_dir, images)
    assert int8.target_spec.supported_ops == [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    assert int8.inference_input_type == tf.int8 and int8.inference_output_type == tf.int8
    assert len(list(int8.representative_dataset())) == len(images)  # fewer than 500


def test_quantised_models_are_smaller(tflite_models):
    sizes = {q: len(content) for q, content in tflite_models.items()}
    assert sizes["int8"] < sizes["float16"] < sizes["float32"]


def test_int8_model_has_int8_input_and_output(tflite_models):
    interpreter = export.load_interpreter(tflite_models["int8"])
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    assert inp["dtype"] == np.int8 and out["dtype"] == np.int8
    assert inp["quantization"][0] > 0


# ----------------------------------------------------------------------- interpreter


def test_load_interpreter_from_a_file(tflite_models, tmp_path):
    path = tmp_path / "model.tflite"
    path.write_bytes(tflite_models["float32"])
    interpreter = export.load_interpreter(path)
    assert list(interpreter.get_output_details()[0]["shape"]) == [1, 10]


def test_load_interpreter_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.tflite"):
        export.load_interpreter(tmp_path / "missing.tflite")


def test_load_interpreter_without_litert_falls_back_quietly(tflite_models, monkeypatch):
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # import fails
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        interpreter = export.load_interpreter(tflite_models["float32"])
    assert isinstance(interpreter, tf.lite.Interpreter)
    assert not [w for w in caught if "deprecated" in str(w.message)]


def test_interpreter_backend_names_a_runtime():
    assert export.interpreter_backend().startswith(("ai_edge_litert ", "tf.lite"))


# ------------------------------------------------------------------- quantisation


def test_quantize_and_dequantize_round_trip():
    detail = {"dtype": np.int8, "quantization": (1 / 255, -128), "name": "x"}
    pixels = np.array([0.0, 0.5, 1.0, 2.0], dtype=np.float32)
    quantized = export.quantize(pixels, detail)
    assert quantized.dtype == np.int8
    assert quantized.tolist() == [-128, 0, 127, 127]  # 0.5 -> 127.5 rounds to 128 - 128
    np.testing.assert_allclose(export.dequantize(quantized, detail)[:3], pixels[:3], atol=1 / 255)


def test_quantize_leaves_float_inputs_as_float32():
    out = export.quantize(np.ones(3, dtype=np.float64), {"dtype": np.float32})
    assert out.dtype == np.float32


def test_quantize_refuses_an_integer_input_without_scale():
    with pytest.raises(ValueError, match="scale"):
        export.quantize(np.ones(3), {"dtype": np.int8, "quantization": (0.0, 0)})


# -------------------------------------------------------------------- predictions


def test_float_tflite_predicts_like_keras(tiny_model, tflite_models, images):
    expected = tiny_model.predict(images, verbose=0)
    for quantization in ("float32", "float16"):
        interpreter = export.load_interpreter(tflite_models[quantization])
        got = export.tflite_predict(interpreter, images, batch_size=16)  # 16, 16, then 8
        assert got.shape == (40, 10) and got.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=1e-2 if quantization == "float16" else 1e-5)


def test_int8_tflite_gives_dequantised_probabilities(tiny_model, tflite_models, images):
    interpreter = export.load_interpreter(tflite_models["int8"])
    got = export.tflite_predict(interpreter, images)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.sum(axis=1), 1, atol=0.05)
    np.testing.assert_allclose(got, tiny_model.predict(images, verbose=0), atol=0.05)


def test_tflite_predict_refuses_bad_arguments(tflite_models, images):
    interpreter = export.load_interpreter(tflite_models["float32"])
    with pytest.raises(ValueError, match="0 images"):
        export.tflite_predict(interpreter, images[:0])
    with pytest.raises(ValueError, match="batch_size"):
        export.tflite_predict(interpreter, images, batch_size=0)


def test_tflite_predict_one_matches_the_batch(tflite_models, images):
    interpreter = export.load_interpreter(tflite_models["int8"])
    batch = export.tflite_predict(interpreter, images[:3])
    predict_one = export.tflite_predict_one(export.load_interpreter(tflite_models["int8"]))
    for i in range(3):
        np.testing.assert_array_equal(predict_one(images[i : i + 1])[0], batch[i])


def test_saved_model_predicts_like_keras(tiny_model, saved_model_dir, images):
    loaded = tf.saved_model.load(str(saved_model_dir))
    got = export.saved_model_predict(loaded, images, batch_size=15)
    np.testing.assert_allclose(got, tiny_model.predict(images, verbose=0), atol=1e-6)


def test_serving_function_unknown_signature_lists_the_ones_there(saved_model_dir):
    loaded = tf.saved_model.load(str(saved_model_dir))
    with pytest.raises(KeyError, match="serving_default"):
        export.serving_function(loaded, "predict_digits")


def test_accuracy_counts_the_argmax():
    outputs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    assert export.accuracy(outputs, np.array([0, 1, 1, 1])) == 0.75
    with pytest.raises(ValueError, match="3 labels"):
        export.accuracy(outputs, np.array([0, 1, 1]))


# ------------------------------------------------------------------------ latency


def test_median_latency_warms_up_then_times_each_call():
    calls = []
    seconds = export.median_latency(calls.append, np.zeros(1), repeats=7, warmup=2)
    assert len(calls) == 9
    assert seconds >= 0.0


def test_median_latency_needs_a_repeat():
    with pytest.raises(ValueError, match="repeats"):
        export.median_latency(lambda image: None, np.zeros(1), repeats=0)


# ------------------------------------------------------------------------- figure


def test_comparison_figure_has_three_labelled_charts():
    forms = ["Keras", "TFLite int8"]
    fig = export.comparison_figure(forms, [2.8, 0.7], [98.9, 98.8], [1.5, 0.1])
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == [
        "file size (MB)",
        "test accuracy (%)",
        "latency per image (ms)",
    ]
    assert [t.get_text() for t in axes[0].get_xticklabels()] == forms
    assert axes[1].get_ylim()[0] > 90  # zoomed in on the accuracies


def test_comparison_figure_refuses_mismatched_lengths():
    with pytest.raises(ValueError, match="2 values"):
        export.comparison_figure(["a", "b"], [1.0], [1.0, 2.0], [1.0, 2.0])
