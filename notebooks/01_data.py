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
# # 01 · Explore the data
#
# Look at MNIST before training anything: what the arrays hold, how the classes are
# balanced, and what the digits look like.
#
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mnist-cnn-course/mnist-cnn-course/main?urlpath=lab/tree/notebooks/01_data.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-cnn-course/mnist-cnn-course/blob/main/notebooks/01_data.ipynb)
#
# [Previous: 00 · Check your setup](00_setup.ipynb) · [Next: 02 · Prepare the data](02_preprocessing.ipynb)

# %% [markdown]
# ## What you will learn
#
# - what MNIST is: 70,000 grayscale 28x28 images of handwritten digits 0–9, with labels;
# - how to read an array's shape, dtype and value range, and why they matter;
# - how to check the class balance and look at many samples at once;
# - why the article's download steps fail, and how the course gets the data safely instead.
#
# ## Before you start
#
# Run [00 · Check your setup](00_setup.ipynb) first: it makes sure `data/mnist.npz` exists
# (this notebook fetches it too if it is missing). Nothing is trained or saved here. It takes
# well under a minute in full mode on a laptop CPU.

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

import gzip
import pickle
import tarfile
import tempfile
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from helpers import config, data, plots

config.set_seed()
FAST = config.fast_mode()
print(config.describe_mode())
print("TensorFlow", tf.__version__, "| Keras", keras.__version__)

# %% [markdown]
# ## Load the data
#
# `helpers.data.load_mnist()` returns exactly what `keras.datasets.mnist.load_data()` returns,
# but from the verified local copy (read it in `helpers/data.py`). This notebook always looks
# at the whole dataset: it is small enough, even in fast mode.

# %%
(x_train, y_train), (x_test, y_test) = data.load_mnist()

# %% [markdown]
# Before anything else, look at what you got. The *shape* says how many images and how big;
# the *dtype* says how each number is stored. `uint8` means whole numbers from 0 to 255: one
# byte per pixel, 0 for the background and 255 for the darkest ink.

# %%
# NBVAL_CHECK_OUTPUT
arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
summary = pd.DataFrame(
    [(name, a.shape, a.dtype, a.min(), a.max()) for name, a in arrays.items()],
    columns=["array", "shape", "dtype", "min", "max"],
)
print(summary.to_string(index=False))

# %% [markdown]
# So there are 60,000 training images and 10,000 test images, each 28x28 pixels with one
# gray level per pixel, and one label per image. The test set is kept aside to measure the
# final model; the course never trains or tunes on it.

# %% [markdown]
# ## Check where the data comes from
#
# > **Note: the article** says to register an account, download `mnist.pkl.gz`, unpack it
# > with `tar xvfz`, then read it with `train, test = pickle.load(f)`. None of these steps
# > works today:
# >
# > - no account is needed, and the site it pointed to no longer hosts the file;
# > - `mnist.pkl.gz` is a single gzip-compressed pickle, not a tar archive, so `tar` refuses it;
# > - the pickle holds *three* (images, labels) pairs, train, validation and test
# >   (50,000 / 10,000 / 10,000), so unpacking it into two names fails;
# > - worst, unpickling a file runs whatever code the file asks for. A pickle downloaded from
# >   an unknown mirror can take over your machine the moment you load it.
# >
# > **The fix**, in `helpers.data`: the data is fetched from Keras' servers (or, offline, from
# > a pinned PyPI package), a downloaded pickle is checked against a known SHA-256 *before*
# > it is opened, it is unpickled with an allow-list that can only rebuild NumPy arrays, and
# > the four arrays are compared with the SHA-256 of the official MNIST files. The result is
# > saved as `data/mnist.npz`, which is read with `allow_pickle=False`.

# %% [markdown]
# You can see two of these problems for yourself on a tiny stand-in file with the same
# layout (three pairs of made-up values, pickled and gzipped), created in a temporary folder.
# (We never unpickle it: unpacking the same three pairs into two names shows the error.)

# %%
splits = (([1, 2], [1, 2]), ([3], [3]), ([4], [4]))  # (train, valid, test), each (x, y)
with tempfile.TemporaryDirectory() as folder:
    fake = Path(folder) / "mnist.pkl.gz"
    fake.write_bytes(gzip.compress(pickle.dumps(splits)))
    try:
        tarfile.open(fake, "r:gz")
    except tarfile.ReadError as error:
        print("tar xvfz:", type(error).__name__, error)
    # The pickle holds exactly `splits`; unpacking it into two names fails the same way.
    try:
        train, test = splits
    except ValueError as error:
        print("train, test = pickle.load(f):", type(error).__name__, error)

# %% [markdown]
# The arrays you loaded are the official MNIST, bit for bit: `data.verify_arrays` hashes each
# one the way the original files are laid out and compares with the published values.

