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
# # 03 · Build the model
#
# Write the article's convolutional network in Keras 3, count its parameters by hand, and
# watch what each layer does to a real digit.
#
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mnist-cnn-course/mnist-cnn-course/main?urlpath=lab/tree/notebooks/03_model.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-cnn-course/mnist-cnn-course/blob/main/notebooks/03_model.ipynb)
#
# [Previous: 02 · Prepare the data](02_preprocessing.ipynb) · [Next: 04 · Train the CNN](04_training.ipynb)

# %% [markdown]
# ## What you will learn
#
# - what each layer of a small CNN does: convolution, max pooling, dropout, flatten, dense;
# - how to write a model with `keras.Sequential` and `keras.Input`;
# - how to work out the number of parameters of each layer, and where most of them are;
# - how to look inside a model by running a digit through it layer by layer.
#
# ## Before you start
#
# Read [02 · Prepare the data](02_preprocessing.ipynb) first: it explains the input shape
# (28, 28, 1). This notebook builds the model but does not train it, and saves nothing;
# [04 · Train the CNN](04_training.ipynb) trains it. It takes a few seconds in either mode.

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

import warnings

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf
from keras import layers

from helpers import config, data, models, plots

config.set_seed()
FAST = config.fast_mode()
print(config.describe_mode())
print("TensorFlow", tf.__version__, "| Keras", keras.__version__)

# %% [markdown]
# ## Build the model
#
# The article's network is a stack of layers, each feeding the next:
#
# 1. **`Conv2D`**: 32 small 3x3 filters slide over the image; each one responds to a local
#    pattern (an edge, a stroke end) and produces one *feature map*. ReLU keeps the positive
#    responses.
# 2. **`MaxPooling2D`**: keeps the strongest response in every 2x2 square, halving the
#    width and height: less to compute, and small shifts of the digit matter less.
# 3. **`Dropout(0.25)`**: during training only, zeroes a random quarter of the values, so
#    the network cannot rely on any single one (a defence against over-fitting).
# 4. **`Flatten`**: lays the 13x13x32 feature maps out as one long vector.
# 5. **`Dense(128)`**: a fully connected layer that combines all those features.
# 6. **`Dropout(0.5)`**: the same idea, for half of the dense layer's outputs.
# 7. **`Dense(10, softmax)`**: one output per digit, turned into probabilities that sum to 1.
#
# `keras.Input` comes first and states the shape of one example; the batch size is left
# open. Keeping it in a variable, `inputs`, lets us look inside the model later. The names
# make the layers easy to find.

# %%
inputs = keras.Input(shape=(28, 28, 1))
model = keras.Sequential(
    [
        inputs,
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu", name="conv"),
        layers.MaxPooling2D(pool_size=(2, 2), name="pool"),
        layers.Dropout(0.25, name="dropout_conv"),
        layers.Flatten(name="flatten"),
        layers.Dense(128, activation="relu", name="dense"),
        layers.Dropout(0.5, name="dropout_dense"),
        layers.Dense(10, activation="softmax", name="predictions"),
    ],
    name="article_cnn",
)

# %% [markdown]
# The later notebooks get this model from one call, `models.build_article_cnn()` (read it
# in `helpers/models.py`). Check that it is the same network: same layers, same parameters.

# %%
# NBVAL_CHECK_OUTPUT
helper_model = models.build_article_cnn()
same_layers = [(type(a), a.name) for a in model.layers] == [
    (type(b), b.name) for b in helper_model.layers
]
print("same layers:", same_layers)
print(f"parameters: this notebook {model.count_params():,}, helper {helper_model.count_params():,}")
assert same_layers and model.count_params() == helper_model.count_params()

# %% [markdown]
# > **Note: the article** gives the input shape to the first layer,
# > `Conv2D(..., input_shape=(28, 28, 1))`, and adds layers one by one with `model.add`.
# > That is the Keras 2 style. Keras 3 still accepts it but warns, as the next cell shows
# > (the warning is caught and printed). The fix: start the model with
# > `keras.Input(shape=(28, 28, 1))`, as above.

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    old_style = keras.Sequential()
    old_style.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
for warning in caught:
    print(f"{warning.category.__name__}: {warning.message}")

# %% [markdown]
# ## Read the summary
#
# `summary()` lists each layer with the shape of its output and its number of trainable
# parameters. `None` in the shapes is the batch size.

# %%
model.summary()

# %% [markdown]
# ## Count the parameters by hand
#
# Only three layers have parameters; pooling, dropout and flatten just move numbers around.
#
# - A **convolution** has one weight per filter pixel and input channel, for each filter,
#   plus one bias per filter: 3 x 3 x 1 x 32 + 32.
# - A **dense layer** has one weight per input and output, plus one bias per output. The
#   first dense layer's input is the flattened 13 x 13 x 32 = 5,408 values: 5,408 x 128 + 128.
# - The **output layer**: 128 x 10 + 10.

# %%
# NBVAL_CHECK_OUTPUT
by_hand = pd.DataFrame(
    [
        ("conv", "3*3*1*32 + 32", 3 * 3 * 1 * 32 + 32),
        ("dense", "(13*13*32)*128 + 128", (13 * 13 * 32) * 128 + 128),
        ("predictions", "128*10 + 10", 128 * 10 + 10),
    ],
    columns=["layer", "formula", "by hand"],
)
by_hand["keras"] = [model.get_layer(name).count_params() for name in by_hand["layer"]]
assert (by_hand["by hand"] == by_hand["keras"]).all(), by_hand
assert by_hand["by hand"].sum() == model.count_params() == 693_962
print(by_hand.to_string(index=False, formatters={"by hand": "{:,}".format, "keras": "{:,}".format}))
print(f"total: {by_hand['by hand'].sum():,}")

