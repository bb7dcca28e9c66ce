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
# # 08 · Compare architectures
#
# Train six CNN designs, from the article's to a small ResNet, on equal terms, and see what
# each idea buys in accuracy and costs in parameters and time.
#
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mnist-cnn-course/mnist-cnn-course/main?urlpath=lab/tree/notebooks/08_architectures.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-cnn-course/mnist-cnn-course/blob/main/notebooks/08_architectures.ipynb)
#
# [Previous: 07 · Augment the data](07_augmentation.ipynb) · [Next: 09 · Train the best model](09_best_model.ipynb)

# %% [markdown]
# ## What you will learn
#
# - how to compare models fairly: same data, same epochs, same optimizer and schedule;
# - four ideas from the history of CNNs, each in a model sized for 28x28 digits: stacked
#   3x3 convolutions with BatchNorm (VGG), residual connections (ResNet),
#   depthwise-separable convolutions (MobileNet) and parallel branches (Inception);
# - why the number of parameters says little about the time a model takes;
# - what a one-cycle learning-rate schedule looks like.
#
# ## Before you start
#
# Notebook 03 explains the article's CNN; this one builds every model with
# `helpers/architectures.py`, so it runs on its own with only the MNIST data. It writes
# nothing to disk. `python -m helpers.maintainer.bench` reruns the same measurements from the command
# line. In full mode (3 epochs for each of the six models on 54,000 images) it takes about
# 7 minutes on a laptop CPU.

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

import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf
from matplotlib.ticker import PercentFormatter

from helpers import architectures, config, data

config.set_seed(deterministic=False)  # speed matters more here than bit-for-bit repeats
FAST = config.fast_mode()
print(config.describe_mode())
print("TensorFlow", tf.__version__, "| Keras", keras.__version__)

# %% [markdown]
# ## Load the data
#
# The course's split: 54,000 training images, 6,000 validation images from the training
# set, and all 10,000 test images (fast mode: 6,000 training images).

# %%
n_train = 6_000 if FAST else None
(x_train, y_train), (x_val, y_val), (x_test, y_test) = data.prepare_mnist(n_train=n_train)
print(f"training images: {x_train.shape}")

# %%
# NBVAL_CHECK_OUTPUT
print("validation:", x_val.shape, "| test:", x_test.shape)

# %% [markdown]
# ## Fix the terms of the comparison
#
# A comparison is only fair if the models differ and nothing else does. Every model gets
# the same training images, the same seed, the same batch size and number of epochs, and
# the same optimizer: Adam with a *one-cycle* learning-rate schedule. The schedule starts
# low, rises for the first 20% of the steps (a warm-up, so the first large, random
# gradients do no harm), and then falls along a cosine to zero, so training ends with
# small, careful steps. `architectures.one_cycle()` builds it from Keras' `CosineDecay`.

# %%
epochs = 1 if FAST else 3
batch_size = 128
peak_lr = 2e-3
steps = epochs * int(np.ceil(len(x_train) / batch_size))

schedule = architectures.one_cycle(peak_lr, steps)
fig, ax = plt.subplots(figsize=(6, 2.5))
ax.plot([float(schedule(step)) for step in range(steps)])
ax.set_xlabel("training step")
ax.set_ylabel("learning rate")
ax.set_title(f"one cycle over {epochs} epoch(s) of {steps // epochs} steps")
plt.show()

# %% [markdown]
# ## Build the six models
#
# All six end in a 10-way softmax and are sized for 28x28 digits. Each is one short function
# in `helpers/architectures.py`; `model.summary()` shows any of them layer by layer.
#
# | model | the idea | from |
# | --- | --- | --- |
# | article CNN | one convolution, then a big dense layer | the article |
# | two-block CNN | two conv + pool blocks, a tiny classifier | the Keras examples |
# | VGG-style | stacks of 3x3 convolutions, each followed by BatchNorm | VGG (2014), BatchNorm (2015) |
# | small ResNet | each block adds its input to its output (a shortcut) | ResNet (2015) |
# | MobileNet-style | a 3x3 filter per channel, then a 1x1 convolution to mix channels | MobileNet (2017) |
# | Inception-style | 1x1, 3x3, 5x5 and pooling branches side by side, concatenated | GoogLeNet (2014) |

