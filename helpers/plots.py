"""Figures introduced in notebooks 01 to 06: digits, class balance, curves, filters, maps.

``training_curves`` is taught in notebook 06 and generated from its ``# @save`` cell; the
other figures are plumbing (styling and layout) that the notebooks call.

Every function returns a ``matplotlib.figure.Figure`` and shows nothing itself: a notebook
displays the figure it gets back (make it the last expression of the cell, or call
``display(fig)``). The figures are not registered with ``pyplot``, so they never pile up
in memory or appear twice, and they display in Jupyter even where pyplot is not imported.

Images may be uint8 (0..255) or float (0..1), of shape (n, 28, 28) or (n, 28, 28, 1).
Anything else raises ``ValueError`` saying what was wrong and what to pass instead.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

IMAGE_SIZE = (28, 28)
CURVE_METRICS = ("accuracy", "loss")


class NotebookFigure(Figure):
    """A plain matplotlib ``Figure`` that Jupyter can show by itself, as a PNG."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


# ---------------------------------------------------------------------------- checks


def _checked_images(images: Any, name: str = "images") -> np.ndarray:
    """Return ``images`` as (n, 28, 28), uint8 or float in [0, 1], not converted; else raise.

    Raises ValueError naming the problem: colour channels, one image without a batch axis,
    a wrong shape, no images, another dtype, or float pixels outside [0, 1].
    """
    array = np.asarray(images)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    elif array.ndim == 4:
        raise ValueError(
            f"{name}: expected grayscale images (n, 28, 28, 1), got {array.shape[-1]} "
            f"channels in shape {array.shape}"
        )
    if array.ndim == 2 and array.shape == IMAGE_SIZE:
        raise ValueError(
            f"{name}: got one image of shape {array.shape}; pass image[None] or a batch"
        )
    if array.ndim != 3 or array.shape[1:] != IMAGE_SIZE:
        raise ValueError(f"{name}: expected shape (n, 28, 28) or (n, 28, 28, 1), got {array.shape}")
    if len(array) == 0:
        raise ValueError(f"{name}: got 0 images")
    if array.dtype == np.uint8:
        return array
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(
            f"{name}: expected uint8 (0..255) or float (0..1) pixels, got {array.dtype}"
        )
    if np.nanmin(array) < 0 or np.nanmax(array) > 1:
        raise ValueError(
            f"{name}: float pixels must lie in [0, 1], got {np.nanmin(array):.3g}.."
            f"{np.nanmax(array):.3g}; divide by 255 or pass the uint8 images"
        )
    return array


def _images(images: Any, name: str = "images") -> np.ndarray:
    """Return ``images`` as float64 in [0, 1] of shape (n, 28, 28); raise ValueError if not."""
    array = _checked_images(images, name)
    if array.dtype == np.uint8:
        return array.astype(np.float64) / 255.0
    return array.astype(np.float64)


def _labels(labels: Any, n: int | None = None, name: str = "labels") -> np.ndarray:
    """Return integer class labels of shape (n,); raise ValueError if they are not."""
    array = np.asarray(labels)
    if array.ndim == 2:
        raise ValueError(
            f"{name}: expected integer labels of shape (n,), got {array.shape}; for one-hot "
            "labels pass np.argmax(labels, axis=1)"
        )
    if array.ndim != 1:
        raise ValueError(f"{name}: expected integer labels of shape (n,), got {array.shape}")
    if len(array) and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name}: expected integer labels, got dtype {array.dtype}")
    if n is not None and len(array) != n:
        raise ValueError(f"{name}: got {len(array)} labels for {n} images")
    return array.astype(np.int64)


def _classes(labels: np.ndarray, classes: Sequence[int] | None) -> list[int]:
    return sorted(int(c) for c in np.unique(labels)) if classes is None else list(classes)


def _hide_ticks(ax: Any) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _grid(n: int, ncols: int, size: float, title: str) -> tuple[Figure, list[Any]]:
    """Return a figure with exactly ``n`` image axes laid out ``ncols`` per row."""
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig = NotebookFigure(figsize=(size * ncols, size * nrows + 0.5), layout="constrained")
    grid = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax in grid[n:]:
        ax.remove()
    fig.suptitle(title)
    return fig, list(grid[:n])


# ------------------------------------------------------------------------------ data


