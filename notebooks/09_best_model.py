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
# # 09 · Train the best model
#
# Combine augmentation, BatchNorm, a one-cycle schedule and label smoothing into the
# strongest single model this course trains on a laptop CPU, check it over three seeds,
# average the three into an ensemble, and look at the digits it still gets wrong.
#
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mnist-cnn-course/mnist-cnn-course/main?urlpath=lab/tree/notebooks/09_best_model.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-cnn-course/mnist-cnn-course/blob/main/notebooks/09_best_model.ipynb)
#
# [Previous: 08 · Compare architectures](08_architectures.ipynb) · [Next: 10 · Speed run](10_speed_run.ipynb)

# %% [markdown]
# ## What you will learn
#
# - how the ideas of notebooks 07 and 08 add up: augmentation, conv-BatchNorm blocks, a
#   one-cycle schedule, label smoothing;
# - why one run is not a result: the mean over seeds;
# - how averaging the probabilities of a few models (an ensemble) helps;
# - what the last few dozen errors on MNIST look like, and how many of them are the data's
#   fault rather than the model's.
#
# ## Before you start
#
# It needs only the MNIST data and trains its own models. It saves them in `models/`
# (`models/fast/` in fast mode): `best_model_seed0.keras`, `best_model_seed1.keras`,
# `best_model_seed2.keras`, and a copy of the most accurate one as `best_model.keras`, which
# later notebooks can load. In full mode (3 seeds x 20 epochs on 60,000 images) it takes
# about 36 minutes on a 2-core laptop CPU: about 12 minutes per seed.

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

import shutil
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf

from helpers import architectures, augment, config, data, plots, saving

config.set_seed(deterministic=False)  # speed matters more here than bit-for-bit repeats
FAST = config.fast_mode()
print(config.describe_mode())
print("TensorFlow", tf.__version__, "| Keras", keras.__version__)

# %% [markdown]
# ## Load the data
#
# The recipe below was chosen beforehand on the course's validation split (54,000 images
# for training, 6,000 for validation). It has a fixed number of epochs and no early
# stopping, so nothing is chosen on validation data any more: the 6,000 validation images
# can join the training set. More data is the cheapest accuracy there is. The test set is
# untouched until the end. Fast mode trains on 2,000 + 6,000 images.

# %%
n_train = 2_000 if FAST else None
(x_train, y_train), (x_val, y_val), (x_test, y_test) = data.prepare_mnist(n_train=n_train)
x_train = np.concatenate([x_train, x_val])
y_train = np.concatenate([y_train, y_val])
print(f"training images: {x_train.shape}")

# %%
# NBVAL_CHECK_OUTPUT
print("test:", x_test.shape, x_test.dtype, "| labels", y_test.shape)
print("test images per digit:", np.bincount(y_test).tolist())

# %% [markdown]
# ## Build the model
#
# `architectures.build_best_cnn()` stacks conv-BatchNorm-ReLU blocks, VGG-style: 32
# filters at 28x28, pooling, two convolutions of 64 at 14x14, pooling, two of 128 at 7x7,
# then dropout and the softmax. Notebook 08 showed why: stacked 3x3 convolutions with
# BatchNorm learn fast and well. It spends its 341,162 parameters on convolutions, not on
# one huge dense layer.

# %%
# NBVAL_CHECK_OUTPUT
model = architectures.build_best_cnn()
print(f"{model.name}: {model.count_params():,} parameters")
for layer in model.layers:
    if isinstance(layer, keras.layers.Conv2D | keras.layers.MaxPooling2D | keras.layers.Dense):
        print(f"  {layer.name:<12} -> {layer.output.shape}")

# %% [markdown]
# ## Set up the recipe
#
# Each ingredient earned its place in trials on the validation split:
#
# - **Augmentation** (notebook 07): rotations up to 10°, shifts up to 10%, zooms of ±10%,
#   new every epoch; it lets the model train longer without memorising the images.
# - **One-cycle schedule**: Adam warms up to a peak learning rate of 0.003 over the first
#   fifth of the steps, then decays along a cosine to zero. The large steps explore, the
#   tiny last ones settle into a good minimum.
# - **Label smoothing 0.1**: the target for a "3" is 0.91 for "3" and 0.01 for each other
#   digit, instead of exactly 1 and 0. The model stops pushing its probabilities to
#   certainty on easy images, which generalises slightly better. It also changes what the
#   numbers below look like: even a model that matched every target exactly would have a
#   loss of about 0.50 (the cross-entropy of the smoothed target with itself,
#   $-(0.91 \ln 0.91 + 9 \times 0.01 \ln 0.01)$), and its top probability would be 0.91.
#   So a training loss that levels off near 0.5 at almost perfect training accuracy, and
#   top probabilities that rarely go much above 0.91, are what label smoothing asks for,
#   not a sign that something is broken. Keras' label smoothing needs one-hot labels, so
#   the pipeline turns the labels into one-hot vectors.
# - **20 epochs, batch 128**: about 12 minutes per seed on 2 cores.
#
# How the size was chosen: a first version of this model had one convolution at 7x7 and
# trained for 12 epochs. According to one earlier run of the validation trial that
# `python -m helpers.maintainer.bench --best-recipe-trial` reruns, trained on the 54,000
# training images it read 99.52% of the 6,000 validation images, and this one, with the
# second convolution at 7x7 and 20 epochs, read 99.58% (25 errors instead of 29), for
# about two and a half times the training time. One
# seed each, so the difference is small evidence. `python -m helpers.maintainer.bench
# --best-recipe-trial` reruns that trial (about 20 minutes); `architectures.build_best_cnn(
# convs_at_7x7=1)` builds the first version.

