"""Tests for helpers.drawpad: canvas pixels to a prediction, the pad widget, the figures.

The widget is driven by calling its mouse handlers and setting the pixels the front end
would send, so no browser is needed.
"""

from __future__ import annotations

import io
import re

import keras
import matplotlib
import numpy as np
import pytest
from PIL import Image, ImageDraw

from helpers import data, digits, drawpad, models, predict

matplotlib.use("Agg")

SIZE = drawpad.CANVAS_SIZE


def drawn_canvas(lines, width: int = drawpad.LINE_WIDTH, alpha_background: int = 255):
    """An RGBA canvas like ipycanvas returns: black, with white strokes along ``lines``."""
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, alpha_background))
    pen = ImageDraw.Draw(image)
    for line in lines:
        pen.line(line, fill=(255, 255, 255, 255), width=width, joint="curve")
    return np.asarray(image)


def png_bytes(rgba: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    return buffer.getvalue()


def canvas_from_digit(digit: np.ndarray) -> np.ndarray:
    """An MNIST digit enlarged onto the canvas, as if someone had drawn it there."""
    side = 200
    tile = Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR)
    gray = np.zeros((SIZE, SIZE), np.uint8)
    gray[30 : 30 + side, 50 : 50 + side] = np.asarray(tile)
    return np.dstack([gray, gray, gray, np.full_like(gray, 255)])


@pytest.fixture(scope="module")
def tiny_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def find(widget, css_class: str):
    """The first widget below ``widget`` (itself included) with ``css_class``."""
    if css_class in getattr(widget, "_dom_classes", ()):
        return widget
    for child in getattr(widget, "children", ()):
        found = find(child, css_class)
        if found is not None:
            return found
    return None


# -------------------------------------------------------------------- canvas_to_mnist

VERTICAL = [[(140, 40), (140, 240)]]


def test_canvas_to_mnist_gives_a_centred_mnist_style_digit():
    image = drawpad.canvas_to_mnist(drawn_canvas(VERTICAL))
    assert image.shape == (28, 28) and image.dtype == np.uint8
    assert image.max() == 255
    rows = np.flatnonzero(image.max(axis=1))
    assert rows[-1] - rows[0] + 1 == 20  # the longer side fits the 20x20 box
    row, col = digits.centre_of_mass(image.astype(float))
    assert abs(row - 14) <= 1 and abs(col - 14) <= 1


def test_canvas_to_mnist_keeps_the_shape_of_the_drawing():
    horizontal = drawpad.canvas_to_mnist(drawn_canvas([[(40, 140), (240, 140)]]))
    vertical = drawpad.canvas_to_mnist(drawn_canvas(VERTICAL))
    np.testing.assert_array_equal(horizontal, vertical.T)


def test_transparent_background_counts_as_black():
    opaque = drawpad.canvas_to_mnist(drawn_canvas(VERTICAL))
    transparent = drawpad.canvas_to_mnist(drawn_canvas(VERTICAL, alpha_background=0))
    np.testing.assert_array_equal(opaque, transparent)


def test_three_channels_are_accepted():
    rgba = drawn_canvas(VERTICAL)
    np.testing.assert_array_equal(
        drawpad.canvas_to_mnist(rgba[..., :3]), drawpad.canvas_to_mnist(rgba)
    )


def test_thin_strokes_are_thickened():
    thin = drawpad.canvas_to_mnist(drawn_canvas([[(60, 40), (220, 240)]], width=2))
    assert (thin > 127).sum() > 40  # a 2-pixel line would shrink to almost nothing


@pytest.mark.parametrize("value", [0, 5])
def test_a_black_canvas_is_blank(value):
    rgba = np.zeros((SIZE, SIZE, 4), np.uint8)
    rgba[..., :3], rgba[..., 3] = value, 255  # 5/255 is below the ink floor
    with pytest.raises(digits.BlankImageError, match="nothing drawn"):
        drawpad.canvas_to_mnist(rgba)


