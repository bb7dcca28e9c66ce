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
# # 07 · Augment the data
#
# Train on randomly rotated, shifted and zoomed copies of the digits, so the network learns
# that a digit moved a little is still the same digit.
#
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mnist-cnn-course/mnist-cnn-course/main?urlpath=lab/tree/notebooks/07_augmentation.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-cnn-course/mnist-cnn-course/blob/main/notebooks/07_augmentation.ipynb)
#
# [Previous: 06 · Look inside the training and the model](06_visualization.ipynb) · [Next: 08 · Compare architectures](08_architectures.ipynb)

# %% [markdown]
# ## What you will learn
#
# - which changes keep a digit a digit (small rotations, shifts, zoom) and which change its
#   label (mirror images, large rotations);
# - how to build augmentation from Keras preprocessing layers inside a `tf.data` pipeline;
# - how much augmentation changes test accuracy, and accuracy on shifted and rotated digits;
# - how fast this pipeline is next to the article's `ImageDataGenerator`.
#
# ## Before you start
#
# This notebook is the first of the "beyond the article" part; it needs only the MNIST data
# (notebook 00 fetches it) and trains its own models, so it runs on its own. It trains the
# same small CNN twice, without and with augmentation, and writes nothing to disk. Full mode
# trains 8 epochs per model on 54,000 images; the README's table of run times gives how
# long its last full run took, and on how many CPU cores.

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

import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf
from IPython.display import Markdown, display

from helpers import architectures, augment, config, data, plots

config.set_seed()
FAST = config.fast_mode()
print(config.describe_mode())
print("TensorFlow", tf.__version__, "| Keras", keras.__version__)

# %% [markdown]
# ## Load the data
#
# The same split as notebook 04: 54,000 training images, 6,000 validation images taken from
# the training set, and the 10,000 test images. Fast mode keeps 6,000 training images.
#
# One change from notebook 02: the training images stay as they are stored, one byte
# (uint8, 0 to 255) per pixel, instead of four bytes of float32. The input pipeline below
# scales each batch to [0, 1] as it reads it, so the 54,000 training images take 42 MB in
# memory instead of 169 MB, and every copy that TensorFlow makes of them shrinks the same
# way. The validation and test images are scaled at once, as before (`scale=False` loads
# all three sets as bytes; `data.scale_images` is notebook 02's scaling step).

# %%
n_train = 6_000 if FAST else None
(x_train, y_train), (x_val, y_val), (x_test, y_test) = data.prepare_mnist(
    n_train=n_train, scale=False
)
x_val, x_test = data.scale_images(x_val), data.scale_images(x_test)
print(
    f"training images: {x_train.shape} {x_train.dtype}, {x_train.nbytes / 1e6:.0f} MB "
    f"(as float32 they would take {4 * x_train.nbytes / 1e6:.0f} MB)"
)

# %%
# NBVAL_CHECK_OUTPUT
print("validation:", x_val.shape, "| test:", x_test.shape, x_test.dtype)

# %% [markdown]
# ## See which changes keep a digit a digit
#
# Augmentation shows the network the same digit in ways it could plausibly have been
# written. That only helps if the changed image still shows the *same* digit. Here are five
# training digits, as they are and changed in six ways:

# %%
zoom_out = keras.layers.RandomZoom((0.1, 0.1), fill_mode="constant")  # exactly 10% smaller
examples = [int(np.flatnonzero(y_train == digit)[0]) for digit in (2, 6, 9, 7, 4)]
changes = {
    "original": lambda image: image,
    "mirrored": lambda image: image[:, ::-1],
    "upside down": lambda image: image[::-1, :],
    "rotated 180°": lambda image: np.rot90(image, 2),
    "rotated 10°": lambda image: augment.rotate_images(image[None], 10.0)[0],
    "shifted 3 px": lambda image: augment.shift_images(image[None], (2, 3))[0],
    "zoomed out 10%": lambda image: np.asarray(zoom_out(image[None], training=True))[0],
}
digits = data.scale_images(x_train[examples])  # to [0, 1], as the network will see them
pictures = [change(digit) for digit in digits for change in changes.values()]
titles = [f"{y_train[i]}: {name}" for i in examples for name in changes]
plots.image_grid(np.clip(pictures, 0, 1), titles=titles, ncols=len(changes))