# %%
epochs = 1 if FAST else 20
batch_size = 128
peak_lr = 3e-3
seeds = [0, 1] if FAST else [0, 1, 2]
models_dir = config.models_dir()
steps = epochs * int(np.ceil(len(x_train) / batch_size))
print(f"{epochs} epoch(s) of {steps // epochs} steps, seeds {seeds}, models in {models_dir}")

# %% [markdown]
# ## Train one model per seed
#
# The same recipe, three times, with a different seed each: it changes the initial
# weights, the order of the images, and the augmentations. Each model is saved as soon as
# it is trained.

# %%
test_probs = {}
minutes = {}
for seed in seeds:
    print(f"seed {seed}")
    config.set_seed(seed, deterministic=False)
    augmenter = augment.augmentation_layers(
        rotation_degrees=10, shift_fraction=0.1, zoom_fraction=0.1, seed=seed
    )
    train = augment.augmented_dataset(
        x_train, y_train, batch_size, augmenter, seed=seed, num_classes=10
    )
    model = architectures.build_best_cnn()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=architectures.one_cycle(peak_lr, steps)),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    # shuffle=False: the pipeline already reshuffles every epoch
    history = model.fit(train, epochs=epochs, shuffle=False, verbose=2)
    minutes[seed] = (time.perf_counter() - start) / 60
    model.save(models_dir / f"best_model_seed{seed}.keras")
    test_probs[seed] = model.predict(x_test, batch_size=1000, verbose=0)
    accuracy = (test_probs[seed].argmax(axis=1) == y_test).mean()
    print(f"seed {seed}: {minutes[seed]:.1f} min, test accuracy {accuracy:.2%}")

# %% [markdown]
# ## Measure: mean over seeds, and the ensemble
#
# The mean over the seeds is what the recipe reliably gives. The ensemble averages the
# three models' probabilities for each image and takes the most likely digit: where one
# model hesitates, the others often outvote it.

# %%
accuracies = {seed: (probs.argmax(axis=1) == y_test).mean() for seed, probs in test_probs.items()}
ensemble_probs = np.mean(list(test_probs.values()), axis=0)
ensemble_accuracy = (ensemble_probs.argmax(axis=1) == y_test).mean()
results = pd.DataFrame(
    {
        "test accuracy": {f"seed {s}": a for s, a in accuracies.items()},
        "errors (of 10,000)": {
            f"seed {s}": round((1 - a) * len(y_test)) for s, a in accuracies.items()
        },
        "training minutes": {f"seed {s}": m for s, m in minutes.items()},
    }
)
results.loc["mean over seeds"] = [
    np.mean(list(accuracies.values())),
    round((1 - np.mean(list(accuracies.values()))) * len(y_test)),
    np.mean(list(minutes.values())),
]
results.loc[f"ensemble of {len(seeds)}"] = [
    ensemble_accuracy,
    round((1 - ensemble_accuracy) * len(y_test)),
    np.sum(list(minutes.values())),
]
results.style.format(
    {"test accuracy": "{:.2%}", "errors (of 10,000)": "{:.0f}", "training minutes": "{:.1f}"}
)

# %%
mean_accuracy = np.mean(list(accuracies.values()))
target = 0.9965
print(
    f"mean test accuracy over {len(seeds)} seeds: {mean_accuracy:.2%} "
    f"({'meets' if mean_accuracy >= target else 'misses'} the {target:.2%} target); "
    f"ensemble: {ensemble_accuracy:.2%}"
)

# %%
fig, ax = plt.subplots(figsize=(7, 3))
ax.scatter([f"seed {s}" for s in accuracies], list(accuracies.values()), s=60, label="one model")
ax.scatter(["ensemble"], [ensemble_accuracy], s=90, marker="*", color="tab:red", label="ensemble")
ax.axhline(mean_accuracy, color="tab:blue", linestyle=":", label="mean over seeds")
ax.axhline(target, color="black", linestyle="--", linewidth=1, label="target 99.65%")
ax.set_ylabel("test accuracy")
ax.legend(fontsize=8, loc="lower right")
plt.show()

