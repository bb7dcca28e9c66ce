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
# - four ideas from the history of CNNs, each written as a block of Keras layers and sized
#   for 28x28 digits: stacked 3x3 convolutions with BatchNorm (VGG), residual connections
#   (ResNet), depthwise-separable convolutions (MobileNet) and parallel branches (Inception);
# - what batch normalisation computes, checked by hand with NumPy against Keras;
# - why parameters and time are different costs, and how to count multiply-adds;
# - what a one-cycle learning-rate schedule looks like.
#
# ## Before you start
#
# Notebook 03 explains the article's CNN, and notebook 07 trained the two-block CNN of the
# Keras examples. This notebook writes every other model in its own cells, so it runs on
# its own with only the MNIST data, and it writes nothing to disk. Cells whose first line
# is `# @save helpers.architectures` are copied into `helpers/architectures.py`, where
# notebooks 09 and 10 and `python -m helpers.maintainer.bench` (which reruns this
# comparison from the command line) import them. Full mode trains each of the six models
# for 3 epochs on 54,000 images; the README's table of run times gives how long its last
# full run took on a laptop CPU.

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

import math
import time
from collections.abc import Callable, Mapping

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf
from IPython.display import Markdown, display
from keras import layers
from matplotlib.ticker import PercentFormatter

from helpers import augment, config, data, models

config.set_seed(deterministic=False)  # speed matters more here than bit-for-bit repeats
FAST = config.fast_mode()
print(config.describe_mode())
print("TensorFlow", tf.__version__, "| Keras", keras.__version__)

# %% [markdown]
# ## Load the data
#
# The course's split: 54,000 training images, 6,000 validation images from the training
# set, and all 10,000 test images (fast mode trains on 1,500 images and scores 1,000
# validation and 2,000 test images). As in notebook 07, the training images stay bytes
# (uint8), a quarter of the memory of float32, and the input pipeline scales each batch
# to [0, 1] as it reads it.

# %%
n_train = 1_500 if FAST else None
(x_train, y_train), (x_val, y_val), (x_test, y_test) = data.prepare_mnist(
    n_train=n_train, scale=False
)
x_val, x_test = data.scale_images(x_val), data.scale_images(x_test)
print(f"training images: {x_train.shape} {x_train.dtype}")

# %%
# NBVAL_CHECK_OUTPUT
print("validation:", x_val.shape, "| test:", x_test.shape)

# %% [markdown]
# ## Fix the terms of the comparison
#
# A comparison is only fair if the models differ and nothing else does. Every model gets
# the same training images, the same seed, the same batch size and number of epochs, and
# the same optimizer: Adam with a *one-cycle* learning-rate schedule. The schedule starts
# low, rises for the first fifth of the steps (a warm-up, so the first large, random
# gradients do no harm), and then falls along a cosine to zero, so training ends with
# small, careful steps. Keras' `CosineDecay` does both parts:


# %%
# @save helpers.architectures
def one_cycle(peak_lr: float, total_steps: int, warmup_fraction: float = 0.2):
    """Return a one-cycle learning-rate schedule: linear warm-up to ``peak_lr``, cosine to 0.

    It starts at ``peak_lr / 10``, rises for ``warmup_fraction`` of ``total_steps``, then
    decays along a cosine. Raises ``ValueError`` if ``total_steps`` < 2 or the fraction is
    not in (0, 1).
    """
    if total_steps < 2:
        raise ValueError(f"total_steps must be at least 2, got {total_steps}")
    if not 0 < warmup_fraction < 1:
        raise ValueError(f"warmup_fraction must be between 0 and 1, got {warmup_fraction}")
    warmup_steps = max(1, int(total_steps * warmup_fraction))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak_lr / 10,
        decay_steps=total_steps - warmup_steps,
        warmup_target=peak_lr,
        warmup_steps=warmup_steps,
    )


