"""Tests for helpers.plots: each figure has the expected axes and titles; bad input raises."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers import plots


@pytest.fixture
def digits() -> tuple[np.ndarray, np.ndarray]:
    """Return 50 random uint8 'digits' (5 per class) and their labels."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    labels = np.repeat(np.arange(10), 5)
    return images, labels


def image_axes(fig: Figure) -> list:
    """Return the axes that show an image."""
    return [ax for ax in fig.axes if ax.images]


def render(fig: Figure) -> None:
    """Draw the figure, so layout or drawing errors surface in the test."""
    fig.canvas.draw()


# ------------------------------------------------------------------ input checks


@pytest.mark.parametrize(
    "shape, message",
    [
        ((5, 28, 28, 3), "3 channels"),
        ((5, 32, 32), r"\(n, 28, 28\)"),
        ((28, 28), "one image"),
        ((5, 784), r"got \(5, 784\)"),
        ((0, 28, 28), "0 images"),
    ],
)
def test_bad_image_shapes_raise(shape, message):
    images = np.zeros(shape, dtype=np.uint8)
    with pytest.raises(ValueError, match=message):
        plots.pixel_histogram(images)


def test_float_images_outside_unit_range_raise():
    images = np.full((2, 28, 28), 255.0, dtype=np.float32)
    with pytest.raises(ValueError, match="divide by 255"):
        plots.pixel_histogram(images)


def test_integer_images_other_than_uint8_raise():
    with pytest.raises(ValueError, match="int64"):
        plots.pixel_histogram(np.zeros((2, 28, 28), dtype=np.int64))


def test_one_hot_labels_raise_with_the_fix(digits):
    images, labels = digits
    one_hot = np.eye(10)[labels]
    with pytest.raises(ValueError, match="argmax"):
        plots.sample_grid(images, one_hot)


def test_mismatched_lengths_raise(digits):
    images, labels = digits
    with pytest.raises(ValueError, match="49 labels for 50 images"):
        plots.mean_images(images, labels[:-1])


# -------------------------------------------------------------------- sample_grid


@pytest.mark.parametrize("channel_axis", [False, True])
def test_sample_grid_has_one_row_per_class(digits, channel_axis):
    images, labels = digits
    if channel_axis:
        images = (images / 255.0).astype(np.float32)[..., None]
    fig = plots.sample_grid(images, labels, per_class=4)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 10 * 4
    assert len(image_axes(fig)) == 40
    assert [ax.get_ylabel() for ax in fig.axes[::4]] == [str(d) for d in range(10)]
    assert "4 examples per class" in fig.get_suptitle()
    render(fig)


def test_sample_grid_picks_the_right_class(digits):
    images, labels = digits
    fig = plots.sample_grid(images, labels, per_class=2, classes=[3], seed=None)
    shown = [ax.images[0].get_array() for ax in image_axes(fig)]
    assert len(shown) == 2
    np.testing.assert_allclose(shown[0], images[15] / 255.0)  # the first 3


def test_sample_grid_leaves_blanks_for_small_classes(digits):
    images, labels = digits
    fig = plots.sample_grid(images, labels, per_class=7)
    assert len(fig.axes) == 70
    assert len(image_axes(fig)) == 50


def test_sample_grid_rejects_zero_per_class(digits):
    with pytest.raises(ValueError, match="per_class"):
        plots.sample_grid(*digits, per_class=0)


# --------------------------------------------------------------------- image_grid


def test_image_grid_shows_each_image_with_its_title(digits):
    images, _ = digits
    fig = plots.image_grid(images[:3], titles=["a", "b", "c"], title="three")
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]
    assert fig.get_suptitle() == "three"
    np.testing.assert_allclose(fig.axes[2].images[0].get_array(), images[2] / 255.0)


def test_image_grid_wraps_rows(digits):
    fig = plots.image_grid(digits[0][:13], ncols=5)
    assert len(fig.axes) == 13
    assert fig.axes[5].get_subplotspec().rowspan.start == 1


def test_image_grid_rejects_mismatched_titles(digits):
    with pytest.raises(ValueError, match="2 titles for 3 images"):
        plots.image_grid(digits[0][:3], titles=["a", "b"])


# ------------------------------------------------------------------ class_balance