# %%
# NBVAL_CHECK_OUTPUT
hashes = data.verify_arrays(arrays)
for name, digest in hashes.items():
    print(f"{data.OFFICIAL_FILE_NAMES[name]:<24} {digest}")

# %% [markdown]
# ## Count the classes
#
# A classifier trained on unbalanced classes can look accurate while ignoring the rare ones,
# so count how many images each digit has.

# %%
plots.class_balance({"train": y_train, "test": y_test}, title="Images per digit")

# %% [markdown]
# The classes are roughly balanced: between about 5,400 (digit 5) and 6,700 (digit 1) in
# the training set. Plain accuracy is a fair first measure here.
#
# > **Note: the article** claims that "59.9% of the images are digits and the rest are not".
# > That is wrong: every one of the 70,000 images is a handwritten digit from 0 to 9, and
# > every label is one of those ten classes, as the counts below show.

# %%
# NBVAL_CHECK_OUTPUT
all_labels = np.concatenate([y_train, y_test])
digits, counts = np.unique(all_labels, return_counts=True)
print("labels:", sorted(set(all_labels.tolist())))
print("images per label:", dict(zip(digits.tolist(), counts.tolist(), strict=True)))
print(f"total: {counts.sum():,} images, {np.isin(all_labels, range(10)).mean():.0%} of them digits")

# %% [markdown]
# ## Look at the digits
#
# Numbers only go so far: look at a few examples of each class to see how differently
# people write the same digit (`plots.sample_grid` picks them at random, reproducibly).

# %%
plots.sample_grid(x_train, y_train, per_class=10)

# %% [markdown]
# Some are thick, some thin, some slanted; a few would fool a human. The model will have to
# cope with all of them.
#
# ## Look at the pixel values
#
# Most of each image is empty background, and much of the ink is close to full darkness.
# The histogram (with a log scale, because the zeros dwarf everything else) shows it.

# %%
plots.pixel_histogram(x_train)

# %%
print(f"pixels that are exactly 0: {np.mean(x_train == 0):.1%}")
print(f"pixels above 250:           {np.mean(x_train > 250):.1%}")

# %% [markdown]
# The values run from 0 to 255. Neural networks train best on small inputs, around 0 to 1,
# which is why the next notebook divides by 255.
#
# ## Average each class
#
# The mean of all images of one digit shows where its ink usually lies. The digits are
# centred in the frame, so the averages are still recognisable: a first hint that the
# position of the ink carries the information the model needs.

# %%
plots.mean_images(x_train, y_train)

# %% [markdown]
# ## Summary
#
# - MNIST has 60,000 training and 10,000 test images, uint8 28x28 grayscale, labels 0–9;
#   every image is a digit.
# - The classes are roughly balanced, so accuracy is a fair measure.
# - Pixels run 0–255 and are mostly 0: they need scaling before training (next notebook).
# - `helpers.data` replaces the article's download steps with verified hashes and no
#   unpickling of unverified files.
#
# ## Exercises
#
# 1. Which digit is most common in the training set, which is least common, and how many
#    more images does the first have than the second?
# 2. Find the training image that is farthest (in summed squared pixel difference) from the
#    mean image of its own class, and show it next to its label. Is it a badly written digit?
# 3. How much of each image does the ink cover on average? Count a pixel as ink when it is
#    above 127, and compare the digit 1 with the digit 8.

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
train_counts = np.bincount(y_train, minlength=10)
most, least = int(train_counts.argmax()), int(train_counts.argmin())
print(
    f"most common: {most} ({train_counts[most]:,}), least common: {least} ({train_counts[least]:,})"
)
print(f"difference: {train_counts[most] - train_counts[least]:,} images")

# %% [markdown]
# **Solution to exercise 2**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
pixels = x_train.astype(np.float32) / 255
class_means = np.stack([pixels[y_train == d].mean(axis=0) for d in range(10)])
distances = ((pixels - class_means[y_train]) ** 2).sum(axis=(1, 2))
farthest = np.argsort(distances)[::-1][:5]
print("farthest from their class mean:", farthest.tolist())
plots.image_grid(
    x_train[farthest],
    titles=[f"label {y_train[i]}, d={distances[i]:.0f}" for i in farthest],
    title="The training images least like their class average",
)

# %% [markdown]
# Mostly very thick or oddly placed strokes: they are far from the average because they
# have much more ink, or ink in unusual places, not necessarily because they are misread.

# %% [markdown]
# **Solution to exercise 3**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
ink = (x_train > 127).mean(axis=(1, 2))
for digit in (1, 8):
    print(f"digit {digit}: ink covers {ink[y_train == digit].mean():.1%} of the image on average")
print(f"all digits: {ink.mean():.1%}")
