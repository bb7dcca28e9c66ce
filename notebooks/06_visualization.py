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
# - how to read accuracy and loss curves for training and validation;
# - what over-fitting looks like, from a run that over-fits on purpose;
# - how to show the filters a convolution layer has learned;
# - how to show the feature maps a trained network computes for one digit.
#
# ## Before you start
#
# Run [04 · Train the CNN](04_training.ipynb) first: this notebook loads the model and
# the training history it saves in `models/` (`models/fast/` in fast mode). If they are
# missing, it trains a short stand-in model itself and says so. It takes about a minute in
# full mode on a laptop CPU, most of it for the over-fitting run.

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

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ start-up log

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from keras import layers

from helpers import config, data, models, plots, saving, training

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
# `plots.training_curves` draws accuracy and loss per epoch, for the training data (what
# the model learns from) and the validation data (what it never trains on), and marks the
# epoch with the lowest validation loss.

# %%
plots.training_curves(history)

# %% [markdown]
# Healthy training looks like this: both losses fall and both accuracies rise, with the
# validation curves close to the training ones. Dropout is switched off when the
# validation data is measured, which is why validation accuracy can even be the higher one
# early on.
#
# ## Recognise over-fitting
#
# A network with enough parameters can learn its training images by heart. It then keeps
# getting better on them while getting *worse* on new images: that is over-fitting. On the
# curves you see it as
#
# - the training loss still falling, the training accuracy approaching 100%,
# - while the validation loss stops falling and *turns up*, and the validation accuracy
#   stalls.
#
# The best model is the one at the bottom of the validation loss curve; training longer
# only makes it worse (`keras.callbacks.EarlyStopping(restore_best_weights=True)` stops
# there automatically). To see it happen, train a model built to over-fit: the article's
# network *without* its two dropout layers, on only 1,000 images, with small batches so that
# it makes many updates per epoch. It takes seconds, and is not saved.

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
plots.training_curves(overfit_history)

# %%
best = training.best_epoch(overfit_history, "val_loss")
print(f"lowest validation loss at epoch {best} of {epochs}")
print(
    f"last epoch: training accuracy {overfit_history['accuracy'][-1]:.1%}, "
    f"validation accuracy {overfit_history['val_accuracy'][-1]:.1%}"
)

# %% [markdown]
# In full mode (15 epochs) the pattern is plain: the training accuracy reaches 100% and its
# loss heads for zero, while the validation loss bottoms out after about five epochs and
# then, unevenly, rises again; a gap of nearly ten points opens between training and
# validation accuracy. In fast mode the run stops after 3 epochs, before that happens. The
# cures: more data, dropout (the article's model has it), and stopping at the best
# validation epoch.
#
# ## Look at the learned filters
#
# The first convolution layer holds 32 filters of 3x3 weights. Trained, they become small
# pattern detectors: red weights where the filter wants ink, blue where it wants background,
# so most look like edges or strokes in some direction. (A short stand-in model has barely
# moved its filters from their random start.)

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
# Each convolution map is bright where its filter's pattern appears: some follow the left
# edges of the strokes, some the right or lower ones, some the stroke ends.

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
# - Over-fitting: the training curves keep improving while the validation loss turns up.
#   Dropout, more data and stopping at the best validation epoch fight it.
# - A trained first convolution layer holds small stroke and edge detectors;
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
plots.training_curves(dropout_history)

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