# %%
# NBVAL_CHECK_OUTPUT
builders = architectures.comparison_builders()
for name, build in builders.items():
    print(f"{name:<36} {build().count_params():>9,} parameters")

# %% [markdown]
# ## Train each model
#
# One loop, the same for every model: seed, build, compile with a fresh schedule, train, and
# time the training. The accuracy is measured afterwards on the validation and the test
# set. Seconds per epoch is the whole `fit` time divided by the epochs (it includes the
# one-off cost of tracing the model in the first epoch).

# %%
rows = []
trained = {}
for name, build in builders.items():
    config.set_seed(deterministic=False)
    model = build()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=architectures.one_cycle(peak_lr, steps)),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    rows.append(
        {
            "model": name,
            "parameters": model.count_params(),
            "seconds per epoch": seconds / epochs,
            "validation accuracy": model.evaluate(x_val, y_val, batch_size=1000, verbose=0)[1],
            "test accuracy": model.evaluate(x_test, y_test, batch_size=1000, verbose=0)[1],
        }
    )
    trained[name] = model
    print(
        f"{name:<36} {seconds / epochs:6.1f} s/epoch  test accuracy {rows[-1]['test accuracy']:.2%}"
    )

# %% [markdown]
# ## Compare them
#
# The table, then the same numbers as a picture: time per epoch across, test accuracy up,
# the area of each dot proportional to the number of parameters. The best models sit top
# left.

# %%
results = pd.DataFrame(rows).set_index("model")
results.style.format(
    {
        "parameters": "{:,}",
        "seconds per epoch": "{:.1f}",
        "validation accuracy": "{:.2%}",
        "test accuracy": "{:.2%}",
    }
)

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
sizes = 600 * results["parameters"] / results["parameters"].max()
ax.scatter(results["seconds per epoch"], results["test accuracy"], s=sizes + 20, alpha=0.6)
# Label the points in order of accuracy, alternately above and below, so that two models
# with similar scores do not write over each other.
for i, (name, row) in enumerate(results.sort_values("test accuracy").iterrows()):
    ax.annotate(
        f"{name.split(' (')[0]}\n{int(row['parameters']):,} params",
        (row["seconds per epoch"], row["test accuracy"]),
        textcoords="offset points",
        xytext=(10, 6 if i % 2 else -20),
        fontsize=8,
    )
ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
ax.set_xlabel("seconds per epoch on this machine")
ax.set_ylabel("test accuracy")
ax.set_title(f"{epochs} epoch(s) each, same data, Adam + one-cycle schedule")
ax.margins(x=0.3, y=0.2)
ax.set_xlim(left=0)
plt.show()

# %% [markdown]
# ## What each idea buys and costs
#
# Read these against your own table: the ranking of close models can change with the seed,
# and the times depend on the machine and on what else it is doing: read the seconds in the
# table above as rough proportions, not as constants.
#
# - **The article's CNN** has the most parameters by far (almost all of them in one dense
#   layer that looks at every pixel position separately) but does little computation: one
#   convolution on a single input channel. It is the fastest per epoch and the least
#   accurate after 3 epochs.
# - **Two conv + pool blocks** (the Keras example) learn shapes made of shapes: 20 times
#   fewer parameters than the article's CNN and more accurate, for about twice the time.
# - **VGG-style stacks with BatchNorm** run two 3x3 convolutions at full resolution before
#   each pooling. BatchNorm rescales every layer's outputs during training, which lets the
#   network train fast at a high learning rate: above 99% in 3 epochs. The price is
#   computation: the second 3x3 convolution at 28x28 with 32 channels costs 7 million
#   multiply-adds per image, eight times the whole article CNN, so it is the slowest here
#   despite its small size.
# - **The small ResNet** adds shortcuts, so each block only has to learn a correction to its
#   input. Its strided blocks shrink the image early, so it has three times the VGG net's
#   parameters at no more time per epoch, and it is the most accurate of the six in the
#   table. At 50 or 100 layers the shortcuts are what makes training possible at all.
# - **The MobileNet-style net** replaces each 3x3 convolution by a 3x3 filter per channel
#   plus a 1x1 mix: about 8 times fewer multiply-adds than the VGG net. In training on this
#   CPU far less of that saving shows up in the seconds: depthwise convolutions and their
#   gradients are poorly optimised compared with ordinary ones. At inference it is
#   faster (exercise 2). Separable convolutions pay off on phones and on hardware built for
#   them; measure before you count on them.
# - **The Inception-style net** looks at 1x1, 3x3 and 5x5 neighbourhoods side by side and
#   lets the next layer pick; the 1x1 "reduce" convolutions keep that affordable. It cost
#   about as much time as the MobileNet-style net here, at an accuracy close to the VGG
#   net's.
#
# The lesson that carries over: count multiply-adds and memory traffic, not parameters,
# when you care about time; and measure on the machine you will use.

