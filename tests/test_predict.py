"""Tests for helpers.predict: reading digits in pictures with a saved model, and its CLI."""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from helpers import config, data, digits, models, predict

SAMPLES = sorted((config.REPO_ROOT / "images" / "samples").glob("digit_*"))
# Keras 3.15 + NumPy 2.4 warn inside model.save(); not ours to fix, and not what we test.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

LINE = re.compile(r"^(?P<file>.+): (?P<digit>\d) \(\d+\.\d%\), runner-up \d \(\d+\.\d%\)$")


@pytest.fixture(scope="session")
def model_path(tmp_path_factory) -> Path:
    """A quickly trained article CNN (1 epoch, 3,000 images: about 85-90% accurate)."""
    keras.utils.set_random_seed(0)
    (x_train, y_train), _ = data.load_mnist()
    model = models.build_article_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(data.scale_images(x_train[:3000]), y_train[:3000], epochs=1, verbose=0)
    path = tmp_path_factory.mktemp("model") / "small_cnn.keras"
    model.save(path)
    return path


@pytest.fixture(scope="session")
def model(model_path):
    return predict.load_model(model_path)


@pytest.fixture(scope="session")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    _, (x_test, y_test) = data.load_mnist()
    return x_test[:60], y_test[:60]


def tiny_model(input_shape: tuple[int, ...], classes: int, lambda_layer: bool = False):
    layers = [keras.Input(shape=input_shape), keras.layers.Flatten()]
    if lambda_layer:
        layers.append(keras.layers.Lambda(lambda x: x * 2))
    layers.append(keras.layers.Dense(classes, activation="softmax"))
    return keras.Sequential(layers)