# %% [markdown]
# The last three columns are still the digit in the first column. The middle three are
# not: a mirrored 2 is a backwards 2, which nobody writes, and a 6 rotated by 180° *is* a 9
# (and a 9 a 6); a 7 upside down is no digit at all. Training on those images would teach the
# network that a 6 may look like a 9, with the label "6": it would have to guess between
# them. So for digits we use:
#
# - rotations of at most about 10° (people slant their digits, but not by 90°);
# - shifts of up to a tenth of the image (2.8 pixels), since MNIST digits are centred by
#   mass but not perfectly;
# - zooms of up to a tenth in or out, because some people write bigger than others.
#
# No flips, and no large rotations. (For photos of cats, a mirror image is still a cat, and
# flips are the first augmentation people reach for. Whether a change keeps the label
# depends on the data.)

# %% [markdown]
# ## Build the augmentation layers
#
# Keras has a preprocessing layer for each change, and the function below stacks the
# three. They change images only when called with `training=True`, so at test time they
# pass images through untouched, and they fill the uncovered corners with black, the
# background of MNIST. `RandomRotation` measures its factor in turns, not degrees: 10° is
# 10/360 = 0.028 of a turn. (The cell's first line, `# @save helpers.augment`, copies it
# into `helpers/augment.py`, where notebook 09 imports it.)


# %%
# @save helpers.augment
def augmentation_layers(
    rotation_degrees: float = 10.0,
    shift_fraction: float = 0.1,
    zoom_fraction: float = 0.1,
    seed: int | None = None,
) -> keras.Sequential:
    """Return a ``keras.Sequential`` of RandomRotation, RandomTranslation and RandomZoom.

    Rotations are uniform in +-``rotation_degrees``, shifts in +-``shift_fraction`` of the
    image size (0.1 = 2.8 pixels), zooms in +-``zoom_fraction``; uncovered pixels are 0.
    Raises ``ValueError`` for a negative amount or a rotation of 180 degrees or more.
    """
    if min(rotation_degrees, shift_fraction, zoom_fraction) < 0 or rotation_degrees >= 180:
        raise ValueError(
            "rotation_degrees must be in [0, 180), shift_fraction and zoom_fraction 0 or more; "
            f"got {rotation_degrees}, {shift_fraction}, {zoom_fraction}"
        )
    fill = {"fill_mode": "constant", "fill_value": 0.0}
    return keras.Sequential(
        [
            keras.layers.RandomRotation(rotation_degrees / 360, seed=seed, **fill),
            keras.layers.RandomTranslation(shift_fraction, shift_fraction, seed=seed, **fill),
            keras.layers.RandomZoom(zoom_fraction, seed=seed, **fill),
        ],
        name="augmentation",
    )


# %%
# NBVAL_CHECK_OUTPUT
rotation_degrees, shift_fraction, zoom_fraction = 10, 0.1, 0.1
augmenter = augmentation_layers(
    rotation_degrees, shift_fraction, zoom_fraction, seed=config.DEFAULT_SEED
)
for layer in augmenter.layers:
    print(f"{type(layer).__name__:<18}", layer.get_config().get("factor") or layer.height_factor)
print(
    f"rotations up to {rotation_degrees}°, shifts up to {shift_fraction:.0%} of the image "
    f"({shift_fraction * 28:.1f} pixels), zooms up to {zoom_fraction:.0%}"
)

# %% [markdown]
# Each call draws new random changes. Eight digits, each augmented seven times:

# %%
originals = data.scale_images(x_train[:8])
copies = [np.asarray(augmenter(originals, training=True)) for _ in range(7)]
grid = np.stack([originals, *copies], axis=1).reshape(-1, 28, 28, 1)
plots.image_grid(np.clip(grid, 0, 1), ncols=8, title="left: original; then 7 augmented copies")

# %% [markdown]
# ## Put the augmentation in a `tf.data` pipeline
#
# > **Note: the article** imported `ImageDataGenerator` from `keras.preprocessing.image` (to
# > rescale the images, not to augment them). Keras 3 removed it, so the import fails:
#
# %%
# NBVAL_CHECK_OUTPUT
try:
    from keras.preprocessing.image import ImageDataGenerator  # noqa: F401
except ImportError as error:
    print("ImportError:", str(error).split(" (")[0])

# %% [markdown]
# > The fix is the pair you see here: Keras preprocessing layers for the changes, and
# > `tf.data` for the batches.
#
# The pipeline keeps the images in a tensor, as bytes, and shuffles their *indices* in a
# new order every epoch. (`shuffle` keeps a buffer of what it shuffles: shuffling the images
# themselves would put a second copy of the training set in memory; the indices of 54,000
# images take under half a megabyte.) It cuts the indices into batches, gathers each
# batch's images and labels, scales that batch to [0, 1], and applies the augmentation
# layers to *whole batches* at once, in TensorFlow's own threads; `prefetch` prepares the
# next batches while the model trains on this one, so every epoch sees new random copies.
# Without an augmenter it is the same minus the augmentation. Notebook 09 trains with label
# smoothing, which needs one-hot labels: that is what `num_classes` is for.
#
# Turning a NumPy array into a tensor copies it; a tensor is used as it is. So the next
# cell converts the training images once, and the pipelines with and without augmentation
# share that tensor instead of making one each. Memory still adds up: when a pipeline is
# first read, `tf.data` makes a working copy of a tensor its `map` function uses, one per
# pipeline, in TensorFlow 2.21 (TensorFlow issue #62788 describes it). That is one more
# reason to keep the images as bytes: each of those copies is a quarter of the size.