# %%
epochs = 1 if FAST else 3
n_val, n_test = (1_000, 2_000) if FAST else (len(x_val), len(x_test))  # fast: score fewer
x_val, y_val, x_test, y_test = x_val[:n_val], y_val[:n_val], x_test[:n_test], y_test[:n_test]
batch_size = 128
peak_lr = 2e-3
steps = epochs * math.ceil(len(x_train) / batch_size)

schedule = one_cycle(peak_lr, steps)
fig, ax = plt.subplots(figsize=(6, 2.5))
ax.plot([float(schedule(step)) for step in range(steps)])
ax.set_xlabel("training step")
ax.set_ylabel("learning rate")
ax.set_title(f"one cycle over {epochs} epoch(s) of {steps // epochs} steps")
plt.show()

# %% [markdown]
# ## Build the six models
#
# All six end in a 10-way softmax and are sized for 28x28 digits:
#
# | model | the idea | from |
# | --- | --- | --- |
# | article CNN | one convolution, then a big dense layer | the article |
# | two-block CNN | two conv + pool blocks, a tiny classifier | the Keras examples |
# | VGG-style | stacks of 3x3 convolutions, each followed by BatchNorm | VGG (2014), BatchNorm (2015) |
# | small ResNet | each block adds its input to its output (a shortcut) | ResNet (2015) |
# | MobileNet-style | a 3x3 filter per channel, then a 1x1 convolution to mix channels | MobileNet (2017) |
# | Inception-style | 1x1, 3x3, 5x5 and pooling branches side by side, concatenated | GoogLeNet (2014) |
#
# The article's CNN is `models.build_article_cnn()` from notebook 03.
#
# ### The two-block CNN of the Keras examples
#
# Two convolutions, each followed by pooling, learn shapes made of shapes: strokes first,
# then parts of digits. Pooling halves the image twice, so the classifier at the end sees
# 5x5x64 numbers instead of the article's 13x13x32, and needs far fewer weights.


# %%
# @save helpers.architectures
def build_two_block_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10
) -> keras.Model:
    """Return the Keras example CNN: two conv + max-pool blocks, dropout, softmax (34,826 params).

    Conv(32, 3x3) -> MaxPool -> Conv(64, 3x3) -> MaxPool -> Flatten -> Dropout(0.5) -> Dense.
    """
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, 3, activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(64, 3, activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dropout(0.5, name="dropout"),
            layers.Dense(num_classes, activation="softmax", name="predictions"),
        ],
        name="two_block_cnn",
    )


# %% [markdown]
# ### Normalise every batch: BatchNorm
#
# The next four models put a `BatchNormalization` layer after every convolution. During
# training it takes each channel's mean $\mu_B$ and variance $\sigma_B^2$ over the batch
# (over every image and every pixel position), and rescales the channel to mean 0 and
# variance 1; then two trained numbers per channel, a scale $\gamma$ and a shift $\beta$,
# set the spread and centre the network wants:
#
# $$\hat x = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}, \qquad y = \gamma\,\hat x + \beta .$$
#
# Every layer then sees inputs on the same scale, whatever the layers before it did, so
# the network trains well at a higher learning rate. A prediction must not depend on which
# other images share its batch, so the layer also keeps running averages, updated at every
# training step with a momentum $m$:
# $\mu \leftarrow m\,\mu + (1 - m)\,\mu_B$, and the same for $\sigma^2$. At inference
# (`training=False`) it uses those instead of the batch's own statistics.
#
# Here is that formula in NumPy on a batch of 8 random "feature maps" (5x5 pixels, 3
# channels), next to Keras' layer, once in each mode:

# %%
rng = np.random.default_rng(0)
maps = rng.normal(loc=3.0, scale=2.0, size=(8, 5, 5, 3)).astype("float32")
bn = layers.BatchNormalization(momentum=0.9)
bn.build(maps.shape)
bn.gamma.assign(np.array([1.0, 2.0, 0.5], "float32"))  # not 1 and 0, so the check covers them
bn.beta.assign(np.array([0.0, 1.0, -1.0], "float32"))
gamma, beta, eps = np.asarray(bn.gamma), np.asarray(bn.beta), bn.epsilon