@pytest.mark.parametrize(
    "bad", [np.zeros((SIZE, SIZE), np.uint8), np.zeros((SIZE, SIZE, 4), np.float32)]
)
def test_canvas_to_mnist_refuses_other_arrays(bad):
    with pytest.raises(ValueError, match="get_image_data"):
        drawpad.canvas_to_mnist(bad)


# ------------------------------------------------------------------- predict_drawing


def test_predict_drawing_returns_the_digit_and_probabilities(tiny_model):
    prediction = drawpad.predict_drawing(tiny_model, drawn_canvas(VERTICAL))
    assert isinstance(prediction.digit, int) and 0 <= prediction.digit <= 9
    assert prediction.probabilities.shape == (10,)
    assert prediction.probabilities.sum() == pytest.approx(1, abs=1e-5)
    assert prediction.digit == int(prediction.probabilities.argmax())
    assert prediction.image.shape == (28, 28)


def test_predict_drawing_of_a_blank_canvas_is_empty(tiny_model):
    prediction = drawpad.predict_drawing(tiny_model, np.zeros((SIZE, SIZE, 4), np.uint8))
    assert prediction == drawpad.DrawingPrediction()


@pytest.mark.slow
def test_a_trained_model_reads_digits_drawn_on_the_canvas():
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    model = models.build_article_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(data.scale_images(x_train[:3000]), y_train[:3000], epochs=1, verbose=0)
    readings = [drawpad.predict_drawing(model, canvas_from_digit(x)).digit for x in x_test[:30]]
    assert np.mean(np.array(readings) == y_test[:30]) >= 0.8


# ------------------------------------------------------------------------ text, HTML


def test_prediction_text():
    probabilities = np.full(10, 0.02)
    probabilities[7] = 0.82
    assert drawpad.prediction_text(drawpad.DrawingPrediction(7, probabilities)) == (
        "Prediction: 7 (82%)"
    )
    empty = drawpad.prediction_text(drawpad.DrawingPrediction())
    assert empty.startswith("Prediction:") and not re.search(r"\d", empty)


def test_probabilities_html_has_ten_bars_and_highlights_the_best():
    probabilities = np.zeros(10)
    probabilities[3] = 1.0
    html = drawpad.probabilities_html(probabilities)
    assert html.count("<div") == 10
    assert html.count("#d62728") == 1 and "width:160px;background:#d62728" in html
    assert "100.0%" in html
    assert "#d62728" not in drawpad.probabilities_html(None)


def test_probabilities_html_refuses_other_lengths():
    with pytest.raises(ValueError, match="10 values"):
        drawpad.probabilities_html(np.ones(3) / 3)


def test_image_png_enlarges_with_square_pixels():
    image = np.zeros((28, 28), np.uint8)
    image[0, 0] = 255
    decoded = np.asarray(Image.open(io.BytesIO(drawpad.image_png(image))))
    assert decoded.shape == (112, 112)
    assert decoded[:4, :4].min() == 255 and decoded[4:, 4:].max() == 0
    assert np.asarray(Image.open(io.BytesIO(drawpad.image_png(None)))).max() == 0


# ---------------------------------------------------------------------------- widget


@pytest.fixture
def pad(tiny_model):
    return drawpad.build_drawpad(tiny_model)


def test_the_pad_has_its_parts_with_stable_css_classes(pad):
    for css_class in ["drawpad-canvas", "drawpad-clear", "drawpad-prediction", "drawpad-input"]:
        assert find(pad, css_class) is not None, css_class
    canvas = find(pad, "drawpad-canvas")
    assert (canvas.width, canvas.height) == (SIZE, SIZE) and canvas.sync_image_data
    assert "Prediction: none yet" in find(pad, "drawpad-prediction").value


