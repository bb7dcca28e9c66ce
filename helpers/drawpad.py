"""Read digits that you draw with the mouse, and the figures of notebook 12.

``build_drawpad(model)`` returns a widget for JupyterLab: a black square to draw on in
white, a Clear button, and the model's answer with its ten probabilities, updated after
every stroke. It needs a live kernel and ipycanvas' front-end extension. Its parts carry
stable CSS classes for browser tests: ``drawpad-canvas``, ``drawpad-clear``,
``drawpad-prediction`` (text such as "Prediction: 7 (93%)"), ``drawpad-probabilities``
and ``drawpad-input`` (the 28x28 image the model sees).

The work is done by pure functions, tested without a browser: ``canvas_to_mnist`` turns
the canvas' RGBA pixels into a 28x28 MNIST-style digit with the steps of
``helpers.digits`` (the drawing is already white on black, so it is only cropped,
thickened if thin, fitted in 20x20 and centred by mass), and ``predict_drawing`` classifies
it.

``panels`` and ``top_k_figure`` draw the preprocessing steps and the top-3 bar charts.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from helpers import data, digits, predict
from helpers.plots import NotebookFigure

if TYPE_CHECKING:
    import ipywidgets
    import keras

CANVAS_SIZE = 280  # 10x MNIST's 28 pixels
LINE_WIDTH = 22  # about a tenth of a digit drawn across most of the canvas, like MNIST
INK_FLOOR = 0.05  # fainter pixels (anti-aliasing dust) are not ink
STATIC_VIEW_TEXT = (
    "The drawing pad needs a live JupyterLab with a running kernel: draw a digit in the "
    "black square below and the prediction updates after each stroke "
    "(in a static view you see this text only)."
)


@dataclass(frozen=True)
class DrawingPrediction:
    """What the model read in a drawing; all fields are None when nothing is drawn.

    ``image`` is the 28x28 uint8 digit the model saw, ``probabilities`` its 10 outputs.
    """

    digit: int | None = None
    probabilities: np.ndarray | None = None
    image: np.ndarray | None = None


# ------------------------------------------------------------------------ pure logic


def canvas_to_mnist(rgba: np.ndarray) -> np.ndarray:
    """Return the drawing in ``rgba`` as a 28x28 uint8 MNIST-style digit, white on black.

    ``rgba`` is what ``Canvas.get_image_data()`` returns: uint8 of shape (height, width, 4)
    (or 3 channels), light strokes on a black or transparent background.
    Raises ``ValueError`` for another shape or dtype, and ``digits.BlankImageError`` if
    nothing is drawn.
    """
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] not in (3, 4) or rgba.dtype != np.uint8:
        raise ValueError(
            f"rgba: expected uint8 pixels of shape (height, width, 4), got {rgba.dtype} "
            f"{rgba.shape}; pass canvas.get_image_data()"
        )
    ink = rgba[..., :3].max(axis=2).astype(np.float32) / 255.0
    if rgba.shape[2] == 4:
        ink *= rgba[..., 3].astype(np.float32) / 255.0  # transparent pixels are background
    ink[ink < INK_FLOOR] = 0.0
    if not ink.any():
        raise digits.BlankImageError("nothing drawn yet: the canvas is black")
    cropped = digits.crop_to_ink(ink / ink.max())
    resized = digits.fit_in_box(digits.thicken_strokes(cropped))
    return digits.to_uint8(digits.centre_by_mass(resized))


def predict_drawing(model: keras.Model, rgba: np.ndarray) -> DrawingPrediction:
    """Return the model's reading of the drawing in ``rgba`` (see ``canvas_to_mnist``).

    An empty ``DrawingPrediction`` (all None) if nothing is drawn. Raises ``ValueError``
    if ``rgba`` has the wrong shape or dtype.
    """
    try:
        image = canvas_to_mnist(rgba)
    except digits.BlankImageError:
        return DrawingPrediction()
    batch = data.scale_images(image[np.newaxis]).reshape((1, *model.input_shape[1:]))
    probabilities = predict.as_probabilities(np.asarray(model.predict_on_batch(batch)))[0]
    return DrawingPrediction(int(probabilities.argmax()), probabilities, image)


def prediction_text(prediction: DrawingPrediction) -> str:
    """Return the line the pad shows, e.g. ``Prediction: 7 (93%)``, or an invitation to draw."""
    if prediction.digit is None:
        return "Prediction: none yet, draw a digit"
    return f"Prediction: {prediction.digit} ({prediction.probabilities[prediction.digit]:.0%})"


def probabilities_html(probabilities: np.ndarray | None) -> str:
    """Return an HTML bar chart of the 10 probabilities, the most likely digit highlighted.

    ``None`` gives empty bars. Raises ``ValueError`` if there are not 10 values.
    """
    values = np.zeros(10) if probabilities is None else np.asarray(probabilities, dtype=float)
    if values.shape != (10,):
        raise ValueError(f"probabilities: expected 10 values, got shape {values.shape}")
    best = int(values.argmax()) if values.any() else -1
    rows = []
    for digit, value in enumerate(values):
        colour = "#d62728" if digit == best else "#1f77b4"
        rows.append(
            f'<div style="display:flex;align-items:center;height:18px">'
            f'<span style="width:14px;font-family:monospace">{digit}</span>'
            f'<span style="display:inline-block;height:12px;width:{160 * value:.0f}px;'
            f'background:{colour};margin:0 6px"></span>'
            f'<span style="font-family:monospace;font-size:11px">{value:.1%}</span></div>'
        )
    return "".join(rows)


def image_png(image: np.ndarray | None, scale: int = 4) -> bytes:
    """Return a 28x28 uint8 digit as PNG bytes, enlarged ``scale`` times with square pixels.

    ``None`` gives a black square of the same size.
    """
    pixels = np.zeros((28, 28), np.uint8) if image is None else np.asarray(image, np.uint8)
    enlarged = Image.fromarray(pixels).resize(
        (pixels.shape[1] * scale, pixels.shape[0] * scale), Image.Resampling.NEAREST
    )
    buffer = io.BytesIO()
    enlarged.save(buffer, format="PNG")
    return buffer.getvalue()


# ---------------------------------------------------------------------------- widget


def build_drawpad(
    model: keras.Model, size: int = CANVAS_SIZE, line_width: int = LINE_WIDTH
) -> ipywidgets.Box:
    """Return the drawing pad widget for ``model``: canvas, Clear button, live prediction.

    Press the mouse button and move to draw white strokes on the black ``size`` x ``size``
    canvas; when the button is released (and whenever the front end sends new pixels
    while no stroke is in progress) the drawing is read back with
    ``canvas.get_image_data()`` and classified with ``predict_drawing``.
    """
    import ipywidgets as widgets
    from ipycanvas import Canvas, hold_canvas

    canvas = Canvas(width=size, height=size, sync_image_data=True)
    canvas.layout.width = canvas.layout.height = f"{size}px"
    canvas.add_class("drawpad-canvas")
    clear_button = widgets.Button(description="Clear", icon="eraser")
    clear_button.add_class("drawpad-clear")
    prediction_label = widgets.HTML()
    prediction_label.add_class("drawpad-prediction")
    bars = widgets.HTML()
    bars.add_class("drawpad-probabilities")
    seen = widgets.Image(format="png", width=112, height=112)
    seen.add_class("drawpad-input")
    state = {"drawing": False, "last": None}

    def show(prediction: DrawingPrediction) -> None:
        prediction_label.value = f"<b style='font-size:18px'>{prediction_text(prediction)}</b>"
        bars.value = probabilities_html(prediction.probabilities)
        seen.value = image_png(prediction.image)

    def paint_background() -> None:
        with hold_canvas():
            canvas.clear()
            canvas.fill_style = "black"
            canvas.fill_rect(0, 0, size, size)
            canvas.stroke_style = "white"
            canvas.fill_style = "white"
            canvas.line_width = line_width
            canvas.line_cap = "round"
            canvas.line_join = "round"

    def update() -> None:
        if canvas.image_data is not None:
            show(predict_drawing(model, canvas.get_image_data()))

    def on_down(x: float, y: float) -> None:
        state["drawing"], state["last"] = True, (x, y)
        canvas.fill_circle(x, y, line_width / 2)  # a click alone leaves a dot

    def on_move(x: float, y: float) -> None:
        if state["drawing"]:
            canvas.stroke_line(*state["last"], x, y)
            state["last"] = (x, y)

    def on_up(x: float, y: float) -> None:
        if state["drawing"]:
            on_move(x, y)
            state["drawing"] = False
            update()

    def on_pixels(change: dict[str, Any]) -> None:
        if not state["drawing"]:  # the pixels of the last stroke arrived after mouse-up
            update()

    def on_clear(_: Any) -> None:
        state["drawing"] = False
        paint_background()
        show(DrawingPrediction())

    canvas.on_mouse_down(on_down)
    canvas.on_mouse_move(on_move)
    canvas.on_mouse_up(on_up)
    canvas.on_mouse_out(on_up)
    canvas.observe(on_pixels, names="image_data")
    clear_button.on_click(on_clear)
    paint_background()
    show(DrawingPrediction())

    model_view = widgets.VBox(
        [prediction_label, bars, widgets.HTML("what the model sees:"), seen],
        layout=widgets.Layout(margin="0 0 0 16px"),
    )
    pad = widgets.HBox([widgets.VBox([canvas, clear_button]), model_view])
    pad.add_class("drawpad")
    return pad


# --------------------------------------------------------------------------- figures


def panels(
    images: Mapping[str, np.ndarray], ncols: int = 5, size: float = 2.0, title: str = ""
) -> NotebookFigure:
    """Return one panel per image, titled with its key; images may have any size.

    Grayscale arrays (floats in [0, 1] or uint8) are drawn white on black as stored, RGB(A)
    arrays in their colours. Raises ``ValueError`` if ``images`` is empty.
    """
    if not images:
        raise ValueError("images: got no images to show")
    ncols = max(1, min(ncols, len(images)))
    nrows = -(-len(images) // ncols)
    fig = NotebookFigure(figsize=(size * ncols, size * nrows + 0.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, (name, image) in zip(axes, images.items(), strict=False):
        image = np.asarray(image)
        if image.ndim == 2:
            peak = 255 if image.dtype == np.uint8 else 1.0
            ax.imshow(image, cmap="gray", vmin=0, vmax=peak)
        else:
            ax.imshow(image)
        ax.set_title(f"{name}\n{image.shape[1]}x{image.shape[0]}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[len(images) :]:
        ax.remove()
    if title:
        fig.suptitle(title)
    return fig


def top_k_figure(
    images: Sequence[np.ndarray | None],
    predictions: Sequence[predict.Prediction],
    labels: Sequence[int] | None = None,
    k: int = 3,
    ncols: int = 4,
) -> NotebookFigure:
    """Return, for each picture, the 28x28 digit the model saw and a bar chart of its top ``k``.

    ``images`` are 28x28 uint8 digits (None for a picture that failed), ``predictions``
    come from ``predict.predict_images(..., top=k)``; each panel is titled with the file's
    name and shows the error instead when there is one. With the true ``labels``, the
    answer's bar is green when right and red when wrong (else always red). Raises
    ``ValueError`` if the lengths differ or there are no predictions.
    """
    if len(images) != len(predictions) or not predictions:
        raise ValueError(
            f"got {len(images)} images for {len(predictions)} predictions; pass one each"
        )
    if labels is not None and len(labels) != len(predictions):
        raise ValueError(f"got {len(labels)} labels for {len(predictions)} predictions")
    ncols = max(1, min(ncols, len(predictions)))
    nrows = -(-len(predictions) // ncols)
    fig = NotebookFigure(figsize=(3.2 * ncols, 1.5 * nrows + 0.3), layout="constrained")
    grid = fig.add_gridspec(nrows, 2 * ncols, width_ratios=[1, 1.6] * ncols)
    for i, (image, prediction) in enumerate(zip(images, predictions, strict=True)):
        row, col = divmod(i, ncols)
        ax_image = fig.add_subplot(grid[row, 2 * col])
        ax_bars = fig.add_subplot(grid[row, 2 * col + 1])
        ax_image.imshow(np.zeros((28, 28)) if image is None else image, cmap="gray", vmin=0)
        ax_image.set_xticks([])
        ax_image.set_yticks([])
        name = str(prediction.file).replace("\\", "/").rsplit("/", 1)[-1]
        ax_image.set_title(name if labels is None else f"{name} (a {labels[i]})", fontsize=8)
        if prediction.error is not None:
            ax_bars.text(0, 0.5, "error", color="tab:red", va="center")
            ax_bars.set_axis_off()
            continue
        top = prediction.top[:k]
        tick_labels = [str(digit) for digit, _ in top]
        values = [probability for _, probability in top]
        right = labels is not None and top[0][0] == labels[i]
        colours = ["tab:green" if right else "tab:red"] + ["tab:blue"] * (len(top) - 1)
        ax_bars.barh(range(len(top)), values, color=colours)
        ax_bars.set_yticks(range(len(top)), tick_labels)
        ax_bars.invert_yaxis()  # the most likely digit on top
        ax_bars.set_xlim(0, 1)
        ax_bars.set_xticks([0, 0.5, 1], ["0", ".5", "1"], fontsize=7)
        for y, value in enumerate(values):
            inside = value > 0.6  # long bars carry their label, short ones have it beside
            ax_bars.text(
                value - 0.03 if inside else value + 0.03,
                y,
                f"{value:.0%}",
                va="center",
                ha="right" if inside else "left",
                color="white" if inside else "black",
                fontsize=7,
            )
    return fig