# training: the batch's own statistics, per channel, over images and pixel positions
mean, var = maps.mean(axis=(0, 1, 2)), maps.var(axis=(0, 1, 2))
by_hand_training = gamma * (maps - mean) / np.sqrt(var + eps) + beta
keras_training = np.asarray(bn(maps, training=True))  # this call also updates the averages

# inference: the running averages, which started at mean 0 and variance 1
moving_mean, moving_var = 0.9 * 0.0 + 0.1 * mean, 0.9 * 1.0 + 0.1 * var
by_hand_inference = gamma * (maps - moving_mean) / np.sqrt(moving_var + eps) + beta
keras_inference = np.asarray(bn(maps, training=False))

np.set_printoptions(precision=4, suppress=True)
for mode, by_hand, from_keras in [
    ("training", by_hand_training, keras_training),
    ("inference", by_hand_inference, keras_inference),
]:
    print(f"{mode}: first pixels of channel 1")
    print("  NumPy:", by_hand[0, 0, :4, 1], "\n  Keras:", from_keras[0, 0, :4, 1])
    print(f"  largest difference over the whole batch: {np.abs(by_hand - from_keras).max():.1e}")
print("running mean, NumPy:", moving_mean, "| Keras:", np.asarray(bn.moving_mean))
print("training output, mean per channel:", keras_training.mean(axis=(0, 1, 2)), "= beta")
print("training output, std per channel: ", keras_training.std(axis=(0, 1, 2)), "= gamma")

# %% [markdown]
# Both modes match to float32 rounding. In training mode each channel comes out with mean
# $\beta$ and standard deviation $\gamma$ (up to $\epsilon$); in inference mode the output
# depends on the running averages, which after a single step are still far from the
# batch's statistics. That is why the course uses a momentum of 0.9 instead of Keras'
# default 0.99: the averages then settle within a few dozen steps, and some of the course's
# runs are only one epoch long.
#
# ### VGG: stacks of 3x3 convolutions
#
# VGG's idea is depth from one small, repeated unit: a 3x3 convolution, BatchNorm, ReLU.
# Two 3x3 convolutions in a row see a 5x5 neighbourhood with fewer weights than one 5x5
# convolution, and add a second ReLU. The convolution has no bias, because BatchNorm's
# $\beta$ does the same job. The other three models reuse this unit.


# %%
# @save helpers.architectures
BN_MOMENTUM = 0.9  # Keras' default is 0.99; 0.9 lets the running averages settle sooner


def conv_bn_relu(x, filters: int, kernel_size: int = 3, strides: int = 1, name: str = ""):
    """Return ``x`` after Conv2D (no bias, "same" padding) -> BatchNorm -> ReLU."""
    x = layers.Conv2D(
        filters, kernel_size, strides=strides, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


# %% [markdown]
# A VGG block is two of those units at the same width, then 2x2 max pooling; the net is
# two blocks (32 and 64 channels), then a dropout and the softmax.


# %%
# @save helpers.architectures
def vgg_block(x, filters: int, name: str = ""):
    """Return ``x`` after two 3x3 conv-BN-ReLU units and 2x2 max pooling (a VGG block)."""
    x = conv_bn_relu(x, filters, name=f"{name}a")
    x = conv_bn_relu(x, filters, name=f"{name}b")
    return layers.MaxPooling2D(2, name=f"{name}_pool")(x)


def build_vgg_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    num_classes: int = 10,
    widths: tuple[int, ...] = (32, 64),
) -> keras.Model:
    """Return a VGG-style net: one VGG block per width, then Dropout(0.5) and a softmax.

    With the default widths (32, 64) a 28x28 input is pooled to 7x7x64 (96,938 params).
    """
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for block, width in enumerate(widths, start=1):
        x = vgg_block(x, width, name=f"block{block}")
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.5, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="vgg_cnn")


