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
# # 06 · Look inside the training and the model
#
# Read the training curves, recognise over-fitting, and see what the trained network has
# learned: its first-layer filters and the feature maps it makes from a digit.
#
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mnist-cnn-course/mnist-cnn-course/main?urlpath=lab/tree/notebooks/06_visualization.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-cnn-course/mnist-cnn-course/blob/main/notebooks/06_visualization.ipynb)
#
# [Previous: 05 · Evaluate the model](05_evaluation.ipynb) · [Next: 07 · Augment the data](07_augmentation.ipynb)

# %% [markdown]
# ## What you will learn
#
# - how to plot accuracy and loss curves for training and validation, and how to read
#   them (including why validation accuracy can sit above training accuracy);
# - what over-fitting looks like, from a run that over-fits on purpose;
# - how to show the filters a convolution layer has learned;
# - how to show the feature maps a trained network computes for one digit.
#
# ## Before you start
#
# Run [04 · Train the CNN](04_training.ipynb) first: this notebook loads the model and
# the training history it saves in `models/` (`models/fast/` in fast mode). If they are
# missing, it trains a short stand-in model itself and says so. Most of its time goes to two
# small training runs, the over-fitting run and the solution to exercise 2 (the README's
# results table has the latest measured time of the whole notebook).

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
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from IPython.display import Markdown, display
from keras import layers
from matplotlib.figure import Figure

from helpers import config, data, models, plots, saving, training
from helpers.plots import NotebookFigure, check_history, style_epoch_axes

config.set_seed()
FAST = config.fast_mode()
print(config.describe_mode())
print("TensorFlow", tf.__version__, "| Keras", keras.__version__)

# %% [markdown]
# ## Load the data
#
# The same prepared arrays as in the other notebooks (`data.prepare_mnist()`, built step by
# step in notebook 02): images scaled to [0, 1], a validation set taken from the training set.

# %%
(x_train, y_train), (x_val, y_val), (x_test, y_test) = data.prepare_mnist()
print("train", x_train.shape, "| validation", x_val.shape, "| test", x_test.shape)

# %% [markdown]
# ## Load the trained model and its history
#
# Notebook 04 saves the trained model as `article_cnn.keras` and the per-epoch metrics of
# its `fit` as `article_cnn_history.json` (`helpers.training.save_history`). If either is
# missing, the next cell trains a short stand-in instead, 2 epochs on 6,000 images, good
# enough to make the plots, and saves nothing, so it never replaces the real files.

# %%
history_path = config.models_dir() / "article_cnn_history.json"
model_path = config.models_dir() / "article_cnn.keras"

if history_path.exists() and model_path.exists():
    history = training.load_history(history_path)
    model = saving.load_keras_model(model_path)
    print(f"Loaded the model and history of notebook 04 from {config.models_dir()}")
else:
    print(f"No trained model in {config.models_dir()}: run notebook 04 to make one.")
    print("Training a short stand-in here instead (2 epochs on 6,000 images, not saved).")
    model, fit = models.train_article_cnn(
        x_train[:6_000], y_train[:6_000], validation_data=(x_val, y_val), epochs=2
    )
    history = fit.history

# %% [markdown]
# The history is a dict from metric name to one value per epoch:

# %%
print(sorted(history))
print(f"{len(history['loss'])} epochs")

# %% [markdown]
# > **Note: the article** plots `history.history['acc']` and `history.history['val_acc']`.
# > Since Keras 2.3 the metric is recorded under the name you compile it with, so
# > `metrics=["accuracy"]` gives the keys `accuracy` and `val_accuracy`, and `'acc'` raises a
# > `KeyError`. The fix: use `history["accuracy"]`, `history["val_accuracy"]`.

# %%
# NBVAL_CHECK_OUTPUT
for key in ["accuracy", "val_accuracy", "loss", "val_loss", "acc", "val_acc"]:
    print(f"{key!r:>16} in history: {key in history}")
try:
    history["acc"]
except KeyError as error:
    print("history['acc'] -> KeyError:", error)

# %% [markdown]
# ## Plot the training curves
#
# Two panels, one per metric, each with two lines: the training data (what the model
# learns from) and the validation data (what it never trains on), one point per epoch. A
# dashed line marks the epoch with the lowest validation loss, the one whose weights
# `EarlyStopping` and `ModelCheckpoint` kept. `check_history` (from `helpers.plots`) makes
# sure the history has the Keras 3 keys and one value per epoch in every list;
# `style_epoch_axes` sets the ticks, grid and legend. The over-fitting run below reuses the
# function, and so do the course's tests, so the cell is saved into `helpers/plots.py`
# (`# @save`).


# %%
# @save helpers.plots
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


# %%
training_curves(history)