def sample_grid(
    images: Any,
    labels: Any,
    per_class: int = 8,
    classes: Sequence[int] | None = None,
    seed: int | None = 0,
) -> Figure:
    """Return a grid of example digits: one row per class, ``per_class`` images per row.

    ``seed`` picks random examples reproducibly; ``None`` takes the first ones. A class
    with fewer examples leaves the rest of its row blank. Raises ``ValueError`` for bad
    shapes, mismatched lengths or ``per_class < 1``.
    """
    pixels = _images(images)
    labels = _labels(labels, len(pixels))
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")
    classes = _classes(labels, classes)
    rng = None if seed is None else np.random.default_rng(seed)
    fig = NotebookFigure(figsize=(0.9 * per_class, 0.95 * len(classes) + 0.5), layout="constrained")
    axes = fig.subplots(len(classes), per_class, squeeze=False)
    for row, digit in zip(axes, classes, strict=True):
        members = np.flatnonzero(labels == digit)
        if rng is not None and len(members) > per_class:
            members = np.sort(rng.choice(members, per_class, replace=False))
        for col, ax in enumerate(row):
            _hide_ticks(ax)
            if col < len(members):
                ax.imshow(pixels[members[col]], cmap="gray_r", vmin=0, vmax=1)
            else:
                ax.set_axis_off()
        row[0].set_ylabel(str(digit), rotation=0, labelpad=12, fontsize=12)
    fig.suptitle(f"{per_class} example{'s' if per_class > 1 else ''} per class")
    return fig


def image_grid(
    images: Any, titles: Sequence[str] | None = None, ncols: int = 10, title: str = ""
) -> Figure:
    """Return the images side by side, ``ncols`` per row, each with an optional title.

    Raises ``ValueError`` for bad shapes or if ``titles`` does not match the images.
    """
    pixels = _images(images)
    if titles is not None and len(titles) != len(pixels):
        raise ValueError(f"titles: got {len(titles)} titles for {len(pixels)} images")
    fig, axes = _grid(len(pixels), ncols, size=1.3, title=title)
    for i, ax in enumerate(axes):
        ax.imshow(pixels[i], cmap="gray_r", vmin=0, vmax=1)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=9)
        _hide_ticks(ax)
    return fig


