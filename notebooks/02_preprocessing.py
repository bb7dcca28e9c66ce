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
# # 02 · Prepare the data
#
# Turn the raw MNIST arrays into what a CNN trains on: scaled pixels, a channel axis, a
# validation set, labels in the right format, and a `tf.data` input pipeline.
#
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mnist-cnn-course/mnist-cnn-course/main?urlpath=lab/tree/notebooks/02_preprocessing.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-cnn-course/mnist-cnn-course/blob/main/notebooks/02_preprocessing.ipynb)
#
# [Previous: 01 · Explore the data](01_data.ipynb) · [Next: 03 · Build the model](03_model.ipynb)

# %% [markdown]
# ## What you will learn
#
# - how to scale pixels from 0–255 to 0–1, and the mistakes that are easy to make
#   (including the article's: scaling twice);
# - why a CNN needs a channel axis, and how to add it;
# - how to take a validation set from the training set, and why never from the test set;
# - the difference between integer and one-hot labels, and which loss goes with each;
# - how to feed batches with `tf.data`, which replaces the article's `ImageDataGenerator`.
#
# ## Before you start
#
# Read [01 · Explore the data](01_data.ipynb) first. This notebook needs only the data file
# (it fetches it if missing); it trains and saves nothing. It takes under a minute in full
# mode on a laptop CPU: every step runs on the whole dataset, in both modes.

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
import tensorflow as tf

from helpers import config, data, plots

config.set_seed()
FAST = config.fast_mode()
print(config.describe_mode())
print("TensorFlow", tf.__version__, "| Keras", keras.__version__)

# %% [markdown]
# ## Load the raw data
#
# Start from the same uint8 arrays as notebook 01. The `_raw` suffix marks them as not yet
# prepared.

# %%
(x_train_raw, y_train_raw), (x_test_raw, y_test_raw) = data.load_mnist()
print(x_train_raw.shape, x_train_raw.dtype, "| values", x_train_raw.min(), "to", x_train_raw.max())

# %% [markdown]
# ## Scale the pixels to [0, 1]
#
# A network starts with small random weights and learns best when its inputs are small
# too: pixels of 0–255 would make the first activations hundreds of times too large.
# Dividing by 255 maps black to 1.0 and the background to 0.0. Look at a 4x4 patch of the
# first digit before scaling:

# %%
x_train_raw[0, 12:16, 12:16]

# %% [markdown]
# Two easy mistakes. Integer division (`//`) throws away everything below 1, and dividing a
# uint8 array directly gives float64, twice the memory of the float32 that Keras computes in:

# %%
ink = x_train_raw[x_train_raw > 0]
print("x // 255 keeps only the values", np.unique(ink // 255))
print(f"  it turns {np.mean(ink // 255 == 0):.1%} of the ink pixels (all but the 255s) into 0")
divided = x_train_raw[:100] / 255
print(f"x / 255 has dtype {divided.dtype}, {divided.itemsize} bytes a pixel")
print(
    f"  for the training set: {x_train_raw.size * divided.itemsize / 1e6:,.0f} MB, against "
    f"{x_train_raw.size * np.dtype(np.float32).itemsize / 1e6:,.0f} MB in float32"
)

# %% [markdown]
# So convert to float32 first, then divide:

# %%
x_train_scaled = x_train_raw.astype(np.float32) / 255
x_test_scaled = x_test_raw.astype(np.float32) / 255
x_train_scaled[0, 12:16, 12:16].round(3)

# %% [markdown]
# The distribution of the pixels keeps its shape; only the axis changes (compare with the
# histogram in notebook 01):

# %%
plots.pixel_histogram(x_train_scaled)

# %% [markdown]
# ## Add the channel axis
#
# `Conv2D` layers expect images of shape (height, width, channels): 3 channels for colour
# photos, 1 for grayscale. MNIST comes without that last axis, so add it. `np.newaxis` adds
# a new axis of length 1 and copies nothing (the pixels stay where they are in memory).

# %%
without_axis = x_train_scaled
x_train_scaled = x_train_scaled[..., np.newaxis]
x_test_scaled = x_test_scaled[..., np.newaxis]
print("same memory as before:", np.shares_memory(x_train_scaled, without_axis))
del without_axis

# %%
# NBVAL_CHECK_OUTPUT
for name, array in [("x_train_scaled", x_train_scaled), ("x_test_scaled", x_test_scaled)]:
    print(f"{name}: {array.shape} {array.dtype}, values {array.min()} to {array.max()}")

# %% [markdown]
# `helpers.data.scale_images` does both steps in one call; check that it agrees:

# %%
assert np.array_equal(data.scale_images(x_test_raw), x_test_scaled)

# %% [markdown]
# ### Scale once, and keep the image shape
#
# > **Note: the article** reads MNIST from `mnist.pkl.gz` and then rescales it again with
# > `ImageDataGenerator(rescale=1./255)`. Notebook 01 opened that file: its images are
# > already floats in [0, 1), exactly the uint8 pixels divided by 256, and each one is a
# > flat vector of 784 numbers. Dividing by 255 a second time squeezes every pixel below
# > 1/255, so the digits all but vanish, and a flat vector has no rows and columns for a
# > `Conv2D` to slide over. The next cell rebuilds a few images the way the pickle stores
# > them and shows both problems. **The fix:** scale once (the pickle's values need no more
# > scaling; the uint8 arrays above need `/ 255` once) and give the images the shape
# > (28, 28, 1).

# %%
pickle_style = x_train_raw[:5].reshape(-1, 784) / np.float32(256)  # as mnist.pkl.gz stores them
rescaled_twice = pickle_style * (1 / 255)  # what rescale=1./255 then did to them
print(f"pickle-style images: shape {pickle_style.shape}, largest pixel {pickle_style.max():.4f}")
print(f"after rescale=1./255 on top: largest pixel {rescaled_twice.max():.4f}")
try:
    keras.layers.Conv2D(32, (3, 3))(pickle_style)
except ValueError as error:
    print(f"Conv2D on flat vectors: {type(error).__name__}: {str(error).split('. ')[0]}")
print("the fix for the pickle's images: reshape to", pickle_style.reshape(-1, 28, 28, 1).shape)
plots.image_grid(
    np.concatenate([pickle_style, rescaled_twice]).reshape(-1, 28, 28),
    titles=["scaled once"] * 5 + ["scaled twice"] * 5,
    ncols=5,
    title="The same five digits, scaled once and twice (same colour scale)",
)

# %% [markdown]
# ## Split off a validation set
#
# While you build a model you compare many variants (epochs, layer sizes, learning rates)
# and keep the best. The data you compare them on is the *validation set*. It must not be
# the test set: whatever you pick using the test set has been tuned to it, and the test
# score stops being an honest estimate of how the model does on new digits.
#
# > **Note: the article** passes the test set as `validation_data` to `fit_generator`, so
# > the numbers it reports for "validation" and "test" are the same images and its test
# > accuracy is optimistic. The fix: set aside part of the *training* set (here 6,000 of the
# > 60,000 images, chosen at random with a fixed seed) for validation, and touch the test set
# > once, at the very end.

# %%
n_val = 6_000
order = np.random.default_rng(seed=42).permutation(len(x_train_scaled))
val_idx, train_idx = order[:n_val], order[n_val:]

x_train, y_train = x_train_scaled[train_idx], y_train_raw[train_idx].astype(np.int64)
x_val, y_val = x_train_scaled[val_idx], y_train_raw[val_idx].astype(np.int64)
del x_train_scaled  # x_train and x_val are copies that hold all its images: free it
x_test, y_test = x_test_scaled, y_test_raw.astype(np.int64)

# %%
# NBVAL_CHECK_OUTPUT
print(f"train:      {x_train.shape}, labels {y_train.shape}")
print(f"validation: {x_val.shape}, labels {y_val.shape}")
print(f"test:       {x_test.shape}, labels {y_test.shape}")
print("train and validation share an image:", bool(np.intersect1d(train_idx, val_idx).size))

# %% [markdown]
# A random split keeps the class proportions close in both parts: compare the bars, and
# the largest gap printed under them.

# %%
plots.class_balance(
    {"train": y_train, "validation": y_val}, title="Images per digit after the split"
)

# %%
share_train = np.bincount(y_train, minlength=10) / len(y_train)
share_val = np.bincount(y_val, minlength=10) / len(y_val)
gap = np.abs(share_train - share_val)
widest = gap.argmax()
print(f"largest gap in the share of a digit: {gap.max() * 100:.2f} percentage points")
print(
    f"(digit {widest}: {share_train[widest]:.2%} of train, {share_val[widest]:.2%} of validation)"
)


# %% [markdown]
# `helpers.data.split_validation` makes exactly this split (same seed, same order):

# %%
(_, y_train_check), (_, y_val_check) = data.split_validation(x_train_raw, y_train_raw, n_val=n_val)
assert np.array_equal(y_train_check, y_train) and np.array_equal(y_val_check, y_val)

# %% [markdown]
# ## Choose a label format
#
# The labels are integers 0–9. The model's last layer outputs 10 probabilities, one per
# digit, so the loss has to compare 10 probabilities with one label. Keras offers two
# equivalent ways:
#
# - **one-hot labels** (`keras.utils.to_categorical`): each label becomes a vector of ten
#   numbers with a 1 at the right digit, used with `loss="categorical_crossentropy"`;
# - **integer labels** as they are, used with `loss="sparse_categorical_crossentropy"`.

# %%
keras.utils.to_categorical(y_train[:3], num_classes=10)

# %% [markdown]
# Both losses give the same number. Check it on made-up predictions for three images (each
# row sums to 1, as the softmax output does):

# %%
# NBVAL_CHECK_OUTPUT
labels = y_train[:3]
predictions = np.full((3, 10), 0.02, dtype=np.float32)
predictions[np.arange(3), labels] = 0.82  # 82% on the right digit, 2% on each other one
one_hot_loss = keras.losses.CategoricalCrossentropy()(
    keras.utils.to_categorical(labels, 10), predictions
)
integer_loss = keras.losses.SparseCategoricalCrossentropy()(labels, predictions)
print(f"categorical, one-hot labels:        {float(one_hot_loss):.4f}")
print(f"sparse categorical, integer labels: {float(integer_loss):.4f}")
print(f"-log(0.82) =                        {-np.log(0.82):.4f}")

# %% [markdown]
# The course keeps integer labels with the sparse loss: nothing to convert, and the labels
# stay readable. (The article's text also mentions *binary* cross-entropy: that loss is
# for yes/no problems, not for choosing among ten digits.)
#
# ## Feed batches with `tf.data`
#
# A network is trained on small *batches* of images at a time, in a new random order each
# epoch. `tf.data` builds that stream: `from_tensor_slices` cuts the arrays into examples,
# `shuffle` mixes them, `batch` groups them, `map` applies a function to each batch (here
# the scaling, on the fly, as the article's `ImageDataGenerator(rescale=1./255)` did), and
# `prefetch` prepares the next batch while the model works on the current one.

# %%
batch_size = 128


def rescale(images, labels):
    """Scale a batch of uint8 images to float32 in [0, 1]; keep the labels."""
    return tf.cast(images, tf.float32) / 255, labels


def make_dataset(images, labels, shuffle):
    """Return batches of (scaled images, labels), reshuffled every epoch if shuffle."""
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=42, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size).map(rescale, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


x_train_uint8 = x_train_raw[train_idx][..., np.newaxis]
x_val_uint8 = x_train_raw[val_idx][..., np.newaxis]
train_ds = make_dataset(x_train_uint8, y_train, shuffle=True)
val_ds = make_dataset(x_val_uint8, y_val, shuffle=False)
train_ds.element_spec

# %% [markdown]
# The first dimension is `None` because the last batch is smaller. One batch holds 128
# scaled images and their labels:

# %%
images, labels = next(iter(train_ds))
print("images:", images.shape, images.dtype, "| labels:", labels.shape, labels.dtype)
print(
    f"batches per epoch: {train_ds.cardinality().numpy()} (= ceil({len(y_train):,} / {batch_size}))"
)
plots.image_grid(
    images[:10].numpy(),
    titles=labels[:10].numpy().tolist(),
    title="First images of a shuffled batch",
)

# %% [markdown]
# `model.fit(train_ds, validation_data=val_ds, epochs=epochs)` takes these datasets
# directly; notebook 04 trains that way.
#
# ### How the article did it
#
# The article rescaled and batched with Keras 2's image generator and trained with
# `fit_generator`, roughly like this (do not run it: it no longer works):
#
# ```python
# from keras.preprocessing.image import ImageDataGenerator
#
# datagen = ImageDataGenerator(rescale=1.0 / 255)
# train_generator = datagen.flow(train_images, train_labels_onehot, batch_size=128)
# test_generator = datagen.flow(test_images, test_labels_onehot, batch_size=128)
# model.fit_generator(train_generator, epochs=10, validation_data=test_generator)
# ```
#
# > **Note: the article** imports `ImageDataGenerator` from `keras.preprocessing.image`. In
# > Keras 3 that class is gone (TensorFlow's Keras 2 documentation had already marked it
# > deprecated, "not recommended for new code"), and so is
# > `fit_generator`: the import fails, as the next cell shows. The fix: build the batches with
# > `tf.data` as above (or scale the arrays once up front), and pass them to `model.fit`.
# > For data augmentation, its other use, Keras 3 has preprocessing layers such as
# > `keras.layers.RandomRotation`.

# %%
try:
    from keras.preprocessing.image import ImageDataGenerator  # noqa: F401
except ImportError as error:
    print(f"{type(error).__name__}: {error}")
print("model.fit_generator exists:", hasattr(keras.Model, "fit_generator"))

# %% [markdown]
# ### Check that both give the same batches
#
# With `shuffle=False`, `ImageDataGenerator(rescale=1/255).flow(x, y, batch_size=128)` gave
# the images in order, 128 at a time, each batch converted to float32 and multiplied by
# `1/255`. That is a few lines of NumPy:


# %%
def numpy_batches(images, labels):
    """Yield (rescaled images, labels) in order, as ImageDataGenerator(rescale=1/255) did."""
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].astype(np.float32)
        batch *= 1 / 255  # the generator multiplied by `rescale`
        yield batch, labels[start : start + batch_size]


# %% [markdown]
# Compare them batch by batch with the unshuffled `tf.data` pipeline on the validation set.
# Multiplying by 1/255 and dividing by 255 can round the last of float32's 24 bits
# differently, so the pixels are compared to within 1e-7 (far below anything a model
# notices); the batch sizes, the order and the labels must be identical.

# %%
# NBVAL_CHECK_OUTPUT
old_batches = list(numpy_batches(x_val_uint8, y_val))
new_batches = [(images.numpy(), labels.numpy()) for images, labels in val_ds]
assert len(old_batches) == len(new_batches)
largest_difference = 0.0
for (old_images, old_labels), (new_images, new_labels) in zip(
    old_batches, new_batches, strict=True
):
    assert old_images.shape == new_images.shape
    assert np.array_equal(old_labels, new_labels)
    np.testing.assert_allclose(old_images, new_images, rtol=0, atol=1e-7)
    largest_difference = max(largest_difference, float(np.abs(old_images - new_images).max()))
print(f"{len(new_batches)} batches match; last batch has {len(new_batches[-1][1])} images")
print(f"largest pixel difference: {largest_difference:.1e}")

# %% [markdown]
# And the pipeline's images are exactly the arrays scaled up front:

# %%
assert np.array_equal(np.concatenate([images for images, _ in new_batches]), x_val)

# %% [markdown]
# ## Use the helper from now on
#
# The later notebooks start with one line, `data.prepare_mnist()`, which does exactly the
# steps of this notebook: load, split 6,000 validation images off the training set with
# seed 42, scale to float32 in [0, 1], add the channel axis, integer labels (read it in
# `helpers/data.py`). Check that it returns the same arrays as built here:

# %%
# NBVAL_CHECK_OUTPUT
prepared = data.prepare_mnist()
ours = ((x_train, y_train), (x_val, y_val), (x_test, y_test))
for split, (theirs_xy, ours_xy) in zip(
    ["train", "validation", "test"], zip(prepared, ours, strict=True), strict=True
):
    same = all(np.array_equal(a, b) for a, b in zip(theirs_xy, ours_xy, strict=True))
    print(f"{split:<10} images {theirs_xy[0].shape}: same as this notebook: {same}")
del prepared, ours  # a second set of float32 images: let it go once checked

# %% [markdown]
# In fast mode most later notebooks pass a smaller `n_train`, such as
# `data.prepare_mnist(n_train=6_000)`: the same steps, keeping only the first `n_train`
# training images. The validation and test sets stay whole.
#
# ## Summary
#
# - Convert to float32, then divide by 255, once (the article's pickle was already scaled);
#   add a channel axis for `Conv2D`.
# - Take the validation set from the training set; keep the test set for the very end.
# - Integer labels go with `sparse_categorical_crossentropy`, one-hot labels with
#   `categorical_crossentropy`; the loss is the same.
# - `tf.data` (`from_tensor_slices`, `shuffle`, `batch`, `map`, `prefetch`) replaces
#   `ImageDataGenerator`, which Keras 3 no longer has.
# - `helpers.data.prepare_mnist()` does all of this in one call.
#
# ## Exercises
#
# 1. What would a model see if you forgot to convert to float before an integer division,
#    `x_train_raw // 255`? Show the first digit that way next to the properly scaled one.
# 2. Build the validation pipeline with a batch size of 32. How many batches are there, and
#    how many images does the last one hold? Work it out first, then check.
# 3. Show that the split depends only on the seed: the same seed gives the same validation
#    labels, another seed a different set. How many images do the validation sets from
#    seeds 42 and 43 have in common, and how many would you expect by chance?

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
wrong = (x_train_raw[:1] // 255).astype(np.float32)
print("values after //:", np.unique(wrong))
plots.image_grid(
    np.concatenate([data.scale_images(x_train_raw[:1])[..., 0], wrong]),
    titles=["x / 255 (right)", "x // 255 (wrong)"],
)

# %% [markdown]
# **Solution to exercise 2**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
print(f"expected: {-(-n_val // 32)} batches, the last with {n_val % 32 or 32} images")
small_batches = tf.data.Dataset.from_tensor_slices((x_val_uint8, y_val)).batch(32).map(rescale)
sizes = [len(labels) for _, labels in small_batches]
print(f"got:      {len(sizes)} batches, the last with {sizes[-1]} images")

# %% [markdown]
# **Solution to exercise 3**


# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
def validation_indices(seed):
    """Return the indices of the validation images for a given seed."""
    return np.random.default_rng(seed).permutation(len(x_train_raw))[:n_val]


print("seed 42 twice, same split:", np.array_equal(validation_indices(42), validation_indices(42)))
shared = np.intersect1d(validation_indices(42), validation_indices(43)).size
print(
    f"seeds 42 and 43 share {shared} images; by chance about {n_val * n_val / len(x_train_raw):.0f}"
)
