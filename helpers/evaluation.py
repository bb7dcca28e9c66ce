"""Evaluation taught in notebook 05 (and reused in 14): confusion matrix, scores, mistakes.

``confusion_matrix``, ``confusion_matrix_figure`` and ``per_class_report`` are generated
from notebook 05's ``# @save`` cells; the label checks, the gallery of mistakes and the
safe loading and saving are plumbing that 05 calls.

Every function takes plain NumPy arrays: integer labels ``y_true`` and ``y_pred`` of
shape (n,), the softmax output ``probs`` of shape (n, 10), and images of shape
(n, 28, 28) or (n, 28, 28, 1). Like ``helpers.plots``, figure functions return a
``matplotlib.figure.Figure`` (a ``plots.NotebookFigure``) that is not registered with
``pyplot``: a notebook shows it by making it the last expression of a cell, and it never
appears twice or piles up.
"""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from helpers import saving
from helpers.plots import NotebookFigure

NUM_CLASSES = 10
EVALUATION_KEYS = ("test_accuracy", "n_test", "model")


ModelFileError = saving.ModelFileError


def check_labels(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = NUM_CLASSES
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``y_true`` and ``y_pred`` as 1-D integer arrays after checking them.

    Raises ``ValueError`` naming the problem if either is not 1-D, they differ in length,
    they are empty, or a label is outside ``0..num_classes-1`` (e.g. one-hot labels or
    probabilities passed by mistake).
    """
    arrays = []
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        labels = np.asarray(labels)
        if labels.ndim != 1:
            raise ValueError(
                f"{name} must be a 1-D array of integer labels, got shape {labels.shape}; "
                "for one-hot labels or probabilities use .argmax(axis=1)"
            )
        if labels.size and not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"{name} must hold integer labels, got dtype {labels.dtype}")
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f"{name} must hold labels 0..{num_classes - 1}, "
                f"got values from {labels.min()} to {labels.max()}"
            )
        arrays.append(labels.astype(np.int64))
    y_true, y_pred = arrays
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    if len(y_true) == 0:
        raise ValueError("y_true and y_pred are empty")
    return y_true, y_pred


def check_probs(probs: np.ndarray, n: int, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Return ``probs`` as a float array after checking it has shape (n, num_classes).

    Raises ``ValueError`` naming the expected and actual shapes otherwise.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.shape != (n, num_classes):
        raise ValueError(
            f"probs must have shape ({n}, {num_classes}): one row of class probabilities "
            f"per example, as model.predict returns; got {probs.shape}"
        )
    return probs


# >>> notebooks/05_evaluation.ipynb (generated: python -m helpers.maintainer.lessons)
def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = NUM_CLASSES
) -> np.ndarray:
    """Return the (num_classes, num_classes) count matrix: row = true, column = predicted.

    Raises ``ValueError`` as ``check_labels`` does.
    """
    y_true, y_pred = check_labels(y_true, y_pred, num_classes)
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)  # one count per image, repeats included
    return matrix


def confusion_matrix_figure(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = NUM_CLASSES
) -> Figure:
    """Return a heatmap of the confusion matrix: rows are true digits, columns predictions.

    Raises ``ValueError`` as ``check_labels`` does.
    """
    matrix = confusion_matrix(y_true, y_pred, num_classes)
    fig = NotebookFigure(figsize=(7, 6), layout="constrained")
    ax = fig.subplots()
    sns.heatmap(matrix, annot=True, fmt="d", cmap="Blues", cbar=False, square=True, ax=ax)
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(f"Confusion matrix ({matrix.sum():,} examples)")
    return fig


def per_class_report(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = NUM_CLASSES
) -> pd.DataFrame:
    """Return precision, recall, F1 and support for each digit, one row per digit.

    Computed from the confusion matrix; a ratio whose denominator is 0 is reported as 0.
    Raises ``ValueError`` as ``check_labels`` does.
    """

    def ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
        return np.divide(top, bottom, out=np.zeros(len(top)), where=bottom > 0)

    matrix = confusion_matrix(y_true, y_pred, num_classes)
    correct = np.diag(matrix)
    support = matrix.sum(axis=1)  # row sums: images that are the digit
    precision = ratio(correct, matrix.sum(axis=0))  # column sums: images called the digit
    recall = ratio(correct, support)
    f1 = ratio(2 * precision * recall, precision + recall)
    return pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.RangeIndex(num_classes, name="digit"),
    )


# <<< notebooks/05_evaluation.ipynb


def most_confused_pairs(
    y_true: np.ndarray, y_pred: np.ndarray, k: int = 5, num_classes: int = NUM_CLASSES
) -> pd.DataFrame:
    """Return the ``k`` most frequent mistakes as a table with columns true, predicted, count.

    Sorted by count (largest first), ties by true then predicted digit; only pairs that
    occur at least once are listed, so the table can be shorter than ``k``. Raises
    ``ValueError`` if ``k`` < 1 or as ``check_labels`` does.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    matrix = confusion_matrix(y_true, y_pred, num_classes)
    rows = [
        (true, predicted, int(matrix[true, predicted]))
        for true in range(num_classes)
        for predicted in range(num_classes)
        if true != predicted and matrix[true, predicted] > 0
    ]
    rows.sort(key=lambda row: (-row[2], row[0], row[1]))
    return pd.DataFrame(rows[:k], columns=["true", "predicted", "count"])


def misclassified_indices(y_true: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Return the indices of wrong predictions, the most confident mistake first.

    The confidence is the probability the model gave to the class it predicted.
    Raises ``ValueError`` if ``probs`` is not (len(y_true), 10) or as ``check_labels`` does.
    """
    y_true = np.asarray(y_true)
    probs = check_probs(probs, len(y_true))
    y_true, y_pred = check_labels(y_true, probs.argmax(axis=1))
    wrong = np.flatnonzero(y_pred != y_true)
    confidence = probs[wrong, y_pred[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")]


def misclassified_gallery(
    images: np.ndarray, y_true: np.ndarray, probs: np.ndarray, n: int = 16, columns: int = 8
) -> Figure:
    """Return a grid of up to ``n`` wrongly classified images, the most confident first.

    Each title reads ``true 4 → pred 9 (97%)``: the label, the prediction and the
    probability the model gave it; the figure's title counts the mistakes. With no
    mistakes the figure says so. Raises ``ValueError`` if the lengths differ, ``probs`` is
    not (n, 10), the images are not one grayscale image per label, or ``n`` or
    ``columns`` < 1.
    """
    if n < 1 or columns < 1:
        raise ValueError(f"n and columns must be at least 1, got n={n}, columns={columns}")
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(
            f"images must have shape (n, 28, 28) or (n, 28, 28, 1), got {images.shape}"
        )
    if len(images) != len(y_true):
        raise ValueError(f"images has {len(images)} examples but y_true has {len(y_true)}")
    wrong = misclassified_indices(y_true, probs)
    order = wrong[:n]
    probs = np.asarray(probs)
    y_true = np.asarray(y_true)
    if len(order) == 0:
        fig = NotebookFigure(figsize=(4, 1))
        ax = fig.subplots()
        ax.axis("off")
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
        return fig
    columns = min(columns, len(order))
    rows = -(-len(order) // columns)  # ceiling division
    fig = NotebookFigure(figsize=(1.5 * columns, 1.8 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, index in zip(axes.flat, order, strict=False):
        predicted = int(probs[index].argmax())
        ax.imshow(images[index], cmap="gray_r")
        ax.set_title(
            f"true {int(y_true[index])} → pred {predicted} ({probs[index, predicted]:.0%})",
            fontsize=8,
        )
    fig.suptitle(
        f"{len(wrong):,} of {len(y_true):,} images misclassified: "
        f"the {len(order)} most confident mistakes"
    )
    return fig


def load_model_or_none(path: Path) -> keras.Model | None:
    """Load the Keras model saved at ``path`` with ``safe_mode=True``; None if it is missing.

    Raises ``ModelFileError`` (a ``ValueError``) naming the file and the fix if the file
    exists but is not a loadable ``.keras`` model (truncated, another format, unsafe, ...).
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        return saving.load_keras_model(path)
    except ModelFileError as exc:
        raise ModelFileError(
            f"{exc}. Fix: delete it and run notebooks/04_training.ipynb again to retrain it."
        ) from exc


def save_evaluation(path: Path, test_accuracy: float, n_test: int, model: str) -> Path:
    """Write the evaluation summary that the course runner reads, atomically; return the path.

    The file holds ``{"test_accuracy": float, "n_test": int, "model": str}`` as JSON.
    Raises ``ValueError`` if ``test_accuracy`` is not a number in [0, 1] or ``n_test`` < 1.
    """
    test_accuracy = float(test_accuracy)
    if not (math.isfinite(test_accuracy) and 0.0 <= test_accuracy <= 1.0):
        raise ValueError(f"test_accuracy must be a fraction in [0, 1], got {test_accuracy}")
    if int(n_test) < 1:
        raise ValueError(f"n_test must be at least 1, got {n_test}")
    record = dict(zip(EVALUATION_KEYS, (test_accuracy, int(n_test), str(model)), strict=True))
    return saving.write_json_atomically(record, path)