# %%
# @save helpers.augment
def augmented_dataset(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    augmenter: keras.Layer | None = None,
    shuffle: bool = True,
    seed: int = 0,
    num_classes: int | None = None,
) -> tf.data.Dataset:
    """Return a ``tf.data.Dataset`` of (images, labels) batches, augmented by ``augmenter``.

    ``x`` is uint8 pixels 0..255, kept as bytes and scaled to [0, 1] batch by batch, or
    floats already in [0, 1], kept as float32; a uint8 or float32 tensor is used as it
    is, not copied. Shuffles indices, not images. With ``num_classes`` the labels become one-hot
    vectors. Raises ``ValueError`` unless ``x`` is (n, 28, 28, 1) with n labels in ``y``
    and ``batch_size`` is at least 1.
    """
    if np.shape(x)[1:] != (28, 28, 1) or len(x) != len(y) or batch_size < 1:
        raise ValueError(
            "expected x of shape (n, 28, 28, 1), n labels and batch_size >= 1; got "
            f"x {np.shape(x)}, {len(y)} labels, batch_size {batch_size}"
        )
    images = tf.convert_to_tensor(x)
    if images.dtype != tf.uint8:
        images = tf.cast(images, tf.float32)  # no copy if it is float32 already
    labels = tf.constant(y) if num_classes is None else tf.one_hot(y, num_classes)

    def load_batch(indices: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        batch = tf.gather(images, indices)
        if batch.dtype == tf.uint8:
            batch = tf.cast(batch, tf.float32) / 255.0  # bytes to [0, 1], this batch only
        if augmenter is not None:
            batch = augmenter(batch, training=True)
        return batch, tf.gather(labels, indices)

    order = tf.data.Dataset.range(len(x))
    if shuffle:
        order = order.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    dataset = order.batch(batch_size).map(load_batch, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


# %%
batch_size = 128
train_images = tf.convert_to_tensor(x_train)  # one copy, uint8, for both pipelines
train_augmented = augmented_dataset(train_images, y_train, batch_size, augmenter, seed=42)
train_plain = augmented_dataset(train_images, y_train, batch_size, augmenter=None, seed=42)
images, labels = next(iter(train_augmented))
print("one batch:", images.shape, images.dtype, "| labels:", labels.shape)

# %% [markdown]
# ## Measure the input pipeline against `ImageDataGenerator`
#
# `ImageDataGenerator` with `rotation_range`, `width_shift_range`, `height_shift_range` and
# `zoom_range` worked one image at a time: for each image it drew random parameters, built an
# affine matrix, and called `scipy.ndimage.affine_transform`, in a Python loop, batch by
# batch. It cannot be imported any more, so `augment.legacy_flow()` re-implements exactly
# that in NumPy/SciPy, with the same ranges (read it in `helpers/augment.py`). This is our
# re-implementation, not Keras 2's code: it measures the *method*, not that exact release.
#
# Both produce batches of 128 augmented images; we time how many images per second each
# delivers on this machine, in this process, one after the other, without training. A few
# batches first, so start-up costs are not counted.


# %%
def images_per_second(batches, n_batches):
    """Pull ``n_batches`` batches from an iterator; return images per second."""
    for _ in range(3):
        next(batches)
    start = time.perf_counter()
    n_images = sum(len(next(batches)[0]) for _ in range(n_batches))
    return n_images / (time.perf_counter() - start)


n_batches = 20 if FAST else 200
legacy_settings = {
    "rotation_range": rotation_degrees,
    "width_shift_range": shift_fraction,
    "height_shift_range": shift_fraction,
    "zoom_range": zoom_fraction,
}
speeds = {
    "tf.data + Keras layers": images_per_second(iter(train_augmented.repeat()), n_batches),
    "ImageDataGenerator (SciPy re-implementation)": images_per_second(
        # ImageDataGenerator took float images: scale them first (a copy, for this cell only)
        augment.legacy_flow(
            data.scale_images(x_train), y_train, batch_size, seed=42, **legacy_settings
        ),
        n_batches,
    ),
}
ratio = speeds["tf.data + Keras layers"] / speeds["ImageDataGenerator (SciPy re-implementation)"]
for name, speed in speeds.items():
    print(f"{name:<46} {speed:9,.0f} images/s")
print(f"tf.data pipeline / ImageDataGenerator-style loop: {ratio:.1f}x")

# %%
fig, ax = plt.subplots(figsize=(7, 2.2))
ax.barh(list(speeds), list(speeds.values()), color=["tab:blue", "tab:gray"])
ax.set_xlabel("augmented images per second (higher is better)")
ax.invert_yaxis()
plt.show()

# %%
display(
    Markdown(
        f"On this machine, in this run, the `tf.data` pipeline delivered {ratio:.1f} times the "
        "images per second of the `ImageDataGenerator`-style loop: it was "
        f"{'faster' if ratio > 1 else 'not faster'}, with no model training beside either."
    )
)

# %% [markdown]
# The exact numbers depend on the machine and on what else it is doing: the `map` can
# work on several batches at once, on as many cores as the machine has, while the Python
# loop transforms one image at a time on one core. One thing this measurement leaves out
# favours `tf.data` during training: its batches are prepared in background threads
# *while* the model trains, whereas the Python loop runs in the same thread as the
# training step unless you start workers for it.

# %% [markdown]
# ## Train the same model with and without augmentation
#
# A fair comparison changes one thing only. Both runs use the two-block CNN of the Keras
# examples (`architectures.build_two_block_cnn()`: two conv + pool blocks; notebook 08
# shows its code and compares it with others), the same seed, Adam with learning rate
# 0.001, and the same number of epochs. Only the training pipeline differs.

# %%
epochs = 1 if FAST else 8
pipelines = {"without augmentation": train_plain, "with augmentation": train_augmented}
trained, histories = {}, {}
for name, pipeline in pipelines.items():
    print(name)
    config.set_seed()
    model = architectures.build_two_block_cnn()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    # shuffle=False: the pipeline already reshuffles every epoch
    histories[name] = model.fit(
        pipeline, epochs=epochs, validation_data=(x_val, y_val), shuffle=False, verbose=2
    )
    trained[name] = model

# %% [markdown]
# The training accuracy is measured on the images each model trained on, so for the
# augmented model on moved copies:

# %%
last = {name: history.history["accuracy"][-1] for name, history in histories.items()}
lower = last["with augmentation"] < last["without augmentation"]
display(
    Markdown(
        f"In the last epoch, training accuracy was {last['with augmentation']:.2%} with "
        f"augmentation and {last['without augmentation']:.2%} without: "
        + (
            "lower with it, because the moved copies are harder than the originals."
            if lower
            else "not lower with it, although the moved copies are harder than the originals."
        )
    )
)

# %% [markdown]
# What counts is the accuracy on images the model has not seen.
#
# ## Build shifted and rotated test sets
#
# The test digits are centred like the training digits. Handwriting in the wild is not: a
# digit cut out of a form may sit a few pixels off centre, or slant. To measure robustness
# we make two moved copies of the test set: each digit shifted by 3 pixels up, down, left or
# right (chosen at random), and each digit rotated by +15° or -15°. These are more than the
# augmentation ever showed (at most 2.8 pixels along each axis, and 10°).

# %%
rng = np.random.default_rng(0)
directions = np.array([[-3, 0], [3, 0], [0, -3], [0, 3]])  # (down, right) in pixels
shifts = directions[rng.integers(0, 4, size=len(x_test))]
angles = rng.choice([-15.0, 15.0], size=len(x_test))
test_sets = {
    "test": x_test,
    "test shifted 3 px": augment.shift_images(x_test, shifts),
    "test rotated ±15°": augment.rotate_images(x_test, angles),
}

# %%
# NBVAL_CHECK_OUTPUT
for name, images in test_sets.items():
    print(f"{name:<18} {images.shape}")
print("shifted up, down, left, right:", [int((shifts == d).all(axis=1).sum()) for d in directions])
print("rotated -15° / +15°:", int((angles < 0).sum()), "/", int((angles > 0).sum()))

# %%
plots.image_grid(
    np.concatenate([images[:8] for images in test_sets.values()]),
    titles=[name.replace("test ", "") for name in test_sets for _ in range(8)],
    ncols=8,
    title="the same eight test digits: as they are, shifted, rotated",
)

# %% [markdown]
# ## Measure what augmentation buys
#
# Each trained model, on each of the three test sets, all 10,000 images:

# %%
accuracy = pd.DataFrame(
    {
        name: {
            test_name: model.evaluate(images, y_test, batch_size=1000, verbose=0)[1]
            for test_name, images in test_sets.items()
        }
        for name, model in trained.items()
    }
)
accuracy.style.format("{:.2%}")

# %%
ax = accuracy.plot.bar(figsize=(7, 3.5), rot=0, color=["tab:gray", "tab:blue"])
ax.set_ylim(max(0.0, accuracy.to_numpy().min() - 0.05), 1.0)
ax.set_ylabel("accuracy")
ax.set_title(f"two-block CNN, {epochs} epoch(s), same seed")
ax.legend(loc="lower left")
plt.show()

# %% [markdown]
# The same table in words, in percentage points:

# %%
plain, augmented = accuracy["without augmentation"], accuracy["with augmentation"]
gap = (augmented["test"] - plain["test"]) * 100
lines = [
    f"- On the centred test set: {augmented['test']:.2%} with augmentation, "
    f"{plain['test']:.2%} without ({gap:+.2f} points)."
]
for test_name in ["test shifted 3 px", "test rotated ±15°"]:
    lost_plain = (plain["test"] - plain[test_name]) * 100
    lost_augmented = (augmented["test"] - augmented[test_name]) * 100
    saved = lost_plain - lost_augmented
    verdict = f"augmentation saved {saved:.1f} points" if saved > 0 else "augmentation saved none"
    lines.append(
        f"- On the {test_name.removeprefix('test ')} digits the model trained without augmentation "
        f"lost {lost_plain:.1f} points, the augmented one {lost_augmented:.1f}: {verdict}."
    )
display(Markdown("\n".join(lines)))

# %% [markdown]
# How much robustness augmentation buys depends on the change, and the lines above say
# how much for each in this run. "Lost" counts from each model's own accuracy on the
# centred test set; the table gives the accuracies themselves. Compare what it saved on
# the shifted digits, just beyond the 2.8 pixels it was trained with, with what it saved
# on rotations of 15°, half as much again as the 10° it saw, next to what the model
# trained without augmentation lost on each: where that model already copes, augmentation
# has little to save. A tenth of a point is 10 of the 10,000 test digits, so a difference
# of a few tenths is too small to call from one run with one seed. Augmentation needs no
# extra data and no extra parameters.

# %% [markdown]
# ## Summary
#
# - Augment only with changes that keep the label: for digits, small rotations, shifts
#   and zooms; never mirror images or large rotations (a 6 turned over is a 9).
# - Keras preprocessing layers (`RandomRotation`, `RandomTranslation`, `RandomZoom`) mapped
#   over batches in `tf.data` replace the removed `ImageDataGenerator`, and run in
#   background threads while the model trains.
# - Measure what augmentation buys where it should matter: on test digits moved the way
#   real handwriting moves, next to the centred test set, with the same model and epochs.
#
# Next, [notebook 08](08_architectures.ipynb) compares six architectures on equal terms.

# %% [markdown]
# ## Exercises
#
# 1. Turn the test 6s upside down. What does the augmented model call them? What would
#    happen if the training data had contained upside-down 6s labelled "6"?
# 2. Make the augmentation much stronger (rotations of 45°, shifts of three tenths of the
#    image) and look at a grid of augmented digits. Which ones are still readable?
# 3. Measure accuracy against the size of the shift (0 to 5 pixels, to the right) for both
#    trained models, and plot the two curves.

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
sixes = x_test[y_test == 6]
predicted = trained["with augmentation"].predict(np.rot90(sixes, 2, axes=(1, 2)), verbose=0)
counts = np.bincount(predicted.argmax(axis=1), minlength=10)
print(f"{len(sixes)} sixes turned upside down are predicted as:")
print({digit: int(n) for digit, n in enumerate(counts) if n})
print(f"called a 9: {counts[9] / len(sixes):.0%}")
# Whatever the model calls them, they are no longer 6s to a reader: an upside-down 6 is a
# 9 shape. Had the training data held upside-down 6s labelled "6", the network would see
# the 9 shape under two labels and could only guess between 6 and 9 for real 9s.

# %% [markdown]
# **Solution to exercise 2**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
strong = augmentation_layers(rotation_degrees=45, shift_fraction=0.3, seed=1)
strong_copies = [np.asarray(strong(originals, training=True)) for _ in range(7)]
strong_grid = np.stack([originals, *strong_copies], axis=1).reshape(-1, 28, 28, 1)
plots.image_grid(np.clip(strong_grid, 0, 1), ncols=8, title="rotations of 45°, shifts of 30%")
# Digits pushed partly out of the frame lose strokes, and 45° turns a 1 into a stroke that
# could be a 7's bar or a 4's arm: too strong for digits.

# %% [markdown]
# **Solution to exercise 3**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
pixels = range(6)
curves = {
    name: [
        model.evaluate(augment.shift_images(x_test, (0, p)), y_test, batch_size=1000, verbose=0)[1]
        for p in pixels
    ]
    for name, model in trained.items()
}
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, values in curves.items():
    ax.plot(list(pixels), values, marker="o", label=name)
ax.set_xlabel("shift to the right (pixels)")
ax.set_ylabel("test accuracy")
ax.legend()
plt.show()
