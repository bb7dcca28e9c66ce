# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Evaluate the model
#
# Measure the trained CNN on all 10,000 test images, then look past the single accuracy
# number: which digits it confuses, and what its mistakes look like.
#
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mnist-cnn-course/mnist-cnn-course/main?urlpath=lab/tree/notebooks/05_evaluation.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-cnn-course/mnist-cnn-course/blob/main/notebooks/05_evaluation.ipynb)
#
# [Previous: 04 · Train the CNN](04_training.ipynb) · [Next: 06 · Look inside the training and the model](06_visualization.ipynb)

# %% [markdown]
# ## What you will learn
#
# - how to load a saved `.keras` model safely, and what to do when it is missing;
# - how to measure test accuracy on *every* test image, and why the article's
#   `evaluate_generator` call skipped some;
# - how to count a confusion matrix and compute per-digit precision, recall and F1 from it,
#   checked against scikit-learn;
# - how to find the model's most confident mistakes and the digits it confuses most.
#
# ## Before you start
#
# Run notebook 04 first: it trains the model and saves it as `models/article_cnn.keras`.
# If that file is missing, this notebook trains a short model itself (2 epochs on 6,000
# images, much quicker than notebook 04's training) and says so; expect a lower accuracy
# than 04's model then. This notebook writes `models/article_cnn_evaluation.json` with the test accuracy, which
# `make course` prints in its summary. It trains nothing when the model is there; the
# README's results table has its latest measured time.

# %% [markdown]
# ## Setup

# %% [markdown]
# *Only on Colab*: the next cell fetches the course (its `helpers` package and pins) and
# installs what Colab lacks. Anywhere else it does nothing at all.

# %% cellView="form" jupyter={"source_hidden": true}
# @title Only on Colab: fetch the course, install what Colab lacks (elsewhere: nothing)
import sys

if "google.colab" in sys.modules:  # on Colab only: fetch the course, then set it up
    import os
    import subprocess

    course_dir = "/content/mnist-cnn-course"
    if not os.path.isdir(course_dir):
        url = "https://github.com/mnist-cnn-course/mnist-cnn-course"
        subprocess.run(["git", "clone", "--depth", "1", url, course_dir], check=True)
    sys.path.insert(0, course_dir)
    from helpers import colab

    colab.setup(course_dir)

# %% cellView="form" jupyter={"source_hidden": true}
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ start-up log

import keras
import numpy as np
import pandas as pd
import seaborn as sns
import tensorflow as tf
from IPython.display import Markdown, display
from matplotlib.figure import Figure
from sklearn import metrics

from helpers import config, data, evaluation, models, plots
from helpers.evaluation import NUM_CLASSES, check_labels
from helpers.plots import NotebookFigure

config.set_seed()
FAST = config.fast_mode()
print(config.describe_mode())
print("TensorFlow", tf.__version__, "| Keras", keras.__version__)

# %% [markdown]
# ## Load the data
#
# The test set is always all 10,000 images, in both modes. The training and validation
# images are only needed if we have to train a short model below, so we keep 6,000 of them.
# Batches of 128 images, as in notebook 04, for training, evaluating and predicting.

# %%
n_train = 6_000
batch_size = 128
(x_train, y_train), (x_val, y_val), (x_test, y_test) = data.prepare_mnist(n_train=n_train)

# %%
# NBVAL_CHECK_OUTPUT
print("test images:", x_test.shape, x_test.dtype)
print("test images per digit:", np.bincount(y_test, minlength=10).tolist())

# %% [markdown]
# ## Load the trained model
#
# `keras.saving.load_model(path, safe_mode=True)` rebuilds the model from its `.keras`
# file and refuses to run code stored in it (a `Lambda` layer, for example), so a model file
# from someone else cannot execute anything when you load it. `evaluation.load_model_or_none`
# wraps it: it returns `None` when the file does not exist, and if the file is there but
# broken it says which file and how to fix it (read it in `helpers/evaluation.py`).