def test_class_balance_writes_the_counts():
    labels = np.array([0, 0, 0, 1, 9])
    fig = plots.class_balance(labels)
    (ax,) = fig.axes
    assert ax.get_title() == "Images per class"
    heights = [patch.get_height() for patch in ax.patches]
    assert heights == [3, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    assert [t.get_text() for t in ax.texts][:2] == ["3", "1"]
    render(fig)


def test_class_balance_groups_splits():
    fig = plots.class_balance({"train": [0, 1, 1], "test": [2]}, title="Splits")
    (ax,) = fig.axes
    assert ax.get_title() == "Splits"
    assert len(ax.patches) == 20
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["train", "test"]


@pytest.mark.parametrize("labels", [[0, 10], [-1, 2], {}])
def test_class_balance_rejects_bad_labels(labels):
    with pytest.raises(ValueError, match="labels"):
        plots.class_balance(labels)


# ---------------------------------------------------------------- pixel_histogram


def test_pixel_histogram_counts_every_pixel_on_its_own_scale(digits):
    images, _ = digits
    fig = plots.pixel_histogram(images, log=False)
    (ax,) = fig.axes
    (bars,) = ax.patches
    assert bars.get_data().values.sum() == images.size
    np.testing.assert_array_equal(
        bars.get_data().values, np.histogram(images, bins=64, range=(0, 255))[0]
    )
    assert ax.get_xlim() == (0, 255)
    assert "0..255" in ax.get_xlabel()
    assert ax.get_title() == "Pixel intensities of 50 images"

    scaled = plots.pixel_histogram((images / 255.0)[..., None])
    assert scaled.axes[0].get_xlim() == (0, 1)
    assert scaled.axes[0].get_yscale() == "log"


# ------------------------------------------------------------------- mean_images


def test_mean_images_shows_each_class_average():
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    images[1] = 255  # class 0 images: black and white, mean 0.5
    labels = np.array([0, 0, 1, 1])
    fig = plots.mean_images(images, labels)
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["0 (n=2)", "1 (n=2)"]
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), 0.5)
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), 0.0)
    assert fig.get_suptitle() == "Mean image per class"


def test_mean_images_wraps_after_ten_classes(digits):
    images, labels = digits
    fig = plots.mean_images(images, labels)
    assert len(fig.axes) == 10
    render(fig)


def test_mean_images_rejects_an_absent_class(digits):
    images, labels = digits
    with pytest.raises(ValueError, match="no image has label 7"):
        plots.mean_images(images[:5], labels[:5], classes=[0, 7])


# ---------------------------------------------------------------- training_curves


@pytest.fixture
def history() -> dict[str, list[float]]:
    return {
        "accuracy": [0.80, 0.90, 0.95, 0.97],
        "val_accuracy": [0.85, 0.91, 0.92, 0.91],
        "loss": [0.60, 0.30, 0.15, 0.08],
        "val_loss": [0.50, 0.28, 0.25, 0.31],
    }


def test_training_curves_plot_train_and_validation(history):
    fig = plots.training_curves(history)
    assert [ax.get_title() for ax in fig.axes] == ["Accuracy", "Loss"]
    for ax in fig.axes:
        lines = ax.get_lines()
        assert len(lines) == 3  # training, validation, best-epoch marker
        np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3, 4])
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == ["training", "validation", "best val_loss (epoch 3)"]
    np.testing.assert_array_equal(fig.axes[1].get_lines()[1].get_ydata(), history["val_loss"])
    render(fig)


def test_training_curves_label_every_axis(history):
    for ax in plots.training_curves(history).axes:
        assert ax.get_xlabel() == "epoch"
        assert ax.get_title().lower() in ax.get_ylabel()


def test_training_curves_never_mark_a_nan_epoch_as_best(history):
    history["val_loss"] = [float("nan"), 0.4, 0.2, 0.3]
    marker = plots.training_curves(history).axes[1].get_lines()[-1]
    assert list(marker.get_xdata()) == [3, 3]


def test_training_curves_marks_the_best_accuracy_when_asked(history):
    fig = plots.training_curves(history, monitor="val_accuracy")
    marker = fig.axes[0].get_lines()[-1]
    assert list(marker.get_xdata()) == [3, 3]


def test_training_curves_accept_a_history_object_without_validation(history):
    class FakeHistory:
        history = {"accuracy": [0.5], "loss": [1.0]}

    fig = plots.training_curves(FakeHistory())
    assert len(fig.axes) == 2
    assert len(fig.axes[0].get_lines()) == 1