# %% [markdown]
# Healthy training: both losses fall and both accuracies rise, and the validation curves
# stay close to the training ones. What this run's curves do:

# %%
n_epochs = len(history["loss"])
val_higher = sum(v > t for v, t in zip(history["val_accuracy"], history["accuracy"], strict=True))
if val_higher == n_epochs:
    where = "in every epoch" if n_epochs > 1 else "in its one epoch"
elif val_higher == 0:
    where = "in no epoch"
else:
    where = f"in {val_higher} of {n_epochs} epochs"
if n_epochs > 1:
    trends = [
        f"the {name} {'fell' if values[-1] < values[0] else 'did not fall'} from "
        f"{values[0]:.4f} to {values[-1]:.4f}"
        for name, values in [
            ("training loss", history["loss"]),
            ("validation loss", history["val_loss"]),
        ]
    ]
    story = f"Over {n_epochs} epochs {trends[0]} and {trends[1]}. "
else:
    story = "With a single epoch (fast mode) there is one point per curve and no trend yet. "
display(Markdown(story + f"Validation accuracy is above training accuracy **{where}**."))

# %% [markdown]
# Validation accuracy above training accuracy looks wrong (the model never trains on the
# validation images), but the two are measured differently, and both differences favour
# validation:
#
# - the training accuracy is measured *with dropout on*: every batch is scored by a network
#   missing a quarter of its convolution features and half of its dense units at random;
#   the validation images are scored with dropout off, by the whole network;
# - the training accuracy is an average over all the batches of the epoch, most of them
#   scored by earlier, worse weights; the validation accuracy is measured once, at the end
#   of the epoch, with the final weights.
#
# So compare the curves' shapes, not which one is on top: over-fitting shows as the
# validation curve turning away from the training one.
#
# ## Recognise over-fitting
#
# A network with enough parameters can learn its training images by heart. It then keeps
# getting better on them while getting *worse* on new images: that is over-fitting. On the
# curves you see it as
#
# - the training loss still falling, the training accuracy approaching 1 (every image right),
# - while the validation loss stops falling and *turns up*, and the validation accuracy
#   gains little more (it can still creep up while the loss rises, because the loss also
#   grows when the model becomes more confident on the images it gets wrong).
#
# The best model is the one at the bottom of the validation loss curve; training longer
# does not bring the validation loss back below it
# (`keras.callbacks.EarlyStopping(restore_best_weights=True)` stops there automatically). To see it happen, train a model built to over-fit: the article's
# network *without* its two dropout layers, on only 1,000 images, with small batches so that
# it makes many updates per epoch. Each epoch is short (the log prints its seconds), and
# the model is not saved.

# %%
n_small = 1_000
batch_size = 32
epochs = 3 if FAST else 15

overfit_model = keras.Sequential(
    [
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ],
    name="no_dropout_cnn",
)
overfit_model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)

# %%
overfit_history = overfit_model.fit(
    x_train[:n_small],
    y_train[:n_small],
    batch_size=batch_size,
    epochs=epochs,
    validation_data=(x_val, y_val),
    verbose=2,
).history

# %%
training_curves(overfit_history)

# %% [markdown]
# What this run shows, computed from its history:

# %%
best = training.best_epoch(overfit_history, "val_loss")
val_loss = overfit_history["val_loss"]
train_accuracy = overfit_history["accuracy"][-1]
val_accuracy = overfit_history["val_accuracy"][-1]
if best < epochs:
    turn = (
        f"is lowest at epoch {best} of {epochs} ({val_loss[best - 1]:.3f}) and ends "
        f"{'higher' if val_loss[-1] > val_loss[best - 1] else 'no higher'}, at {val_loss[-1]:.3f}"
    )
else:
    turn = f"is lowest in the last epoch, {epochs}: the run is too short for it to turn up"
display(
    Markdown(
        f"The training accuracy ends at {train_accuracy:.1%} and the training loss at "
        f"{overfit_history['loss'][-1]:.3f} (from {overfit_history['loss'][0]:.3f}). "
        f"The validation loss {turn}. At the end, training accuracy is "
        f"{100 * (train_accuracy - val_accuracy):.1f} percentage points "
        f"{'above' if train_accuracy >= val_accuracy else 'below'} validation accuracy."
    )
)

# %% [markdown]
# A training accuracy close to 1 with a validation loss that turns up after its best epoch
# is over-fitting; with fewer epochs (fast mode) the run may stop before it shows. The
# cures: more data, dropout (the article's model has it), and stopping at the best
# validation epoch.
#
# ## Look at the learned filters
#
# The first convolution layer holds 32 filters of 3x3 weights. Training turns them into
# small pattern detectors: red weights where the filter wants ink, blue where it wants
# background. Look for filters that are edges or strokes in some direction: red on one
# side, blue on the other. (A short stand-in model has barely moved its filters from their
# random start.)