def class_balance(
    labels: Any | Mapping[str, Any], num_classes: int = 10, title: str = "Images per class"
) -> Figure:
    """Return a bar chart of how many examples each class has, with the counts written on.

    ``labels`` is one array of integer labels, or a mapping such as
    ``{"train": y_train, "test": y_test}`` for grouped bars. Raises ``ValueError`` for
    labels that are not integers in ``0..num_classes-1``.
    """
    groups = dict(labels) if isinstance(labels, Mapping) else {"": labels}
    if not groups:
        raise ValueError("labels: got an empty mapping; pass an array or {name: labels}")
    fig = NotebookFigure(figsize=(8, 3.6), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(groups)
    classes = np.arange(num_classes)
    for i, (name, values) in enumerate(groups.items()):
        values = _labels(values, name=f"labels[{name!r}]" if name else "labels")
        if len(values) and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(
                f"labels: expected classes 0..{num_classes - 1}, got {values.min()}..{values.max()}"
            )
        counts = np.bincount(values, minlength=num_classes)
        offset = (i - (len(groups) - 1) / 2) * width
        bars = ax.bar(classes + offset, counts, width, label=name or None)
        ax.bar_label(bars, labels=[f"{c:,}" for c in counts], fontsize=7, padding=1)
    ax.set_xticks(classes)
    ax.set_xlabel("digit")
    ax.set_ylabel("number of images")
    ax.set_title(title)
    ax.margins(y=0.12)
    if len(groups) > 1:
        fig.legend(loc="outside right upper")
    return fig


def pixel_histogram(images: Any, bins: int = 64, log: bool = True) -> Figure:
    """Return a histogram of every pixel value in ``images``, on their own scale.

    uint8 images are shown on 0..255, float images on 0..1, so the same call shows a
    batch before and after scaling. ``log`` uses a log count axis (most pixels are 0).
    Raises ``ValueError`` for bad shapes or float pixels outside [0, 1].
    """
    pixels = _checked_images(images)  # not converted: 60,000 images in float64 are 376 MB
    is_uint8 = pixels.dtype == np.uint8
    scale = 255.0 if is_uint8 else 1.0
    counts, edges = np.histogram(pixels, bins=bins, range=(0, scale))  # counts block by block
    fig = NotebookFigure(figsize=(7, 3.2), layout="constrained")
    ax = fig.subplots()
    ax.stairs(counts, edges, fill=True, color="tab:blue")
    if log:
        ax.set_yscale("log")
    ax.set_xlim(0, scale)
    ax.set_xlabel(f"pixel value ({'uint8, 0..255' if is_uint8 else 'float, 0..1'})")
    ax.set_ylabel("number of pixels" + (" (log scale)" if log else ""))
    ax.set_title(f"Pixel intensities of {len(pixels):,} images")
    return fig


def mean_images(images: Any, labels: Any, classes: Sequence[int] | None = None) -> Figure:
    """Return the average image of each class, one small panel per class.

    Raises ``ValueError`` for bad shapes, mismatched lengths, or a requested class that
    has no examples.
    """
    pixels = _images(images)
    labels = _labels(labels, len(pixels))
    classes = _classes(labels, classes)
    fig, axes = _grid(len(classes), ncols=10, size=1.2, title="Mean image per class")
    for ax, digit in zip(axes, classes, strict=True):
        members = labels == digit
        if not members.any():
            raise ValueError(f"classes: no image has label {digit}")
        ax.imshow(pixels[members].mean(axis=0), cmap="magma", vmin=0, vmax=1)
        ax.set_title(f"{digit} (n={members.sum():,})", fontsize=8)
        _hide_ticks(ax)
    return fig


# -------------------------------------------------------------------------- training


def check_history(history: Any) -> dict[str, list[float]]:
    """Return the ``{metric: [value per epoch]}`` dict of a training history, checked.

    ``history`` is the ``History`` that ``model.fit`` returns or its ``.history`` dict.
    Raises ``ValueError`` if it is not a dict, lacks ``accuracy`` or ``loss`` (naming
    Keras 2's ``acc`` if that is what it found), or its curves differ in length.
    """
    record = getattr(history, "history", history)
    if not isinstance(record, Mapping):
        raise ValueError(f"history: expected a dict or keras History, got {type(record).__name__}")
    for metric in CURVE_METRICS:
        if metric not in record:
            hint = (
                "; Keras 2 called it 'acc', Keras 3 calls it 'accuracy': compile with "
                "metrics=['accuracy']"
                if "acc" in record
                else ""
            )
            raise ValueError(f"history: no {metric!r} key, found {sorted(record)}{hint}")
    lengths = {len(record[k]) for k in record if k.removeprefix("val_") in CURVE_METRICS}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(f"history: metrics must have the same, non-zero length, got {lengths}")
    return dict(record)


def style_epoch_axes(ax: Any, epochs: np.ndarray) -> None:
    """Give a per-epoch plot its epoch ticks (every one up to 20), a light grid and a legend."""
    ax.set_xticks(epochs if len(epochs) <= 20 else epochs[:: -(-len(epochs) // 10)])
    ax.grid(alpha=0.3)
    ax.legend()


# >>> notebooks/06_visualization.ipynb (generated: python -m helpers.maintainer.lessons)
def training_curves(history: dict[str, list[float]], monitor: str = "val_loss") -> Figure:
    """Return accuracy and loss per epoch, training vs validation, best epoch marked.

    ``history`` is ``model.fit(...).history`` or the ``History`` itself: ``accuracy``,
    ``loss`` and optionally ``val_accuracy``, ``val_loss``. The best epoch by ``monitor``
    (lowest loss, highest accuracy; a NaN epoch never counts) gets a dashed line when
    ``monitor`` is in the history. Raises ``ValueError`` as ``check_history`` does.
    """
    record = check_history(history)
    epochs = np.arange(1, len(record["loss"]) + 1)
    best = None
    if monitor in record:
        lower_is_better = "loss" in monitor
        values = np.asarray(record[monitor], dtype=float)
        values = np.where(np.isnan(values), np.inf if lower_is_better else -np.inf, values)
        best = int(values.argmin() if lower_is_better else values.argmax()) + 1

    fig = NotebookFigure(figsize=(10, 3.6), layout="constrained")
    y_labels = {"accuracy": "accuracy (fraction correct)", "loss": "cross-entropy loss"}
    for ax, (metric, y_label) in zip(fig.subplots(1, 2), y_labels.items(), strict=True):
        ax.plot(epochs, record[metric], "o-", label="training")
        if f"val_{metric}" in record:
            ax.plot(epochs, record[f"val_{metric}"], "s-", label="validation")
        if best is not None:
            ax.axvline(best, color="gray", linestyle="--", label=f"best {monitor} (epoch {best})")
        ax.set(title=metric.capitalize(), xlabel="epoch", ylabel=y_label)
        style_epoch_axes(ax, epochs)
    return fig


# <<< notebooks/06_visualization.ipynb


# ------------------------------------------------------------------------ inside a CNN


def conv_filters(weights: Any, ncols: int = 8) -> Figure:
    """Return the kernels of a first convolution layer, one small image per filter.

    ``weights`` is the kernel of shape (height, width, 1, filters), as in
    ``layer.get_weights()[0]``, or the ``[kernel, bias]`` list itself. Red is a positive
    weight, blue a negative one, on one colour scale for all filters. Raises
    ``ValueError`` if the kernel is not 4-D or has more than one input channel.
    """
    if isinstance(weights, list | tuple):
        if not weights:
            raise ValueError("weights: got an empty list; pass layer.get_weights()")
        weights = weights[0]
    kernel = np.asarray(weights, dtype=float)
    if kernel.ndim != 4:
        raise ValueError(
            f"weights: expected a kernel of shape (height, width, 1, filters), got {kernel.shape}"
        )
    if kernel.shape[2] != 1:
        raise ValueError(
            f"weights: expected 1 input channel (a first layer on grayscale images), got "
            f"{kernel.shape[2]} in shape {kernel.shape}; pass the first Conv2D's kernel"
        )
    n_filters = kernel.shape[3]
    limit = float(np.abs(kernel).max()) or 1.0
    fig, axes = _grid(
        n_filters,
        ncols,
        size=1.0,
        title=f"{n_filters} learned {kernel.shape[0]}x{kernel.shape[1]} filters",
    )
    for i, ax in enumerate(axes):
        ax.imshow(kernel[:, :, 0, i], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(str(i), fontsize=8)
        _hide_ticks(ax)
    return fig


def feature_maps(
    activations: Any, max_maps: int = 16, ncols: int = 8, title: str = "Feature maps"
) -> Figure:
    """Return the first ``max_maps`` channels of one image's activations, one panel each.

    ``activations`` has shape (height, width, channels) or (1, height, width, channels),
    e.g. the output of ``keras.Model(model.inputs, layer.output)`` for one digit. Each
    panel has its own colour scale (brighter = stronger response). Raises ``ValueError``
    for a batch of more than one image, other shapes, or ``max_maps < 1``.
    """
    maps = np.asarray(activations, dtype=float)
    if maps.ndim == 4:
        if maps.shape[0] != 1:
            raise ValueError(
                f"activations: expected one image, got a batch of {maps.shape[0]} in shape "
                f"{maps.shape}; pass activations[:1]"
            )
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(
            f"activations: expected shape (height, width, channels), got {maps.shape}; "
            "take the output of a Conv2D or pooling layer, not a Dense one"
        )
    if max_maps < 1:
        raise ValueError(f"max_maps must be at least 1, got {max_maps}")
    n = min(max_maps, maps.shape[-1])
    shown = f"{n} of {maps.shape[-1]}" if n < maps.shape[-1] else f"{n}"
    fig, axes = _grid(
        n, ncols, size=1.1, title=f"{title} ({shown} channels, {maps.shape[0]}x{maps.shape[1]})"
    )
    for i, ax in enumerate(axes):
        ax.imshow(maps[:, :, i], cmap="viridis")
        ax.set_title(str(i), fontsize=8)
        _hide_ticks(ax)
    return fig


def model_diagram(model: Any) -> Figure:
    """Return a block diagram of a Keras model: one box per layer, input at the top.

    Each box shows the layer's name and type, its output shape and its parameter count.
    Works for any built model with ``inputs`` and ``layers`` (no pydot or graphviz
    needed). Raises ``ValueError`` if the model has not been built.
    """
    try:
        input_shape = tuple(model.inputs[0].shape)
        rows = [("input", "Input", input_shape, 0)]
        rows += [
            (layer.name, type(layer).__name__, tuple(layer.output.shape), layer.count_params())
            for layer in model.layers
            if type(layer).__name__ != "InputLayer"  # functional models list their input
        ]
    except (AttributeError, IndexError, TypeError, ValueError) as exc:
        raise ValueError(
            "model: it has no known input shape; start it with keras.Input(shape=...) "
            f"or call it on data first ({exc})"
        ) from exc
    colours = {
        "Input": "#dddddd",
        "Conv2D": "#8dd3c7",
        "MaxPooling2D": "#ffffb3",
        "Dropout": "#eeeeee",
        "Flatten": "#bebada",
        "Dense": "#fb8072",
    }
    fig = NotebookFigure(figsize=(6, 0.75 * len(rows) + 0.6), layout="constrained")
    ax = fig.subplots()
    ax.set_xlim(0, 1)
    ax.set_ylim(-len(rows) + 0.4, 0.6)
    ax.set_axis_off()
    for i, (name, kind, shape, params) in enumerate(rows):
        y = -i
        shape_text = "(batch, " + ", ".join(str(d) for d in shape[1:]) + ")"
        ax.text(
            0.5,
            y,
            f"{name}: {kind}\noutput {shape_text}   params {params:,}",
            ha="center",
            va="center",
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": colours.get(kind, "#cce5ff")},
        )
        if i:
            ax.annotate(
                "", xy=(0.5, y + 0.3), xytext=(0.5, y + 0.7), arrowprops={"arrowstyle": "->"}
            )
    total = sum(row[3] for row in rows)
    ax.set_title(f"{getattr(model, 'name', 'model')}: {total:,} parameters")
    return fig