# %% [markdown]
# ### ResNet: add a shortcut
#
# A residual block computes a correction $F(x)$ with two conv-BN layers and *adds* its
# input back: $y = \mathrm{ReLU}(F(x) + x)$. If the best thing a block can do is nothing,
# it only has to learn $F = 0$, and the gradient flows back through the addition
# unchanged. That is what lets ResNets train with 50 or 100 layers. When the block halves
# the image (stride 2) or changes the number of channels, $x$ no longer fits, so the
# shortcut becomes a strided 1x1 convolution.


# %%
# @save helpers.architectures
def residual_block(x, filters: int, strides: int = 1, name: str = ""):
    """Return ``relu(F(x) + shortcut(x))`` with F = two 3x3 conv-BN layers.

    The shortcut is the identity, or a strided 1x1 conv + BN when the shape changes.
    """
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(
            filters, 1, strides=strides, use_bias=False, name=f"{name}_proj_conv"
        )(x)
        shortcut = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_proj_bn")(shortcut)
    y = conv_bn_relu(x, filters, strides=strides, name=f"{name}_1")
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)
    y = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_2_bn")(y)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.ReLU(name=f"{name}_out")(y)


# %% [markdown]
# One block on its own, from 32 channels at 28x28 to 64 channels at 14x14. Read the
# "Connected to" column: `res_add` takes the main path (`res_2_bn`) and the shortcut
# (`res_proj_bn`), which both start from the input.

# %%
block_input = keras.Input(shape=(28, 28, 32))
one_residual_block = keras.Model(
    block_input, residual_block(block_input, 64, strides=2, name="res"), name="residual_block"
)
one_residual_block.summary()


# %% [markdown]
# The small ResNet is a 3x3 stem and three strided residual blocks (28 -> 14 -> 7 -> 4
# pixels), then global average pooling: one number per channel, so the classifier needs
# only 128x10 weights.


# %%
# @save helpers.architectures
def build_small_resnet(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    num_classes: int = 10,
    widths: tuple[int, ...] = (32, 64, 128),
) -> keras.Model:
    """Return a small ResNet: a 3x3 stem, one strided residual block per width, global pooling.

    With the default widths a 28x28 input goes 28 -> 14 -> 7 -> 4 pixels (310,570 params).
    """
    inputs = keras.Input(shape=input_shape)
    x = conv_bn_relu(inputs, widths[0], name="stem")
    for block, width in enumerate(widths, start=1):
        x = residual_block(x, width, strides=2, name=f"res{block}")
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="small_resnet")


# %% [markdown]
# ### MobileNet: separate space from channels
#
# An ordinary 3x3 convolution from $C_\text{in}$ to $C_\text{out}$ channels has
# $3 \cdot 3 \cdot C_\text{in} \cdot C_\text{out}$ weights: every output channel looks at
# every input channel at every offset. MobileNet splits that into two cheaper steps: a
# *depthwise* 3x3 filter per input channel ($3 \cdot 3 \cdot C_\text{in}$ weights), which
# looks across space, then a *pointwise* 1x1 convolution
# ($C_\text{in} \cdot C_\text{out}$), which mixes channels.