# %% [markdown]
# Almost all of the 693,962 parameters sit in the first dense layer: the convolution that
# does the "looking" needs only 320. That is typical of small CNNs that flatten early, and
# the reason later designs use more pooling before the dense part.
#
# ## Draw the architecture
#
# A picture of the same facts: the layers in order, the shape that leaves each one, and its
# parameters (`plots.model_diagram` draws it with matplotlib; Keras' own `plot_model` needs
# the pydot and Graphviz packages, which the course does not install).

# %%
plots.model_diagram(model)

# %% [markdown]
# ## Follow a digit through the layers
#
# The model is not trained yet, so its filters are random, but the *shapes* are already
# final. To see what each layer produces, build a small model that stops at that layer:
# `keras.Model(inputs, layer.output)` shares the weights, it copies nothing. Take the
# first test digit as input.

# %%
(_, _), (x_test_raw, y_test) = data.load_mnist()
x_test = data.scale_images(x_test_raw)
digit = x_test[:1]
print("input:", digit.shape, "label:", y_test[0])

# %%
# NBVAL_CHECK_OUTPUT
outputs = {}
for layer in model.layers:
    extractor = keras.Model(inputs, layer.output)
    outputs[layer.name] = extractor(digit, training=False).numpy()
    print(f"{layer.name:<14} {type(layer).__name__:<13} -> {outputs[layer.name].shape}")

# %% [markdown]
# Outside training, dropout lets everything through unchanged; during training
# (`training=True`) it zeroes a random quarter of the values and scales the rest up by 4/3
# so that the average stays the same:

# %%
dropout = model.get_layer("dropout_conv")
assert np.array_equal(outputs["dropout_conv"], outputs["pool"])
during_training = dropout(outputs["pool"], training=True).numpy()
nonzero = outputs["pool"] != 0
print(f"values zeroed by dropout in training: {np.mean(during_training[nonzero] == 0):.0%}")

# %% [markdown]
# The untrained model's "probabilities" are close to 1/10 for every digit: it knows nothing
# yet. Training (next notebook) changes that.

# %%
print(np.round(outputs["predictions"][0], 3))

# %% [markdown]
# One feature map makes the shapes concrete: the convolution turns the 28x28 digit into a
# 26x26 map (a 3x3 filter fits 26 times across 28 pixels), and pooling halves it to 13x13.
# Even a random filter traces the digit's strokes, because it reacts wherever there is ink.

# %%
channel = 0
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), layout="constrained")
panels = [
    (digit[0, :, :, 0], f"input digit ({y_test[0]}), 28x28", "gray_r"),
    (outputs["conv"][0, :, :, channel], f"conv, filter {channel}: 26x26", "viridis"),
    (outputs["pool"][0, :, :, channel], "after pooling: 13x13", "viridis"),
]
for ax, (image, title, cmap) in zip(axes, panels, strict=True):
    ax.imshow(image, cmap=cmap)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()

# %% [markdown]
# All 32 feature maps of the convolution, for the same digit:

# %%
plots.feature_maps(outputs["conv"], max_maps=32, title="Untrained conv layer")

# %% [markdown]
# ## Summary
#
# - The article's CNN is Conv2D(32) → MaxPooling → Dropout → Flatten → Dense(128) →
#   Dropout → Dense(10, softmax), written with `keras.Input` first.
# - A convolution has (kernel height x width x input channels + 1) x filters parameters; a
#   dense layer (inputs + 1) x outputs. This model has 693,962, 99.8% of them in the first
#   dense layer.
# - `keras.Model(inputs, layer.output)` shows what any layer produces.
# - `models.build_article_cnn()` builds the same model for the later notebooks.
#
# ## Exercises
#
# 1. How many parameters would the model have with 64 convolution filters instead of 32?
#    Work it out by hand, then build the model and check.
# 2. With `padding="same"`, the convolution keeps the image 28x28. What are then the output
#    shapes of the convolution and the pooling, and how many parameters does the first
#    dense layer get?
# 3. What share of the parameters does each layer hold? Make a small table from
#    `model.layers`.

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
conv64 = 3 * 3 * 1 * 64 + 64
dense64 = (13 * 13 * 64) * 128 + 128
expected = conv64 + dense64 + 128 * 10 + 10
wider = keras.Sequential(
    [
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ]
)
print(f"by hand: {conv64:,} + {dense64:,} + 1,290 = {expected:,}")
print(f"keras:   {wider.count_params():,}")
assert wider.count_params() == expected

# %% [markdown]
# **Solution to exercise 2**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
same = keras.Sequential(
    [
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu", padding="same"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
    ]
)
for layer in same.layers:
    print(f"{type(layer).__name__:<13} -> {layer.output.shape}, {layer.count_params():,} params")
assert same.layers[-1].count_params() == 14 * 14 * 32 * 128 + 128

# %% [markdown]
# **Solution to exercise 3**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
shares = pd.DataFrame(
    {
        "layer": [layer.name for layer in model.layers],
        "params": [layer.count_params() for layer in model.layers],
    }
)
shares["share"] = (shares["params"] / shares["params"].sum()).map("{:.2%}".format)
shares
