"""Tests for helpers.evaluation: tables, figures and model loading, on tiny made-up data."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import json

import keras
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from helpers import evaluation
from helpers.maintainer import runner

# Ten examples: three mistakes (4 -> 9 twice, 7 -> 1 once).
Y_TRUE = np.array([0, 1, 2, 4, 4, 4, 7, 7, 9, 9])
Y_PRED = np.array([0, 1, 2, 4, 9, 9, 1, 7, 9, 9])


def one_hot_probs(y_pred: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """Return (n, 10) probabilities putting ``confidence`` on ``y_pred``, the rest spread."""
    n = len(y_pred)
    probs = np.tile(((1 - confidence) / 9)[:, None], (1, 10))
    probs[np.arange(n), y_pred] = confidence
    return probs


# ------------------------------------------------------------------ check_labels


def test_check_labels_returns_int_arrays():
    y_true, y_pred = evaluation.check_labels([1, 2], np.array([1, 3], dtype=np.uint8))
    assert y_true.dtype == np.int64 and y_pred.dtype == np.int64
    assert y_pred.tolist() == [1, 3]


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([1, 2, 3], [1, 2], "y_true has 3 labels but y_pred has 2"),
        (np.eye(10)[[1, 2]], [1, 2], "1-D"),
        ([1, 2], np.array([0.5, 1.0]), "integer labels"),
        ([1, 10], [1, 2], "0..9"),
        ([-1, 2], [1, 2], "0..9"),
        ([], [], "empty"),
    ],
)
def test_check_labels_rejects_bad_input(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        evaluation.check_labels(y_true, y_pred)


def test_check_probs_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"\(3, 10\).*got \(3, 9\)"):
        evaluation.check_probs(np.zeros((3, 9)), 3)
    with pytest.raises(ValueError, match=r"\(4, 10\)"):
        evaluation.check_probs(np.zeros((3, 10)), 4)


# ---------------------------------------------------------------- confusion_matrix


def test_confusion_matrix_counts_each_true_predicted_pair():
    matrix = evaluation.confusion_matrix(Y_TRUE, Y_PRED)
    assert matrix.shape == (10, 10)
    assert matrix.dtype == np.int64
    assert matrix[4, 9] == 2 and matrix[4, 4] == 1 and matrix[7, 1] == 1
    assert np.trace(matrix) == 7 and matrix.sum() == len(Y_TRUE)


def test_confusion_matrix_and_report_agree_with_scikit_learn():
    from sklearn import metrics

    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 10, 500)
    y_pred = np.where(rng.random(500) < 0.7, y_true, rng.integers(0, 9, 500))  # 9: never
    np.testing.assert_array_equal(
        evaluation.confusion_matrix(y_true, y_pred),
        metrics.confusion_matrix(y_true, y_pred, labels=range(10)),
    )
    report = evaluation.per_class_report(y_true, y_pred)
    expected = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=range(10), zero_division=0
    )
    for column, values in zip(report.columns, expected, strict=True):
        np.testing.assert_allclose(report[column], values, err_msg=column)


def test_confusion_matrix_rejects_probabilities():
    with pytest.raises(ValueError, match="argmax"):
        evaluation.confusion_matrix(Y_TRUE, one_hot_probs(Y_PRED, np.full(10, 0.9)))


# --------------------------------------------------------- confusion_matrix_figure


def test_confusion_matrix_figure_shows_the_counts():
    fig = evaluation.confusion_matrix_figure(Y_TRUE, Y_PRED)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 100  # one annotation per cell
    # Cells are annotated row by row: row 4 (true 4), column 9 holds the two 4 -> 9 mistakes.
    assert texts[4 * 10 + 9] == "2"
    assert texts[4 * 10 + 4] == "1"
    assert texts[7 * 10 + 1] == "1"
    assert sum(int(t) for t in texts) == len(Y_TRUE)
    assert ax.get_xlabel() == "predicted digit"
    assert ax.get_ylabel() == "true digit"


def test_figures_render_as_png_for_jupyter():
    probs = one_hot_probs(Y_PRED, np.full(10, 0.9))
    figures = [
        evaluation.confusion_matrix_figure(Y_TRUE, Y_PRED),
        evaluation.misclassified_gallery(np.zeros((10, 28, 28)), Y_TRUE, probs),
        evaluation.misclassified_gallery(np.zeros((10, 28, 28)), Y_TRUE, np.eye(10)[Y_TRUE]),
    ]
    for fig in figures:
        assert fig._repr_png_().startswith(b"\x89PNG\r\n\x1a\n")


def test_confusion_matrix_figure_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="y_true has 10 labels but y_pred has 9"):
        evaluation.confusion_matrix_figure(Y_TRUE, Y_PRED[:9])


# --------------------------------------------------------------- per_class_report


def test_per_class_report_matches_hand_counts():
    report = evaluation.per_class_report(Y_TRUE, Y_PRED)
    assert isinstance(report, pd.DataFrame)
    assert list(report.columns) == ["precision", "recall", "f1", "support"]
    assert list(report.index) == list(range(10))
    assert report.index.name == "digit"
    # Digit 4: three examples, one found (recall 1/3); predicted once, correctly (precision 1).
    assert report.loc[4, "support"] == 3
    assert report.loc[4, "recall"] == pytest.approx(1 / 3)
    assert report.loc[4, "precision"] == pytest.approx(1.0)
    assert report.loc[4, "f1"] == pytest.approx(0.5)
    # Digit 9: predicted four times, two right.
    assert report.loc[9, "precision"] == pytest.approx(0.5)
    assert report.loc[9, "recall"] == pytest.approx(1.0)
    # Digit 3 never occurs and is never predicted: zeros, not NaN or a warning.
    assert report.loc[3].tolist() == [0.0, 0.0, 0.0, 0]
    assert report["support"].sum() == len(Y_TRUE)


def test_per_class_report_rejects_probabilities():
    with pytest.raises(ValueError, match="argmax"):
        evaluation.per_class_report(Y_TRUE, one_hot_probs(Y_PRED, np.full(10, 0.9)))


# ------------------------------------------------------------ most_confused_pairs


def test_most_confused_pairs_sorted_by_count():
    pairs = evaluation.most_confused_pairs(Y_TRUE, Y_PRED, k=5)
    assert list(pairs.columns) == ["true", "predicted", "count"]
    assert pairs.values.tolist() == [[4, 9, 2], [7, 1, 1]]  # only pairs that occur


def test_most_confused_pairs_breaks_ties_by_digit_and_honours_k():
    y_true = np.array([5, 3, 8, 2])
    y_pred = np.array([3, 5, 0, 7])
    pairs = evaluation.most_confused_pairs(y_true, y_pred, k=3)
    assert pairs.values.tolist() == [[2, 7, 1], [3, 5, 1], [5, 3, 1]]


def test_most_confused_pairs_without_mistakes_is_empty():
    pairs = evaluation.most_confused_pairs(Y_TRUE, Y_TRUE)
    assert pairs.empty
    assert list(pairs.columns) == ["true", "predicted", "count"]


def test_most_confused_pairs_rejects_bad_k():
    with pytest.raises(ValueError, match="k must be at least 1"):
        evaluation.most_confused_pairs(Y_TRUE, Y_PRED, k=0)


# ------------------------------------------------------ misclassified_gallery


def test_misclassified_indices_most_confident_first():
    confidence = np.array([0.9, 0.9, 0.9, 0.9, 0.6, 0.97, 0.8, 0.9, 0.9, 0.9])
    order = evaluation.misclassified_indices(Y_TRUE, one_hot_probs(Y_PRED, confidence))
    assert order.tolist() == [5, 6, 4]


def test_misclassified_gallery_titles_sorted_by_confidence():
    confidence = np.array([0.9, 0.9, 0.9, 0.9, 0.6, 0.97, 0.8, 0.9, 0.9, 0.9])
    images = np.random.default_rng(0).random((10, 28, 28, 1))
    fig = evaluation.misclassified_gallery(images, Y_TRUE, one_hot_probs(Y_PRED, confidence))
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["true 4 → pred 9 (97%)", "true 7 → pred 1 (80%)", "true 4 → pred 9 (60%)"]
    assert fig.get_suptitle() == "3 of 10 images misclassified: the 3 most confident mistakes"
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    np.testing.assert_array_equal(shown[0], images[5, ..., 0])


def test_misclassified_gallery_shows_at_most_n():
    probs = one_hot_probs(Y_PRED, np.full(10, 0.9))
    fig = evaluation.misclassified_gallery(np.zeros((10, 28, 28)), Y_TRUE, probs, n=2, columns=8)
    assert sum(1 for ax in fig.axes if ax.images) == 2
    assert fig.get_suptitle().startswith("3 of 10 images misclassified: the 2 most")


def test_misclassified_gallery_without_mistakes_says_so():
    probs = one_hot_probs(Y_TRUE, np.full(10, 0.9))
    fig = evaluation.misclassified_gallery(np.zeros((10, 28, 28)), Y_TRUE, probs)
    assert "no misclassified images" in [t.get_text() for t in fig.axes[0].texts]


@pytest.mark.parametrize(
    ("images", "probs", "message"),
    [
        (np.zeros((9, 28, 28)), np.zeros((10, 10)), "images has 9 examples but y_true has 10"),
        (np.zeros((10, 28, 28)), np.zeros((10, 9)), r"probs must have shape \(10, 10\)"),
        (np.zeros((10, 28, 28)), np.zeros(10), r"got \(10,\)"),
        (np.zeros((10, 784)), np.zeros((10, 10)), "images must have shape"),
    ],
)
def test_misclassified_gallery_rejects_bad_input(images, probs, message):
    with pytest.raises(ValueError, match=message):
        evaluation.misclassified_gallery(images, Y_TRUE, probs)


def test_misclassified_gallery_rejects_bad_n():
    with pytest.raises(ValueError, match="n and columns must be at least 1"):
        evaluation.misclassified_gallery(np.zeros((10, 28, 28)), Y_TRUE, np.zeros((10, 10)), n=0)


# ------------------------------------------------------------ load_model_or_none


def test_load_model_or_none_missing_file(tmp_path):
    assert evaluation.load_model_or_none(tmp_path / "article_cnn.keras") is None


# Keras' own TensorFlow-to-NumPy conversion warns under NumPy 2; not our code.
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
def test_load_model_or_none_loads_a_saved_model(tmp_path):
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, name="out")])
    path = tmp_path / "tiny.keras"
    model.save(path)
    loaded = evaluation.load_model_or_none(path)
    assert isinstance(loaded, keras.Model)
    assert [layer.name for layer in loaded.layers] == ["out"]
    for saved, restored in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, restored)


@pytest.mark.parametrize("name", ["article_cnn.keras", "article_cnn.h5", "article_cnn.json"])
def test_load_model_or_none_names_file_and_fix_for_junk(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"this is not a model")
    with pytest.raises(evaluation.ModelFileError) as info:
        evaluation.load_model_or_none(path)
    message = str(info.value)
    assert str(path) in message
    assert "04_training" in message
    assert isinstance(info.value, ValueError)


# --------------------------------------------------------------- save_evaluation


def test_save_evaluation_writes_what_the_runner_reads(tmp_path):
    path = evaluation.save_evaluation(
        tmp_path / runner.EVALUATION_FILE, np.float32(0.9871), 10_000, "short model trained here"
    )
    assert json.loads(path.read_text()) == {
        "test_accuracy": pytest.approx(0.9871),
        "n_test": 10000,
        "model": "short model trained here",
    }
    assert runner.read_test_accuracy(tmp_path) == pytest.approx(0.9871)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


@pytest.mark.parametrize(
    ("accuracy", "n_test", "message"),
    [
        (98.71, 10_000, "fraction in \\[0, 1\\], got 98.71"),
        (float("nan"), 10_000, "fraction"),
        (0.98, 0, "n_test must be at least 1"),
    ],
)
def test_save_evaluation_rejects_bad_values(tmp_path, accuracy, n_test, message):
    with pytest.raises(ValueError, match=message):
        evaluation.save_evaluation(tmp_path / "e.json", accuracy, n_test, "m")
    assert not (tmp_path / "e.json").exists()