# %% [markdown]
# ## Summary
#
# - Compare models on equal terms: same data, seed, epochs, optimizer and schedule.
# - Parameters and time are different costs: the article's CNN has the most parameters and
#   is among the fastest; the VGG-style net has few parameters and is among the slowest.
# - Convolution stacks, BatchNorm and shortcuts buy accuracy; separable convolutions and
#   1x1 reductions buy arithmetic, which a CPU does not always turn into time.
#
# [Notebook 09](09_best_model.ipynb) combines these ideas with augmentation and a longer
# schedule into the strongest model the course trains.

# %% [markdown]
# ## Exercises
#
# 1. Count the parameters of the VGG-style net's first two convolutions and their BatchNorm
#    layers by hand, and check with `model.summary()`.
# 2. Time `predict` on the 10,000 test images for each trained model. Is the ranking the
#    same as for training?
# 3. Work out the multiply-adds per image of the article CNN's convolution and of the
#    VGG-style net's second convolution. Which number explains the times better, the
#    parameters or the multiply-adds?

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
# conv 3x3, 1 -> 32 channels, no bias: 3*3*1*32; BatchNorm: 4 numbers per channel
# (scale, shift, and the running mean and variance, which are not trained)
by_hand = {"block1a_conv": 3 * 3 * 1 * 32, "block1a_bn": 4 * 32,
           "block1b_conv": 3 * 3 * 32 * 32, "block1b_bn": 4 * 32}  # fmt: skip
vgg = trained["VGG-style (3x3 convs + BatchNorm)"]
for layer_name, count in by_hand.items():
    print(
        f"{layer_name:<13} by hand {count:>6,}  Keras {vgg.get_layer(layer_name).count_params():>6,}"
    )

# %% [markdown]
# **Solution to exercise 2**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
for name, model in trained.items():
    model.predict(x_test[:1000], batch_size=1000, verbose=0)  # warm up
    start = time.perf_counter()
    model.predict(x_test, batch_size=1000, verbose=0)
    print(f"{name:<36} {len(x_test) / (time.perf_counter() - start):9,.0f} images/s")

# %% [markdown]
# **Solution to exercise 3**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
# a convolution costs (output height * width) * (kernel height * width * input channels)
# multiply-adds per output channel
article_conv = 26 * 26 * (3 * 3 * 1) * 32
article_dense = 5408 * 128
vgg_second_conv = 28 * 28 * (3 * 3 * 32) * 32
print(f"article CNN: conv {article_conv:,} + dense {article_dense:,} multiply-adds")
print(f"VGG-style second convolution alone: {vgg_second_conv:,} multiply-adds")
print(
    f"parameters of that convolution: {3 * 3 * 32 * 32:,}; of the article's dense layer: {5408 * 128:,}"
)
# The multiply-adds: the VGG-style net does about 20 times the arithmetic of the article
# CNN (all its layers: about 18 million per image) with a seventh of its parameters, and is
# about 5 times slower per epoch. Not 20 times: large convolutions keep the CPU busier than
# many small operations do. Still, multiply-adds rank the models; parameters do not.