def test_a_stroke_updates_the_prediction(pad):
    canvas, label = find(pad, "drawpad-canvas"), find(pad, "drawpad-prediction")
    canvas._mouse_down_callbacks(140, 40)
    canvas._mouse_move_callbacks(140, 140)
    canvas.set_trait("image_data", png_bytes(drawn_canvas([[(140, 40), (140, 140)]])))
    assert "none yet" in label.value  # no update in the middle of a stroke
    canvas._mouse_move_callbacks(140, 240)
    canvas._mouse_up_callbacks(140, 240)
    assert re.search(r"Prediction: \d \(\d+%\)", label.value)
    assert "#d62728" in find(pad, "drawpad-probabilities").value


def test_pixels_arriving_after_mouse_up_update_the_prediction(pad):
    canvas, label = find(pad, "drawpad-canvas"), find(pad, "drawpad-prediction")
    canvas._mouse_down_callbacks(140, 40)
    canvas._mouse_up_callbacks(140, 240)  # the front end has sent no pixels yet
    assert "none yet" in label.value
    canvas.set_trait("image_data", png_bytes(drawn_canvas(VERTICAL)))
    assert re.search(r"Prediction: \d", label.value)


def test_clear_resets_the_prediction(pad):
    canvas, label = find(pad, "drawpad-canvas"), find(pad, "drawpad-prediction")
    canvas._mouse_down_callbacks(140, 40)
    canvas.set_trait("image_data", png_bytes(drawn_canvas(VERTICAL)))
    canvas._mouse_up_callbacks(140, 240)
    assert re.search(r"Prediction: \d", label.value)
    find(pad, "drawpad-clear").click()
    assert "none yet" in label.value


# --------------------------------------------------------------------------- figures


def test_panels_titles_each_image_with_its_name_and_size():
    fig = drawpad.panels({"photo": np.zeros((40, 30, 3), np.uint8), "gray": np.ones((5, 6))})
    titles = [ax.get_title() for ax in fig.get_axes()]
    assert titles == ["photo\n30x40", "gray\n6x5"]


def test_panels_needs_images():
    with pytest.raises(ValueError, match="no images"):
        drawpad.panels({})


def test_top_k_figure_draws_one_image_and_one_chart_per_picture():
    predictions = [
        predict.Prediction(file="a/digit_1.jpg", top=[(1, 0.9), (7, 0.08), (4, 0.01)]),
        predict.Prediction(file="broken.png", error="not an image"),
    ]
    images = [np.zeros((28, 28), np.uint8), None]
    fig = drawpad.top_k_figure(images, predictions, k=3)
    axes = fig.get_axes()
    assert len(axes) == 4
    assert axes[0].get_title() == "digit_1.jpg"
    assert [t.get_text() for t in axes[1].get_yticklabels()] == ["1", "7", "4"]
    assert any(text.get_text() == "error" for text in axes[3].texts)


def test_top_k_figure_colours_the_answer_by_the_true_label():
    predictions = [
        predict.Prediction(file="one.png", top=[(1, 0.9), (7, 0.1)]),
        predict.Prediction(file="two.png", top=[(1, 0.6), (2, 0.4)]),
    ]
    images = [np.zeros((28, 28), np.uint8)] * 2
    fig = drawpad.top_k_figure(images, predictions, labels=[1, 2], k=2)
    axes = fig.get_axes()
    assert axes[0].get_title() == "one.png (a 1)"
    first_bars = [matplotlib.colors.to_hex(bar.get_facecolor()) for bar in axes[1].patches]
    second_bars = [matplotlib.colors.to_hex(bar.get_facecolor()) for bar in axes[3].patches]
    assert first_bars[0] == matplotlib.colors.to_hex("tab:green")
    assert second_bars[0] == matplotlib.colors.to_hex("tab:red")


def test_top_k_figure_refuses_mismatched_lengths():
    with pytest.raises(ValueError, match="1 images for 0 predictions"):
        drawpad.top_k_figure([np.zeros((28, 28))], [])
    prediction = predict.Prediction(file="a.png", top=[(1, 1.0), (2, 0.0)])
    with pytest.raises(ValueError, match="2 labels"):
        drawpad.top_k_figure([np.zeros((28, 28))], [prediction], labels=[1, 2])
