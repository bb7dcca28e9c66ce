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
# - how to write a model with `keras.Sequential` and `keras.Input`, as a function that
#   later notebooks reuse;
# - how to work out the number of parameters of each layer, and where most of them are;
# - how to look inside a model by running a digit through it layer by layer;
# - the arithmetic of convolution, ReLU, max pooling and dropout, done by hand with NumPy
#   and checked against the Keras layers.
#
# ## Before you start
#
# Read [02 · Prepare the data](02_preprocessing.ipynb) first: it explains the input shape
# (28, 28, 1). This notebook builds the model but does not train it, and saves nothing;
# [04 · Train the CNN](04_training.ipynb) trains it. It takes under a minute in either mode,
# most of it spent importing TensorFlow.

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

import warnings

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf
from keras import layers

from helpers import config, data, plots

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
# open. The names make the layers easy to find later.
#
# Later notebooks, the benchmark and the tests build this same network, so it is written
# once, as a function. The first line of the cell, `# @save helpers.models`, marks
# it: `python -m helpers.maintainer.lessons` copies the cell into `helpers/models.py`, and
# the later notebooks call `models.build_article_cnn()` from there. A test fails if the two
# copies ever differ.


# %%
# @save helpers.models
def build_article_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10
) -> keras.Model:
    """Return the article's CNN, written with ``keras.Input`` (693,962 parameters for MNIST).

    Conv2D(32, 3x3, ReLU) -> MaxPool(2) -> Dropout(0.25) -> Flatten -> Dense(128, ReLU)
    -> Dropout(0.5) -> Dense(num_classes, softmax). The model is not compiled.
    """
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu", name="conv"),
            layers.MaxPooling2D(pool_size=(2, 2), name="pool"),
            layers.Dropout(0.25, name="dropout_conv"),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense"),
            layers.Dropout(0.5, name="dropout_dense"),
            layers.Dense(num_classes, activation="softmax", name="predictions"),
        ],
        name="article_cnn",
    )


# %% [markdown]
# Build one. `inputs` keeps the model's input, which is needed later to look inside it.

# %%
model = build_article_cnn()
inputs = model.inputs[0]
print(f"{model.name}: {len(model.layers)} layers, input {inputs.shape}")

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
print(
    f"total: {by_hand['by hand'].sum():,}; the flattened input of dense: 13*13*32 = {13 * 13 * 32:,}"
)
dense_share = model.get_layer("dense").count_params() / model.count_params()
print(f"share of the first dense layer: {dense_share:.1%}")

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
# The untrained model's "probabilities" stay near 1/10 for every digit, the mark of a
# model that knows nothing yet (the line under them gives their range). Training (next
# notebook) changes that.

# %%
probabilities = outputs["predictions"][0]
print(np.round(probabilities, 3))
print(f"from {probabilities.min():.3f} to {probabilities.max():.3f}; 1/10 = 0.100")

# %% [markdown]
# One feature map makes the shapes concrete: the convolution turns the 28x28 digit into a
# 26x26 map (a 3x3 filter has 26 places to sit across 28 pixels), and pooling halves it
# to 13x13. Whatever its random weights, a filter's map can only light up along the
# digit's strokes: the background is 0 and the biases start at 0, so the map is 0 wherever
# the filter sees only background, and non-zero only where it touches ink.

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
# ## Compute the layers by hand
#
# Each of the first layers is a few lines of arithmetic. Writing them with NumPy, on the
# same digit and with the same weights, and comparing with what Keras computed above, shows
# there is nothing more to them. Float32 sums in a different order can differ in the last
# bits, so each check prints the largest difference rather than demanding exact equality.
#
# ### A convolution
#
# Filter $k$ lays its 3x3 weights $w$ over the 3x3 patch of the image $x$ whose top-left
# pixel is $(i, j)$, multiplies pixel by weight, adds everything up and adds its bias $b_k$:
#
# $$z_{i,j,k} = b_k + \sum_{u=0}^{2} \sum_{v=0}^{2} x_{i+u,\,j+v}\; w_{u,v,k}$$
#
# The patch fits at $i, j = 0, \dots, 25$, hence the 26x26 map. (Keras does not flip the
# filter, so strictly this is a cross-correlation; deep-learning libraries call it a
# convolution all the same.) The loop below computes it for all 32 filters at once.

# %%
conv = model.get_layer("conv")
kernel, bias = conv.get_weights()  # (3, 3, 1, 32) and (32,)
image = digit[0, :, :, 0]  # the 28x28 pixels of the first test digit
z_numpy = np.zeros((26, 26, 32), dtype=np.float32)
for i in range(26):
    for j in range(26):
        patch = image[i : i + 3, j : j + 3]  # the pixels under the filter
        z_numpy[i, j] = (patch[:, :, np.newaxis] * kernel[:, :, 0, :]).sum(axis=(0, 1)) + bias

# %% [markdown]
# The model's `conv` layer applies ReLU straight away, so compare with a plain `Conv2D`
# that gets the same weights and no activation:

# %%
linear_conv = layers.Conv2D(32, kernel_size=(3, 3))
linear_conv.build(digit.shape)
linear_conv.set_weights([kernel, bias])
z_keras = linear_conv(digit).numpy()[0]
spots = [(10, 12, 0), (14, 14, 5), (18, 10, 17), (20, 16, 31)]  # (row, column, filter)
print(
    pd.DataFrame(
        [(spot, z_numpy[spot], z_keras[spot]) for spot in spots],
        columns=["(i, j, k)", "NumPy z", "Conv2D z"],
    ).to_string(index=False)
)
print(f"largest difference over all 26x26x32 values: {np.abs(z_numpy - z_keras).max():.1e}")