def test_training_curves_explain_the_old_acc_key():
    with pytest.raises(ValueError, match="Keras 2 called it 'acc'"):
        plots.training_curves({"acc": [0.9], "loss": [0.3]})


def test_training_curves_reject_ragged_histories(history):
    history["val_loss"] = history["val_loss"][:2]
    with pytest.raises(ValueError, match="same"):
        plots.training_curves(history)


def test_training_curves_reject_non_dicts():
    with pytest.raises(ValueError, match="list"):
        plots.training_curves([0.1, 0.2])


# ------------------------------------------------------------------ conv_filters


def test_conv_filters_one_panel_per_filter():
    kernel = np.random.default_rng(0).normal(size=(3, 3, 1, 32)).astype(np.float32)
    fig = plots.conv_filters([kernel, np.zeros(32)])
    assert len(fig.axes) == 32
    assert [ax.get_title() for ax in fig.axes][:3] == ["0", "1", "2"]
    assert fig.get_suptitle() == "32 learned 3x3 filters"
    first = fig.axes[0].images[0]
    np.testing.assert_allclose(first.get_array(), kernel[:, :, 0, 0])
    assert first.get_clim() == pytest.approx((-np.abs(kernel).max(), np.abs(kernel).max()))
    render(fig)


def test_conv_filters_removes_unused_grid_cells():
    fig = plots.conv_filters(np.ones((3, 3, 1, 10)), ncols=8)
    assert len(fig.axes) == 10


@pytest.mark.parametrize(
    "shape, message", [((3, 3, 32, 64), "1 input channel"), ((3, 3, 32), "shape")]
)
def test_conv_filters_reject_other_kernels(shape, message):
    with pytest.raises(ValueError, match=message):
        plots.conv_filters(np.zeros(shape))


# ------------------------------------------------------------------ feature_maps


def test_feature_maps_shows_up_to_max_maps():
    activations = np.random.default_rng(0).random((1, 26, 26, 32))
    fig = plots.feature_maps(activations, max_maps=12, title="conv")
    assert len(fig.axes) == 12
    assert fig.get_suptitle() == "conv (12 of 32 channels, 26x26)"
    np.testing.assert_allclose(fig.axes[5].images[0].get_array(), activations[0, :, :, 5])
    render(fig)


def test_feature_maps_accepts_one_unbatched_image():
    fig = plots.feature_maps(np.ones((13, 13, 4)))
    assert len(fig.axes) == 4
    assert "(4 channels, 13x13)" in fig.get_suptitle()


@pytest.mark.parametrize(
    "shape, message",
    [((2, 26, 26, 32), "batch of 2"), ((1, 128), "not a Dense"), ((26, 26), "channels")],
)
def test_feature_maps_reject_bad_shapes(shape, message):
    with pytest.raises(ValueError, match=message):
        plots.feature_maps(np.zeros(shape))


def test_feature_maps_reject_zero_max_maps():
    with pytest.raises(ValueError, match="max_maps"):
        plots.feature_maps(np.zeros((4, 4, 2)), max_maps=0)


# ----------------------------------------------------------------- model_diagram


def test_model_diagram_has_a_box_per_layer():
    from helpers import models

    model = models.build_article_cnn()
    fig = plots.model_diagram(model)
    (ax,) = fig.axes
    boxes = [t.get_text() for t in ax.texts if t.get_text()]  # arrows are empty texts
    assert len(boxes) == 1 + len(model.layers)
    assert boxes[0].startswith("input: Input")
    assert "output (batch, 26, 26, 32)   params 320" in boxes[1]
    assert "params 692,352" in boxes[5]
    assert ax.get_title() == "article_cnn: 693,962 parameters"
    render(fig)


def test_model_diagram_rejects_an_unbuilt_model():
    class Unbuilt:
        inputs: list = []
        layers: list = []

    with pytest.raises(ValueError, match="keras.Input"):
        plots.model_diagram(Unbuilt())


# ---------------------------------------------------------------------- display


def test_figures_display_themselves_as_png(digits):
    fig = plots.mean_images(*digits)
    assert isinstance(fig, plots.NotebookFigure)
    assert fig._repr_png_().startswith(b"\x89PNG\r\n\x1a\n")