class TouchOnUnpickle:
    """Unpickling this creates a file: proof that a pickle was (or was not) opened."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


# ------------------------------------------------------------------------ model loading


def test_load_model_gives_a_model_for_digits(model):
    assert model.input_shape == (None, 28, 28, 1)
    assert model.output_shape == (None, 10)


def test_missing_model(tmp_path):
    with pytest.raises(predict.ModelFileError, match="nope.keras: no such model file"):
        predict.load_model(tmp_path / "nope.keras")


@pytest.mark.parametrize("name", ["model.pkl", "model.keras", "model.h5"])
def test_pickles_and_h5_files_are_never_opened(tmp_path, name):
    marker = tmp_path / "unpickled"
    path = tmp_path / name
    path.write_bytes(pickle.dumps(TouchOnUnpickle(marker)))
    with pytest.raises(predict.ModelFileError, match=re.escape(str(path))) as caught:
        predict.load_model(path)
    assert not marker.exists()
    assert "\n" not in str(caught.value)


def test_text_file_and_foreign_zip_are_refused(tmp_path):
    text = tmp_path / "notes.keras"
    text.write_text("not a model\n")
    with pytest.raises(predict.ModelFileError, match="not a Keras model"):
        predict.load_model(text)
    archive = tmp_path / "photos.keras"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("hello.txt", "hello")
    with pytest.raises(predict.ModelFileError, match="photos.keras: cannot load") as caught:
        predict.load_model(archive)
    assert "\n" not in str(caught.value)


def test_safe_mode_refuses_lambda_layers(tmp_path):
    path = tmp_path / "lambda.keras"
    tiny_model((28, 28, 1), 10, lambda_layer=True).save(path)
    with pytest.raises(
        predict.ModelFileError, match="lambda.keras: refused: the model contains a Lambda layer"
    ):
        predict.load_model(path)


@pytest.mark.parametrize(
    ("shape", "classes", "problem"),
    [((32, 32, 3), 10, "takes inputs of shape"), ((28, 28, 1), 5, "not 10 classes")],
)
def test_models_for_other_data_are_refused(tmp_path, shape, classes, problem):
    path = tmp_path / "other.keras"
    tiny_model(shape, classes).save(path)
    with pytest.raises(predict.ModelFileError, match=problem):
        predict.load_model(path)


def test_flat_input_models_are_accepted(tmp_path):
    path = tmp_path / "flat.keras"
    tiny_model((784,), 10).save(path)
    flat = predict.load_model(path)
    [result] = predict.predict_images(flat, [SAMPLES[0]])
    assert result.error is None and 0 <= result.digit <= 9


# -------------------------------------------------------------------------- prediction


def test_as_probabilities():
    probabilities = np.array([[0.1, 0.9], [0.5, 0.5]])
    np.testing.assert_array_equal(predict.as_probabilities(probabilities), probabilities)
    logits = predict.as_probabilities(np.array([[2.0, -1.0, 0.0]]))
    assert logits.sum() == pytest.approx(1) and logits.argmax() == 0


def test_top_k_is_sorted():
    row = np.array([0.05, 0.6, 0.05, 0.3] + [0.0] * 6)
    assert predict.top_k(row, 3) == [(1, 0.6), (3, 0.3), (0, 0.05)]


def test_format_prediction():
    good = predict.Prediction("photo.jpg", [(7, 0.981), (1, 0.012), (4, 0.004)])
    assert predict.format_prediction(good) == "photo.jpg: 7 (98.1%), runner-up 1 (1.2%)"
    assert predict.format_prediction(good, top=1) == "photo.jpg: 7 (98.1%)"
    assert predict.format_prediction(good, top=3).endswith("runner-up 1 (1.2%), then 4 (0.4%)")
    bad = predict.Prediction("x.png", error="no ink found")
    assert predict.format_prediction(bad) == "x.png: error: no ink found"


def test_prediction_to_dict():
    good = predict.Prediction("a.jpg", [(3, 0.8), (5, 0.15), (8, 0.05)])
    assert good.to_dict() == {
        "file": "a.jpg",
        "digit": 3,
        "probability": 0.8,
        "runner_up": 5,
        "runner_up_probability": 0.15,
        "top": [{"digit": 3, "probability": 0.8}, {"digit": 5, "probability": 0.15}],
    }
    assert len(good.to_dict(top=3)["top"]) == 3
    assert predict.Prediction("b.png", error="why").to_dict() == {"file": "b.png", "error": "why"}


def test_predict_images_keeps_order_and_reports_bad_pictures(model, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("hello")
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 220).save(blank)
    results = predict.predict_images(model, [SAMPLES[0], text, blank, SAMPLES[1]], top=3)
    assert [r.file for r in results] == [str(SAMPLES[0]), str(text), str(blank), str(SAMPLES[1])]
    assert results[1].error.startswith("not an image") and results[1].digit is None
    assert results[2].error.startswith("no ink found")
    for result in (results[0], results[3]):
        assert result.error is None and len(result.top) == 3
        assert sum(p for _, p in result.top) <= 1 + 1e-6


def test_photo_like_digits_are_read_like_the_originals(model, mnist_test):
    x_test, y_test = mnist_test
    rng = np.random.default_rng(0)
    photos = [digits.make_photo_like(digit, rng) for digit in x_test]
    results = predict.predict_images(model, photos)
    on_photos = np.array([r.digit for r in results])
    on_mnist = model.predict(data.scale_images(x_test), verbose=0).argmax(axis=1)
    assert (on_photos == on_mnist).mean() >= 0.85
    assert (on_photos == y_test).mean() >= 0.75


def test_sample_images_preprocess_like_mnist():
    assert len(SAMPLES) >= 10
    for path in SAMPLES:
        mnist = digits.to_mnist(path)
        row, col = digits.centre_of_mass(mnist.astype(float))
        assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5, path.name
        ink = np.flatnonzero(mnist.max(axis=0)), np.flatnonzero(mnist.max(axis=1))
        assert max(len(ink[0]), len(ink[1])) <= 22, path.name  # 20 plus blurred edges


# ------------------------------------------------------------------------- command line


def test_main_prints_one_line_per_picture(model_path, capsys):
    assert predict.main([str(model_path), *map(str, SAMPLES[:3])]) == predict.EXIT_OK
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 3 and err == ""
    for line, path in zip(lines, SAMPLES[:3], strict=True):
        match = LINE.match(line)
        assert match, line
        assert match["file"] == str(path)


def test_main_top_k(model_path, capsys):
    assert predict.main([str(model_path), str(SAMPLES[0]), "--top", "4"]) == 0
    assert re.search(r"runner-up \d \(.*\), then \d \(.*\), \d \(.*\)$", capsys.readouterr().out)
    assert predict.main([str(model_path), str(SAMPLES[0]), "--top", "1"]) == 0
    assert "runner-up" not in capsys.readouterr().out


def test_main_bad_pictures_are_named_and_the_rest_still_read(model_path, tmp_path, capsys):
    text = tmp_path / "notes.jpg"
    text.write_text("hello")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(SAMPLES[0].read_bytes()[:2000])
    blank = tmp_path / "blank.png"
    Image.new("RGB", (100, 100), "white").save(blank)
    missing = tmp_path / "missing.png"
    argv = [str(model_path), str(text), str(SAMPLES[0]), str(cut), str(blank), str(missing)]
    assert predict.main(argv) == predict.EXIT_IMAGE_ERROR
    out, err = capsys.readouterr()
    assert LINE.match(out.strip())
    errors = err.splitlines()
    assert len(errors) == 4
    assert errors[0].startswith(f"{text}: error: not an image")
    assert errors[1].startswith(f"{cut}: error: the file is truncated")
    assert errors[2].startswith(f"{blank}: error: no ink found")
    assert errors[3] == f"{missing}: error: no such file"


def test_main_too_large_picture(model_path, tmp_path, capsys):
    huge = tmp_path / "huge.png"
    Image.new("1", (8000, 6000), 1).save(huge)
    assert predict.main([str(model_path), str(huge)]) == predict.EXIT_IMAGE_ERROR
    assert "megapixels" in capsys.readouterr().err


def test_main_json(model_path, tmp_path, capsys):
    text = tmp_path / "notes.png"
    text.write_text("hello")
    assert predict.main([str(model_path), str(SAMPLES[0]), str(text), "--json"]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    good, bad = json.loads(out)
    assert set(good) == {
        "file",
        "digit",
        "probability",
        "runner_up",
        "runner_up_probability",
        "top",
    }
    assert good["file"] == str(SAMPLES[0]) and 0 <= good["digit"] <= 9
    assert good["probability"] >= good["runner_up_probability"]
    assert bad == {"file": str(text), "error": bad["error"]}
    assert bad["error"].startswith("not an image")


@pytest.mark.parametrize("suffix", [".h5", ".pkl", ".txt"])
def test_main_bad_model_exits_2_with_one_line(tmp_path, capsys, suffix):
    path = tmp_path / f"model{suffix}"
    path.write_bytes(b"whatever")
    assert predict.main([str(path), str(SAMPLES[0])]) == predict.EXIT_MODEL_ERROR
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: not a .keras file")


def test_main_missing_model_exits_2(tmp_path, capsys):
    assert predict.main([str(tmp_path / "none.keras"), str(SAMPLES[0])]) == 2
    assert "no such model file" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["model.keras"], ["m.keras", "a.png", "--top", "0"]])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        predict.main(argv)
    assert caught.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_native_stderr_silenced(capfd):
    with predict.native_stderr_silenced():
        os.write(2, b"oneDNN custom operations are on\n")
    os.write(2, b"visible\n")
    with predict.native_stderr_silenced(enabled=False):
        os.write(2, b"also visible\n")
    assert capfd.readouterr().err == "visible\nalso visible\n"


@pytest.mark.slow
def test_command_line_in_a_subprocess(model_path, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("hello")
    result = subprocess.run(
        [sys.executable, "-m", "helpers.predict", str(model_path), str(SAMPLES[0]), str(text)]
        + ["--json"],
        cwd=config.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "default"},
    )
    assert result.returncode == predict.EXIT_IMAGE_ERROR, result.stderr
    assert result.stderr == ""  # TensorFlow's start-up log is silenced
    good, bad = json.loads(result.stdout)
    assert 0 <= good["digit"] <= 9
    assert bad["file"] == str(text) and "not an image" in bad["error"]


# ------------------------------------------------------- inputs that must not break a run


def test_a_named_pipe_is_refused_at_once_and_never_opened(model, tmp_path):
    pipe = tmp_path / "pipe.png"
    os.mkfifo(pipe)
    good = tmp_path / "seven.png"
    Image.open(SAMPLES[0]).save(good)
    first, second = predict.predict_images(model, [pipe, good])
    assert "not a regular file" in first.error
    assert second.error is None and second.digit is not None


def test_a_link_loop_and_a_dangling_link_name_their_cause(model, tmp_path):
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    dangling = tmp_path / "dangling.png"
    dangling.symlink_to(tmp_path / "gone.png")
    loop_result, dangling_result = predict.predict_images(model, [loop, dangling])
    assert "loop of symbolic links" in loop_result.error
    assert "link to a missing file" in dangling_result.error


def test_a_picture_that_fails_in_an_unforeseen_way_does_not_stop_the_others(
    model, tmp_path, monkeypatch
):
    good = tmp_path / "seven.png"
    Image.open(SAMPLES[0]).save(good)
    real = digits.to_mnist

    def fragile(source, **kwargs):
        if Path(source).name == "odd.png":
            raise ZeroDivisionError("something no one foresaw")
        return real(source, **kwargs)

    monkeypatch.setattr(digits, "to_mnist", fragile)
    odd = tmp_path / "odd.png"
    Image.open(SAMPLES[0]).save(odd)
    first, second = predict.predict_images(model, [odd, good])
    assert "ZeroDivisionError" in first.error and "\n" not in first.error
    assert second.error is None


def test_a_float_image_holding_nan_gives_an_error_and_the_others_are_read(model):
    nan_image = np.full((28, 28), 0.5, dtype=np.float32)
    nan_image[3, 3] = np.nan
    good = np.asarray(Image.open(SAMPLES[0]).convert("L"))
    first, second = predict.predict_images(model, [nan_image, good])
    assert first.error
    assert second.error is None


def test_a_model_with_open_sizes_is_accepted_and_one_with_two_inputs_refused(tmp_path):
    open_sizes = keras.Sequential(
        [
            keras.Input(shape=(None, None, 1)),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    predict.check_model(open_sizes, "open.keras")  # a 28x28x1 digit fits
    a, b = keras.Input(shape=(28, 28, 1)), keras.Input(shape=(28, 28, 1))
    joined = keras.layers.Flatten()(keras.layers.Concatenate()([a, b]))
    two = keras.Model([a, b], keras.layers.Dense(10, activation="softmax")(joined))
    with pytest.raises(predict.ModelFileError, match="2 inputs"):
        predict.check_model(two, "two.keras")


def test_a_model_with_nan_weights_exits_2_and_never_prints_nan(tmp_path, capsys):
    broken = tiny_model((28, 28, 1), 10)
    broken.set_weights([np.full_like(w, np.nan) for w in broken.get_weights()])
    path = tmp_path / "nan.keras"
    broken.save(path)
    code = predict.main([str(path), str(SAMPLES[0]), "--json"])
    out, err = capsys.readouterr()
    assert code == predict.EXIT_MODEL_ERROR
    assert "NaN" in err and "NaN" not in out


def test_a_model_whose_outputs_are_not_probabilities_is_refused(tmp_path):
    logits = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    logits.set_weights([np.ones_like(w) for w in logits.get_weights()])
    with pytest.raises(predict.ModelFileError, match="not probabilities"):
        predict.check_model(logits, "logits.keras")