# %%
# @save helpers.architectures
def separable_block(x, filters: int, strides: int = 1, name: str = ""):
    """Return ``x`` after a MobileNet block: depthwise 3x3-BN-ReLU, then pointwise 1x1-BN-ReLU."""
    x = layers.DepthwiseConv2D(
        3, strides=strides, padding="same", use_bias=False, name=f"{name}_dw"
    )(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_dw_bn")(x)
    x = layers.ReLU(name=f"{name}_dw_relu")(x)
    return conv_bn_relu(x, filters, kernel_size=1, name=f"{name}_pw")


# %% [markdown]
# One block from 64 to 128 channels, and the weights an ordinary 3x3 convolution would need
# for the same job:

# %%
block_input = keras.Input(shape=(14, 14, 64))
one_separable_block = keras.Model(
    block_input, separable_block(block_input, 128, name="sep"), name="separable_block"
)
one_separable_block.summary()
separable_weights = sum(
    one_separable_block.get_layer(name).count_params() for name in ("sep_dw", "sep_pw_conv")
)
ordinary = layers.Conv2D(128, 3, padding="same", use_bias=False)
ordinary.build((None, 14, 14, 64))
print(f"depthwise + pointwise: {separable_weights:,} weights")
print(f"one ordinary 3x3 convolution, 64 -> 128 channels: {ordinary.count_params():,} weights")
print(f"the separable block needs {ordinary.count_params() / separable_weights:.1f}x fewer")


# %% [markdown]
# The MobileNet-style net: a 3x3 stem, then four separable blocks, three of them strided.


# %%
# @save helpers.architectures
def build_mobilenet_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10
) -> keras.Model:
    """Return a MobileNet-style net: a 3x3 stem then depthwise-separable blocks (69,258 params).

    Stem 32 -> separable 64 (stride 2) -> 128 (stride 2) -> 128 -> 256 (stride 2) -> global
    pooling -> Dense softmax: 28 -> 14 -> 7 -> 4 pixels.
    """
    inputs = keras.Input(shape=input_shape)
    x = conv_bn_relu(inputs, 32, name="stem")
    for block, (filters, strides) in enumerate([(64, 2), (128, 2), (128, 1), (256, 2)], start=1):
        x = separable_block(x, filters, strides=strides, name=f"sep{block}")
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="mobilenet_cnn")


# %% [markdown]
# ### Inception: branches side by side
#
# Which neighbourhood matters, 1x1, 3x3 or 5x5 pixels? An Inception block does not choose:
# it runs the branches side by side on the same input and concatenates their channels,
# and the next layer learns which to use. Cheap 1x1 "reduce" convolutions first cut the
# channels that the 3x3 and 5x5 branches see, to half of what each branch puts out, which
# keeps the block affordable; the 5x5 is two 3x3s, as in VGG.