# %% [markdown]
# ### ReLU
#
# The activation keeps positive values and replaces negative ones by 0:
#
# $$\mathrm{relu}(z) = \max(0, z)$$
#
# Applied to the NumPy convolution, it should give what the model's `conv` layer
# (`Conv2D` with `activation="relu"`) produced for the digit, up to the float32 rounding
# of the convolution (the largest difference is printed):

# %%
a_numpy = np.maximum(z_numpy, 0)
a_keras = outputs["conv"][0]
print(
    pd.DataFrame(
        [(spot, z_numpy[spot], a_numpy[spot], a_keras[spot]) for spot in spots],
        columns=["(i, j, k)", "z", "NumPy max(0, z)", "Keras conv (ReLU)"],
    ).to_string(index=False)
)
print(f"largest difference: {np.abs(a_numpy - a_keras).max():.1e}")
print(f"values that are 0 after ReLU: {np.mean(a_numpy == 0):.0%} (the others pass unchanged)")

# %% [markdown]
# ### Max pooling
#
# A 2x2 pooling window keeps the largest of four neighbouring values, in each feature map
# separately, and moves on by 2:
#
# $$p_{i,j,k} = \max_{u,v \in \{0, 1\}} a_{2i+u,\,2j+v,\,k}$$
#
# In NumPy, cut each 26x26 map into 13x13 blocks of 2x2 with a reshape, and take the
# largest value of each block:

# %%
blocks = a_numpy.reshape(13, 2, 13, 2, 32)  # blocks[i, :, j, :, k] is one 2x2 window
p_numpy = blocks.max(axis=(1, 3))
p_keras = outputs["pool"][0]
k = 0
busy = (blocks[..., k] > 0).sum(axis=(1, 3))  # show a window with as much ink as any
i, j = np.unravel_index(busy.argmax(), busy.shape)
print(f"the window at block ({i}, {j}) of filter {k}:")
print(a_numpy[2 * i : 2 * i + 2, 2 * j : 2 * j + 2, k].round(4))
print(f"its maximum: NumPy {p_numpy[i, j, k]:.4f}, Keras MaxPooling2D {p_keras[i, j, k]:.4f}")
print(f"largest difference over all 13x13x32 values: {np.abs(p_numpy - p_keras).max():.1e}")

# %% [markdown]
# ### Dropout, in training and at inference
#
# During training, dropout with rate $r$ keeps each value with probability $1 - r$ and
# scales the kept ones up by $1/(1 - r)$, so that their expected sum stays the same; at
# inference it passes everything through:
#
# $$\text{training: } y_i = \frac{m_i\, x_i}{1 - r},\quad m_i \sim \mathrm{Bernoulli}(1 - r)
# \qquad\qquad \text{inference: } y_i = x_i$$
#
# Keras chooses with the `training` argument: `fit` calls the layers with `training=True`,
# while `predict`, `evaluate` and a plain call use `training=False`. Call the model's first
# dropout layer ($r = 0.25$) both ways on the pooled feature maps:

# %%
dropout = model.get_layer("dropout_conv")
pooled = outputs["pool"]
in_training = dropout(pooled, training=True).numpy()
at_inference = dropout(pooled, training=False).numpy()
nonzero = pooled != 0  # a zero stays zero either way, so look at the others
kept = nonzero & (in_training != 0)
train_factor = in_training[kept] / pooled[kept]
infer_factor = at_inference[nonzero] / pooled[nonzero]
rows = [
    ("values set to 0", f"{np.mean(in_training[nonzero] == 0):.1%}",
     f"{np.mean(at_inference[nonzero] == 0):.1%}"),
    ("kept values multiplied by", f"{train_factor.min():.4f} to {train_factor.max():.4f}",
     f"{infer_factor.min():.4f} to {infer_factor.max():.4f}"),
    ("mean of the output", f"{in_training.mean():.4f}", f"{at_inference.mean():.4f}"),
]  # fmt: skip
print(pd.DataFrame(rows, columns=["", "training=True", "training=False"]).to_string(index=False))
print(f"rate {dropout.rate}: 1/(1 - rate) = {1 / (1 - dropout.rate):.4f}")
print(f"mean of the input: {pooled.mean():.4f}")
print("training=False returns its input unchanged:", np.array_equal(at_inference, pooled))


# %% [markdown]
# Each call with `training=True` draws a new random mask: five more calls show the share
# of zeros and the mean of the output changing from call to call while staying close to
# the rate and to the input's mean, and the scale factor staying $1/(1 - r)$.

# %%
for call in range(1, 6):
    again = dropout(pooled, training=True).numpy()
    factor = (again[nonzero] / pooled[nonzero]).max()
    zeroed = np.mean(again[nonzero] == 0)
    print(
        f"call {call}: {zeroed:.1%} set to 0, output mean {again.mean():.4f}, factor {factor:.4f}"
    )

# %% [markdown]
# ## Summary
#
# - The article's CNN is Conv2D(32) → MaxPooling → Dropout → Flatten → Dense(128) →
#   Dropout → Dense(10, softmax), written with `keras.Input` first, in one function,
#   `build_article_cnn`, that the later notebooks import from `helpers.models`.
# - A convolution has (kernel height x width x input channels + 1) x filters parameters; a
#   dense layer (inputs + 1) x outputs. This model has 693,962, almost all of them in the
#   first dense layer.
# - `keras.Model(inputs, layer.output)` shows what any layer produces.
# - A convolution is a weighted sum over each 3x3 patch plus a bias; ReLU is `max(0, z)`;
#   max pooling keeps the largest of each 2x2 block; dropout zeroes values at random and
#   scales the rest by 1/(1 - rate) in training only. The NumPy versions match the Keras
#   layers up to float32 rounding.
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