# %%
conv_layer = next(layer for layer in model.layers if isinstance(layer, layers.Conv2D))
pool_layer = next(layer for layer in model.layers if isinstance(layer, layers.MaxPooling2D))
kernel, bias = conv_layer.get_weights()

# %%
# NBVAL_CHECK_OUTPUT
print(
    f"{conv_layer.name}: kernel {kernel.shape} (height, width, input channels, filters), bias {bias.shape}"
)

# %%
plots.conv_filters(kernel)

# %% [markdown]
# ## Follow a digit through the trained network
#
# One model that returns the outputs of both the convolution and the pooling layer shows
# what the trained filters make of a digit (`model.inputs[0]` is the model's `keras.Input`).

# %%
digit = x_test[:1]
extractor = keras.Model(model.inputs[0], [conv_layer.output, pool_layer.output])
conv_maps, pool_maps = (output.numpy() for output in extractor(digit, training=False))
probabilities = model(digit, training=False).numpy()[0]
print(f"label {y_test[0]}, predicted {probabilities.argmax()} ({probabilities.max():.1%} sure)")

# %%
# NBVAL_CHECK_OUTPUT
print("conv output:", conv_maps.shape, "| pool output:", pool_maps.shape)

# %%
plots.image_grid(digit, titles=[f"label {y_test[0]}"], title="Input")

# %% [markdown]
# Each convolution map is bright where its filter's pattern appears. Compare the maps with
# the filters above: an edge filter lights up along one side of the strokes, and the maps
# differ in which side, or in whether they follow the strokes or the background.

# %%
plots.feature_maps(conv_maps, max_maps=16, title="After the convolution")

# %% [markdown]
# Pooling keeps the strongest response in each 2x2 square: the same maps, coarser, and less
# sensitive to exactly where the digit sits.

# %%
plots.feature_maps(pool_maps, max_maps=16, title="After max pooling")

# %% [markdown]
# ## Summary
#
# - Training curves show accuracy and loss per epoch for training and validation data;
#   Keras 3 records them as `accuracy`, `val_accuracy`, `loss`, `val_loss`.
# - Validation accuracy can sit above training accuracy: the training figure is measured
#   with dropout on and averaged over an epoch of improving weights.
# - Over-fitting: the training curves keep improving while the validation loss turns up.
#   Dropout, more data and stopping at the best validation epoch fight it.
# - Training turns the first convolution layer's filters into small pattern detectors;
#   `plots.conv_filters` shows them, `plots.feature_maps` shows where they respond.
#
# ## Exercises
#
# 1. In the over-fitting run, compare the first and the last epoch: by how much did the
#    training loss and the validation loss change? Which one got worse after its best epoch?
# 2. Put dropout back: train `models.build_article_cnn()` exactly like the over-fitting
#    model (same images, batch size and epochs) and plot its curves. Is the gap between
#    training and validation smaller?
# 3. Which filter responds most strongly to the test digit (the largest mean value in
#    `conv_maps`)? Show that filter's weights and its feature map.

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
for key in ["loss", "val_loss"]:
    values = overfit_history[key]
    best_epoch = training.best_epoch(overfit_history, key)
    print(
        f"{key:<9} first {values[0]:.3f}, best {min(values):.3f} (epoch {best_epoch}), "
        f"last {values[-1]:.3f}: {values[-1] - min(values):+.3f} since its best"
    )

# %% [markdown]
# **Solution to exercise 2**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
dropout_model = models.build_article_cnn()
dropout_model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
dropout_history = dropout_model.fit(
    x_train[:n_small],
    y_train[:n_small],
    batch_size=batch_size,
    epochs=epochs,
    validation_data=(x_val, y_val),
    verbose=0,
).history
for name, record in [("without dropout", overfit_history), ("with dropout", dropout_history)]:
    gap = record["accuracy"][-1] - record["val_accuracy"][-1]
    print(f"{name:<16} train - validation accuracy at the end: {gap:+.1%}")
training_curves(dropout_history)

# %% [markdown]
# **Solution to exercise 3**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
strongest = int(conv_maps[0].mean(axis=(0, 1)).argmax())
weights = kernel[:, :, 0, strongest]
fig, (left, right) = plt.subplots(1, 2, figsize=(6, 3), layout="constrained")
left.imshow(weights, cmap="RdBu_r", vmin=-np.abs(weights).max(), vmax=np.abs(weights).max())
left.set_title(f"filter {strongest}: weights")
right.imshow(conv_maps[0, :, :, strongest], cmap="viridis")
right.set_title(f"filter {strongest}: feature map")
for ax in (left, right):
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()