# %%
# @save helpers.architectures
def inception_block(x, branch_filters: tuple[int, int, int, int], name: str = ""):
    """Return the concatenation of four parallel branches over ``x`` (an Inception block).

    Branches: 1x1; 1x1 -> 3x3; 1x1 -> 5x5 (two 3x3s); 3x3 max pool -> 1x1. The 1x1 convs
    before the larger ones halve the channels they see. ``branch_filters`` gives each
    branch's output channels.
    """
    f1, f3, f5, fpool = branch_filters
    b1 = conv_bn_relu(x, f1, kernel_size=1, name=f"{name}_1x1")
    b3 = conv_bn_relu(x, max(f3 // 2, 1), kernel_size=1, name=f"{name}_3x3_reduce")
    b3 = conv_bn_relu(b3, f3, name=f"{name}_3x3")
    b5 = conv_bn_relu(x, max(f5 // 2, 1), kernel_size=1, name=f"{name}_5x5_reduce")
    b5 = conv_bn_relu(b5, f5, name=f"{name}_5x5a")
    b5 = conv_bn_relu(b5, f5, name=f"{name}_5x5b")
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_branch_pool")(x)
    bp = conv_bn_relu(bp, fpool, kernel_size=1, name=f"{name}_pool_proj")
    return layers.Concatenate(name=f"{name}_concat")([b1, b3, b5, bp])


def build_inception_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10
) -> keras.Model:
    """Return an Inception-style net: a 3x3 stem, two Inception blocks, global pooling.

    Stem 32 -> pool -> Inception (16, 32, 16, 16 = 80 channels) -> pool -> Inception
    (32, 64, 32, 32 = 160 channels) -> global pooling -> Dense softmax; 28 -> 14 -> 7 pixels.
    """
    inputs = keras.Input(shape=input_shape)
    x = conv_bn_relu(inputs, 32, name="stem")
    x = layers.MaxPooling2D(2, name="stem_pool")(x)
    x = inception_block(x, (16, 32, 16, 16), name="inc1")
    x = layers.MaxPooling2D(2, name="inc1_pool")(x)
    x = inception_block(x, (32, 64, 32, 32), name="inc2")
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="inception_cnn")


# %% [markdown]
# The six builders by name, in the order of the table above:


# %%
# @save helpers.architectures
def comparison_builders() -> dict[str, Callable[[], keras.Model]]:
    """Return the six builders that notebook 08 compares, by display name, in table order."""
    return {
        "article CNN": models.build_article_cnn,
        "two-block CNN (Keras example)": build_two_block_cnn,
        "VGG-style (3x3 convs + BatchNorm)": build_vgg_cnn,
        "small ResNet": build_small_resnet,
        "MobileNet-style (separable convs)": build_mobilenet_cnn,
        "Inception-style": build_inception_cnn,
    }


# %%
# NBVAL_CHECK_OUTPUT
builders = comparison_builders()
for name, build in builders.items():
    print(f"{name:<36} {build().count_params():>9,} parameters")

# %% [markdown]
# ## Count the arithmetic
#
# Parameters say how much a model stores, not how much it computes. A convolution uses
# each of its weights once at every position of its output, so its cost per image is
# (weights) x (output height x width) multiply-adds; a dense layer uses each weight once.
# The same rule covers depthwise convolutions. BatchNorm, ReLU and pooling add a little
# more, which we leave out.


# %%
def multiply_adds(model: keras.Model) -> int:
    """Return the multiply-adds of one image through the model's convolutions and dense layers."""
    return sum(
        math.prod(layer.kernel.shape) * math.prod(layer.output.shape[1:-1])
        for layer in model.layers
        if hasattr(layer, "kernel")
    )


# %%
# NBVAL_CHECK_OUTPUT
arithmetic = {name: multiply_adds(build()) for name, build in builders.items()}
for name, count in arithmetic.items():
    print(f"{name:<36} {count:>12,} multiply-adds per image")

# %% [markdown]
# ## Train each model
#
# One loop, the same for every model: seed, build, compile with a fresh schedule, train, and
# time the training; then measure the accuracy on the validation and the test set. The
# clock covers `fit` alone, so seconds per epoch is the whole `fit` time divided by the
# epochs (it includes the one-off cost of tracing the model in the first epoch).


# %%
# @save helpers.architectures
def fit_and_time(model: keras.Model, batches, epochs: int, optimizer) -> float:
    """Compile ``model`` for integer labels, train it quietly on ``batches``; return the seconds."""
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(batches, epochs=epochs, shuffle=False, verbose=0)  # the pipeline shuffles
    return time.perf_counter() - start


# %% [markdown]
# The loop over the models; `python -m helpers.maintainer.bench` calls this same function.


# %%
# @save helpers.architectures
def compare_models(
    builders: Mapping[str, Callable[[], keras.Model]],
    train: tuple[np.ndarray, np.ndarray],
    scored: Mapping[str, tuple[np.ndarray, np.ndarray]],
    epochs: int,
    batch_size: int = 128,
    peak_lr: float = 2e-3,
    seed: int = config.DEFAULT_SEED,
) -> tuple[list[dict], dict[str, keras.Model]]:
    """Train every model on equal terms; return one row per model, and the trained models.

    Same seed, data, epochs, batch size and one-cycle Adam for each; the training images
    (uint8 or float, see ``augment.augmented_dataset``) come through notebook 07's pipeline,
    without augmentation. A row holds the name, parameters, seconds per epoch, and an
    accuracy for each set in ``scored``: ``{"test": (x_test, y_test)}`` gives a "test
    accuracy" column.
    """
    x_train, y_train = train
    steps = epochs * math.ceil(len(x_train) / batch_size)
    rows, trained = [], {}
    for name, build in builders.items():
        config.set_seed(seed, deterministic=False)
        model = build()
        optimizer = keras.optimizers.Adam(learning_rate=one_cycle(peak_lr, steps))
        batches = augment.augmented_dataset(x_train, y_train, batch_size, seed=seed)
        seconds = fit_and_time(model, batches, epochs, optimizer)
        row = {
            "model": name,
            "parameters": model.count_params(),
            "seconds per epoch": seconds / epochs,
        }
        for split, (x, y) in scored.items():
            row[f"{split} accuracy"] = model.evaluate(x, y, batch_size=256, verbose=0)[1]
        rows.append(row)
        trained[name] = model
        scores = "  ".join(f"{split} {row[f'{split} accuracy']:.2%}" for split in scored)
        print(f"{name:<36} {seconds / epochs:6.1f} s/epoch  {scores}")
    return rows, trained


# %% [markdown]
# Each model gets its own pipeline (`augment.augmented_dataset` of notebook 07, without an
# augmenter): the same images, shuffled anew every epoch. Turning a NumPy array into a
# tensor copies it, so the next cell converts the training images once, and the six
# pipelines share that tensor (the NumPy array goes as soon as nothing refers to it).

# %%
x_train = tf.convert_to_tensor(x_train)
rows, trained = compare_models(
    builders,
    (x_train, y_train),
    {"validation": (x_val, y_val), "test": (x_test, y_test)},
    epochs,
    batch_size,
    peak_lr,
)

# %% [markdown]
# ## Compare them
#
# The table, then the same numbers as a picture: time per epoch across, test accuracy up,
# the bigger the dot, the more parameters. The best models sit top left.

# %%
results = pd.DataFrame(rows).set_index("model")
results.insert(1, "multiply-adds", pd.Series(arithmetic))
results.style.format(
    {
        "parameters": "{:,}",
        "multiply-adds": "{:,}",
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
# What this run shows, read from the table by code (the ranking of close models can
# change with the seed, and the times with the machine and what else it is doing):

# %%
seconds, accuracy = results["seconds per epoch"], results["test accuracy"]
fastest, slowest = seconds.idxmin(), seconds.idxmax()
best, worst = accuracy.idxmax(), accuracy.idxmin()
ranks = results[["parameters", "multiply-adds"]].corrwith(seconds, method="spearman")
closer, other = ranks.sort_values(ascending=False).index
vgg, mobile = "VGG-style (3x3 convs + BatchNorm)", "MobileNet-style (separable convs)"
fewer_adds = results.loc[vgg, "multiply-adds"] / results.loc[mobile, "multiply-adds"]
speed_up = seconds[vgg] / seconds[mobile]
if speed_up >= fewer_adds:
    mobile_verdict = (
        f"and trained {speed_up:.1f} times as fast per epoch: the saving showed in full"
    )
elif speed_up > 1:
    mobile_verdict = (
        f"but trained only {speed_up:.1f} times as fast per epoch: only part of the saving "
        "showed in the seconds"
    )
else:
    mobile_verdict = (
        f"yet took {1 / speed_up:.1f} times as long per epoch: none of the saving showed"
    )
display(
    Markdown(
        f"- **{slowest}** took {seconds[slowest] / seconds[fastest]:.1f} times as long per epoch "
        f"as **{fastest}**, the fastest ({seconds[slowest]:.1f} s against {seconds[fastest]:.1f} s).\n"
        f"- **{best}** was the most accurate on the test set ({accuracy[best]:.2%}), **{worst}** "
        f"the least ({accuracy[worst]:.2%}).\n"
        f"- The model with the most parameters is **{results['parameters'].idxmax()}**; the one "
        f"with the most multiply-adds, **{results['multiply-adds'].idxmax()}**. Ranked by time per "
        f"epoch, the models follow their {closer} (rank correlation {ranks[closer]:.2f}) more "
        f"closely than their {other} ({ranks[other]:.2f}).\n"
        f"- The MobileNet-style net does {fewer_adds:.1f} times fewer multiply-adds than the "
        f"VGG-style net, {mobile_verdict}."
    )
)

# %% [markdown]
# ## What each idea buys and costs
#
# - **The article's CNN** has the most parameters by far, almost all of them in one dense
#   layer that looks at every pixel position separately, but does little computation: one
#   convolution on a single input channel.
# - **Two conv + pool blocks** (the Keras example) learn shapes made of shapes, and pooling
#   shrinks what the dense layer sees: a small fraction of the article CNN's parameters.
# - **VGG-style stacks with BatchNorm** run two 3x3 convolutions at full resolution before
#   each pooling. BatchNorm lets the network train fast at a high learning rate. The price
#   is computation: the second 3x3 convolution at 28x28 with 32 channels alone costs more
#   multiply-adds than the whole article CNN (exercise 3 counts them), although the net has
#   about a seventh of its parameters.
# - **The small ResNet** adds shortcuts, so each block only has to learn a correction to its
#   input. Its strided blocks shrink the image early, so it does less arithmetic than the
#   VGG-style net with more parameters. At 50 or 100 layers the shortcuts are what makes
#   training possible at all; this comparison has no same net without shortcuts, so it
#   does not show what they add at this depth.
# - **The MobileNet-style net** replaces each 3x3 convolution by a 3x3 filter per channel
#   plus a 1x1 mix, far fewer multiply-adds. On a CPU, depthwise convolutions and their
#   gradients are less well optimised than ordinary convolutions, so the seconds can fall
#   much less than the arithmetic does (the list above says how it went here; exercise 2
#   times inference). Separable convolutions pay off on phones and on hardware built for
#   them; measure before you count on them.
# - **The Inception-style net** looks at 1x1, 3x3 and 5x5 neighbourhoods side by side and
#   lets the next layer pick; the 1x1 "reduce" convolutions keep that affordable.
#
# The lesson that carries over: count multiply-adds and memory traffic, not parameters,
# when you care about time; and measure on the machine you will use.

# %% [markdown]
# ## Summary
#
# - Compare models on equal terms: same data, seed, epochs, optimizer and schedule; one
#   function (`compare_models`) trains them all.
# - BatchNorm standardises each channel with the batch's statistics in training, and with
#   running averages at inference; a few lines of NumPy reproduce it.
# - Parameters and time are different costs: parameters count what a model stores,
#   multiply-adds what it computes. The article's CNN has the most parameters and little
#   arithmetic; the VGG-style net the reverse.
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
vgg_model = trained[vgg]
for layer_name, count in by_hand.items():
    print(
        f"{layer_name:<13} by hand {count:>6,}  Keras {vgg_model.get_layer(layer_name).count_params():>6,}"
    )

# %% [markdown]
# **Solution to exercise 2**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
predict_speed = {}
for name, model in trained.items():
    model.predict(x_test[:1000], batch_size=256, verbose=0)  # warm up
    start = time.perf_counter()
    model.predict(x_test, batch_size=256, verbose=0)
    predict_speed[name] = len(x_test) / (time.perf_counter() - start)
    print(f"{name:<36} {predict_speed[name]:9,.0f} images/s")
same = list(pd.Series(predict_speed).sort_values().index) == list(
    seconds.sort_values(ascending=False).index
)
print("same ranking as for training:", "yes" if same else "no")

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
ratios = {
    "parameters": results.loc[vgg, "parameters"] / results.loc["article CNN", "parameters"],
    "multiply-adds": arithmetic[vgg] / arithmetic["article CNN"],
    "seconds per epoch": seconds[vgg] / seconds["article CNN"],
}
for what, ratio in ratios.items():
    print(f"VGG-style net / article CNN, {what}: {ratio:.2f}")
nearer = min(
    ["parameters", "multiply-adds"],
    key=lambda k: abs(math.log(ratios[k] / ratios["seconds per epoch"])),
)
print(f"the time ratio is nearer the ratio of {nearer}")