# %% [markdown]
# ## Save the best model
#
# Later notebooks load `best_model.keras`: a copy of the seed with the highest test
# accuracy. Picking the best of three *by test accuracy* flatters it a little; the fair
# figure for the recipe is the mean above.

# %%
best_seed = max(accuracies, key=accuracies.get)
best_path = models_dir / "best_model.keras"
shutil.copyfile(models_dir / f"best_model_seed{best_seed}.keras", best_path)
print(f"best seed: {best_seed}; saved as {best_path}")

# %% [markdown]
# ## Look at the remaining errors
#
# Every test digit that the ensemble gets wrong, with its label, the ensemble's answer, and
# the probability it gave that answer.

# %%
wrong = np.flatnonzero(ensemble_probs.argmax(axis=1) != y_test)
shown = wrong[:60]
titles = [
    f"#{i}: {y_test[i]}→{ensemble_probs[i].argmax()} {ensemble_probs[i].max():.0%}" for i in shown
]
plots.image_grid(
    x_test[shown],
    titles=titles,
    ncols=10,
    title=f"the ensemble's {len(wrong)} errors (test index: label→prediction, confidence)",
)

# %% [markdown]
# Look at them before blaming the model. In this full-mode run (23 errors; test indices in
# the titles):
#
# - **Look mislabeled**, to our eyes: #2130 is labelled 4 but has the closed loop of a 9;
#   #8316 and #5654 are labelled 7 but written as a Z-shaped 2; #3422 is labelled 6 and
#   reads as a 0; #9729 is labelled 5 and reads as a 6.
# - **Ambiguous**, where a person would hesitate too: the open-topped 9s read as 4s (#359,
#   #1232, #1901, #2293, #4761, #4823), the 7 with a hooked stroke read as a 1 (#1260), the
#   1 with a flag and a foot read as a 7 (#4201), the broken or scribbled digits (#659,
#   #6576).
# - **The model's fault**: a few a person reads without trouble, such as the 5s called 3
#   (#2597, #5937) and the 2 called 7 (#321).
#
# MNIST's labels come from the writers' forms, not from a second reader. At this level
# each further error removed is mostly a judgement call about such images, which is why
# the best published MNIST results sit around 99.8%, not 100%.
#
# The confusions that remain, counted:

# %%
pd.crosstab(
    pd.Series(y_test[wrong], name="label"),
    pd.Series(ensemble_probs[wrong].argmax(axis=1), name="ensemble's answer"),
)

# %% [markdown]
# ## Summary
#
# - Augmentation, conv-BatchNorm blocks, a one-cycle schedule and label smoothing together
#   reach well above 99.5% on MNIST in about 12 minutes per model on a 2-core CPU (this
#   run's mean over 3 seeds and the ensemble's accuracy are printed above).
# - Report the mean over seeds; the best seed alone flatters the recipe.
# - Averaging the probabilities of a few models is the easiest extra accuracy there is,
#   at the price of training and running each of them.
# - The remaining errors are a few dozen images, many of them ambiguous or mislabeled.

# %% [markdown]
# ## Exercises
#
# 1. Load `best_model.keras` from disk and check that it gives the accuracy reported for
#    its seed.
# 2. Test-time augmentation: average the best model's probabilities on the test set and on
#    four copies shifted by one pixel (up, down, left, right). Does it beat the model alone?
# 3. Of the ensemble's errors, how many are also wrong for every single seed?

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
loaded = saving.load_keras_model(best_path)
loaded_accuracy = (
    loaded.predict(x_test, batch_size=1000, verbose=0).argmax(axis=1) == y_test
).mean()
print(
    f"loaded {best_path.name}: {loaded_accuracy:.2%} (seed {best_seed} gave {accuracies[best_seed]:.2%})"
)

# %% [markdown]
# **Solution to exercise 2**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
n_tta = 2_000 if FAST else len(x_test)  # fast mode: the first 2,000 test images
x_tta, y_tta = x_test[:n_tta], y_test[:n_tta]
moves = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]
tta_probs = np.mean(
    [
        loaded.predict(augment.shift_images(x_tta, move), batch_size=1000, verbose=0)
        for move in moves
    ],
    axis=0,
)
alone = (loaded.predict(x_tta, batch_size=1000, verbose=0).argmax(axis=1) == y_tta).mean()
tta_accuracy = (tta_probs.argmax(axis=1) == y_tta).mean()
print(
    f"on {n_tta:,} test images: model alone {alone:.2%}, with test-time augmentation {tta_accuracy:.2%}"
)

# %% [markdown]
# **Solution to exercise 3**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
wrong_everywhere = [
    i for i in wrong if all(p[i].argmax() != y_test[i] for p in test_probs.values())
]
print(f"{len(wrong_everywhere)} of the ensemble's {len(wrong)} errors are wrong for every seed")
# Those are the images no model in the ensemble reads as labelled: mostly the ambiguous
# and mislabeled ones above.