# %%
model_path = config.models_dir() / "article_cnn.keras"
model = evaluation.load_model_or_none(model_path)
print("found the model from notebook 04" if model is not None else f"no model at {model_path}")

# %% [markdown]
# Without a saved model we train a short one here, exactly as notebook 04 compiles it, so the
# rest of this notebook still runs. Run notebook 04 for the real one.

# %%
if model is None:
    print("Training a short model here instead: 2 epochs on 6,000 images.")
    model, _ = models.train_article_cnn(
        x_train, y_train, validation_data=(x_val, y_val), epochs=2, batch_size=batch_size
    )
    model_source = "short model trained here"
else:
    model_source = str(model_path)
print("evaluating:", model_source)

# %% [markdown]
# ## Measure the test accuracy
#
# `model.evaluate` runs the model over the test images in batches and returns the loss and
# the metrics it was compiled with. With arrays and a `batch_size`, every image is used
# once: 78 full batches of 128 and a last batch of 16.

# %%
results = model.evaluate(x_test, y_test, batch_size=batch_size, verbose=0, return_dict=True)
test_accuracy = results["accuracy"]

# %% [markdown]
# The rest of the notebook needs the prediction for each image, so we also keep the ten
# probabilities per image and take the most likely digit. Counting the correct ones gives the
# same accuracy as `evaluate`.

# %%
probs = model.predict(x_test, batch_size=batch_size, verbose=0)
y_pred = probs.argmax(axis=1)
n_test = len(y_test)
n_correct = int((y_pred == y_test).sum())
assert n_correct == round(test_accuracy * n_test), "evaluate and predict disagree"
print(f"Test accuracy: {test_accuracy:.4f} ({n_correct}/{n_test} correct)")
print(f"Test loss: {results['loss']:.4f}")

# %% [markdown]
# > **Note: the article** evaluates with
# > `model.evaluate_generator(test_generator, steps=len(test_images)//128)`.
# > `evaluate_generator` no longer exists in Keras 3, and the step count was wrong anyway:
# > `10000 // 128` rounds down to 78 batches, which cover 9,984 images, so 16 test images
# > were silently never scored (and since that generator shuffles, a different 16 each
# > time). Use `model.evaluate(x_test, y_test, batch_size=128)`, which includes the last,
# > smaller batch. The arithmetic:

# %%
# NBVAL_CHECK_OUTPUT
article_steps = n_test // batch_size
article_images = article_steps * batch_size
batches = -(-n_test // batch_size)  # ceiling division
print(f"article: steps = {n_test} // {batch_size} = {article_steps}")
print(f"         {article_steps} x {batch_size} = {article_images} images scored")
print(f"         {n_test} - {article_images} = {n_test - article_images} images never scored")
print(
    f"model.evaluate: {batches} batches ({batches - 1} of {batch_size}, 1 of {n_test - article_images})"
)
print(f"                = {n_test} images scored")

# %% [markdown]
# ## Read the confusion matrix
#
# Accuracy is one number; the confusion matrix says where it comes from. Row *i*, column
# *j* counts the test images of digit *i* that the model called *j*: the diagonal holds the
# correct answers, and every number off it is a mistake. Counting it takes one line of
# NumPy: for every image, add 1 at (true digit, predicted digit). `check_labels` (from
# `helpers.evaluation`) first makes sure both are 1-D arrays of labels 0 to 9, so that
# passing probabilities or one-hot labels by mistake fails with a clear message. Notebook 14
# and the tests reuse these functions, so their cells are saved into
# `helpers/evaluation.py` (`# @save`).


# %%
# @save helpers.evaluation
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


# %% [markdown]
# scikit-learn has the same function; the two agree:

# %%
matrix = confusion_matrix(y_test, y_pred)
same = np.array_equal(matrix, metrics.confusion_matrix(y_test, y_pred, labels=range(10)))
print(f"same as sklearn.metrics.confusion_matrix: {same}")
print(f"{np.trace(matrix):,} on the diagonal (correct), {matrix.sum() - np.trace(matrix):,} off it")

# %% [markdown]
# A hundred numbers are easier to read as a heatmap, with the count written in each cell:


# %%
# @save helpers.evaluation
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


# %%
confusion_matrix_figure(y_test, y_pred)

# %% [markdown]
# The largest numbers off the diagonal show which digits look alike to the model; the
# section on the most confused pairs below lists them.
#
# ## Score each digit
#
# Accuracy averages over all digits and can hide one that does badly. For each digit $d$,
# with $M$ the confusion matrix:
#
# - **precision**, $M_{dd} / \sum_i M_{id}$: of the images the model *called* $d$ (column
#   $d$), the fraction that are;
# - **recall**, $M_{dd} / \sum_j M_{dj}$: of the images that *are* $d$ (row $d$), the
#   fraction it found;
# - **F1**, $2PR / (P + R)$: the harmonic mean of the two, high only when both are;
# - **support**, $\sum_j M_{dj}$: how many test images of $d$ there are.
#
# A digit that is never predicted has no precision (0 / 0); we report 0, as scikit-learn
# does with `zero_division=0`.


# %%
# @save helpers.evaluation
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


# %%
report = per_class_report(y_test, y_pred)
report.round(3)

# %% [markdown]
# The same four columns from scikit-learn's `precision_recall_fscore_support`, and the
# largest difference from ours:

# %%
sklearn_report = metrics.precision_recall_fscore_support(
    y_test, y_pred, labels=range(10), zero_division=0
)
difference = max(
    np.abs(report[column].to_numpy() - values).max()
    for column, values in zip(report.columns, sklearn_report, strict=True)
)
print(f"largest difference from scikit-learn: {difference:.1e}")

# %%
hardest = report["recall"].idxmin()
print(f"lowest recall: digit {hardest} ({report.loc[hardest, 'recall']:.1%} of them found)")
print(f"lowest precision: digit {report['precision'].idxmin()}")

# %% [markdown]
# ## Look at the mistakes
#
# Numbers say how often the model is wrong; pictures say how. Here are 24 of its wrong
# answers, the most confident first: the title gives the true digit, the prediction, and the
# probability the model gave it (`evaluation.misclassified_gallery`). As you look, sort
# them: mistakes a person would not make, digits that would puzzle a person too, and
# images whose label itself looks wrong to you.

# %%
evaluation.misclassified_gallery(x_test, y_test, probs, n=24)

# %% [markdown]
# ## Find the most confused pairs
#
# The largest off-diagonal cells of the confusion matrix, as a table
# (`evaluation.most_confused_pairs`):

# %%
pairs = evaluation.most_confused_pairs(y_test, y_pred, k=5)
pairs

# %% [markdown]
# And the images behind the top pair: the same gallery, given only the test images of that
# true digit that were predicted as that other digit (at most 8 of them; the title says
# how many there are).

# %%
true_digit, predicted_digit = pairs.loc[0, ["true", "predicted"]]
in_pair = (y_test == true_digit) & (y_pred == predicted_digit)
pair_figure = evaluation.misclassified_gallery(
    x_test[in_pair], y_test[in_pair], probs[in_pair], n=8
)
pair_figure.suptitle(
    f"{in_pair.sum()} test images of a {true_digit} predicted as {predicted_digit}"
)
pair_figure

# %% [markdown]
# ## Save the evaluation
#
# A small JSON file records the result next to the model; `make course` reads
# `test_accuracy` from it for its summary line (`evaluation.save_evaluation`).

# %%
evaluation_path = evaluation.save_evaluation(
    config.models_dir() / "article_cnn_evaluation.json",
    test_accuracy=test_accuracy,
    n_test=n_test,
    model=model_source,
)
print(evaluation_path.name, "->", evaluation_path.read_text())

# %% [markdown]
# ## Summary
#
# - Load models with `keras.saving.load_model(path, safe_mode=True)`; a notebook that needs
#   a model checks that it exists and says what it does when it does not.
# - `model.evaluate(x_test, y_test, batch_size=128)` scores all 10,000 test images; the
#   article's `evaluate_generator(..., steps=10000 // 128)` dropped 16.
# - The confusion matrix counts (true digit, predicted digit) pairs; per-digit precision
#   (column), recall (row) and F1 follow from it by hand, as scikit-learn computes them.
#   They show *where* the model is wrong; the gallery of confident mistakes and the
#   most-confused pairs show *how*.
#
# Next, notebook 06 plots the training curves and looks inside the network.

# %% [markdown]
# ## Exercises
#
# 1. Reproduce the article's evaluation: score a random 9,984 of the 10,000 test images
#    (as its shuffling generator did), in each of 1,000 draws. How much does the accuracy
#    move between draws, and how does that compare with the uncertainty that any test set of
#    10,000 images leaves, $\sqrt{a(1-a)/n}$ for an accuracy $a$ on $n$ images?
# 2. Draw the confusion matrix normalised by row, so each row sums to 1 and the diagonal
#    shows each digit's recall (hint: divide each row of `confusion_matrix(y_test, y_pred)`
#    by its sum).
# 3. Find the 8 test images the model was *least* sure about (the lowest top
#    probability), right or wrong, and show them with their predictions.

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
rng = np.random.default_rng(0)
correct = y_pred == y_test
subset_accuracies = np.array(
    [correct[rng.choice(n_test, size=article_images, replace=False)].mean() for _ in range(1_000)]
)
spread = subset_accuracies.max() - subset_accuracies.min()
n_distinct = len(np.unique(subset_accuracies))
standard_error = np.sqrt(correct.mean() * (1 - correct.mean()) / n_test)
print(f"all 10,000 images:           {correct.mean():.6f}")
print(
    f"1,000 draws of 9,984 images: {subset_accuracies.min():.6f} to "
    f"{subset_accuracies.max():.6f} ({n_distinct} distinct values)"
)
print(f"spread between draws:        {spread:.6f}")
print(f"standard error on 10,000:    {standard_error:.6f}")
n_mistakes = int(n_test - correct.sum())
if spread == 0:
    moved = "gave the same number in every draw"
else:
    if spread < standard_error / 2:
        size = "well under"
    elif spread <= 2 * standard_error:
        size = "comparable to"
    else:
        size = "larger than"
    moved = (
        f"moved between draws by up to {spread:.4%}, {size} the standard error "
        f"({standard_error:.4%}) that any test set of 10,000 images leaves"
    )
display(
    Markdown(
        f"With {n_mistakes:,} mistakes in 10,000, the article's evaluation {moved}. "
        "Small or not, it is not the test accuracy: each draw scores a different 9,984 images."
    )
)

# %% [markdown]
# **Solution to exercise 2**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
recall_matrix = matrix / matrix.sum(axis=1, keepdims=True)  # each row divided by its sum
recall_figure = plots.NotebookFigure(figsize=(7, 6), layout="constrained")
ax = recall_figure.subplots()
sns.heatmap(recall_matrix, annot=True, fmt=".2f", cmap="Blues", cbar=False, square=True, ax=ax)
ax.set(xlabel="predicted digit", ylabel="true digit", title="Confusion matrix, each row sums to 1")
recall_figure

# %% [markdown]
# **Solution to exercise 3**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
least_sure = np.argsort(probs.max(axis=1))[:8]
titles = [f"true {y_test[i]} → pred {y_pred[i]}\n({probs[i].max():.0%})" for i in least_sure]
plots.image_grid(x_test[least_sure], titles=titles, ncols=8, title="Least sure predictions")
