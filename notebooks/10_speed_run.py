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
# # 10 · Speed run: 99% in seconds
#
# Reach 99% test accuracy on a CPU as fast as we can, and measure how much faster that is
# than the article's pipeline, on the same machine, in the same process.
#
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mnist-cnn-course/mnist-cnn-course/main?urlpath=lab/tree/notebooks/10_speed_run.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-cnn-course/mnist-cnn-course/blob/main/notebooks/10_speed_run.ipynb)
#
# [Previous: 09 · Train the best model](09_best_model.ipynb) · [Next: 11 · Export the model](11_export.ipynb)

# %% [markdown]
# ## What you will learn
#
# - where the time of a training run goes, and which knobs cut it: a smaller network,
#   fewer epochs, a one-cycle schedule with a high peak, tuned Adam, data held in memory;
# - how to write your own training step with `tf.GradientTape` and `tf.function`, and
#   how it compares with `model.fit`;
# - how to set TensorFlow's CPU threads;
# - where one run's seconds go (building, tracing, the first step, the rest), and what
#   limits the speed: the multiply-adds per image against what this CPU can do;
# - what bfloat16 mixed precision is, and how to check whether it helps on your CPU;
# - how to report a speed result honestly: mean over seeds, timed against a baseline in the
#   same process, and sentences written from the measured numbers.
#
# ## Before you start
#
# It needs only the MNIST data and trains everything itself; it writes nothing to disk.
# The lesson's functions (the cells marked `# @save helpers.speed_run`) are also saved in
# `helpers/speed_run.py`, and `python -m helpers.maintainer.bench` calls those same
# functions to rerun the measurements from the command line. How long full mode takes
# depends on the CPU: every training run below prints its own seconds, and the longest
# single run is usually the article's pipeline (10 epochs), which we time as the baseline.

# %% [markdown]
# ## Setup
#
# Every import, the mode, and the machine: timings depend on the CPU, its number of cores,
# and whether it has the AVX512-BF16 instructions that bfloat16 (tried below) can use.

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
from collections.abc import Callable

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf
from IPython.display import Markdown, display
from keras import layers

from helpers import architectures, config, data, environment, models

config.set_seed(deterministic=False)  # speed matters more here than bit-for-bit repeats
FAST = config.fast_mode()
print(config.describe_mode())
print("TensorFlow", tf.__version__, "| Keras", keras.__version__)
machine = environment.machine_info()
print(f"CPU: {machine['cpu']}, {machine['cores']} cores, AVX512-BF16: {machine['avx512_bf16']}")

# %% [markdown]
# ## Set the CPU threads
#
# TensorFlow splits its work over two pools of threads: one for the work *inside* an
# operation (a convolution is split across the cores) and one for running several
# operations side by side. We make the first as wide as the CPU and run one operation at a
# time, because this small network has no branches to run side by side. The settings must
# be made before TensorFlow runs its first operation (importing it runs none), so they come
# right after the setup.


# %%
# @save helpers.speed_run
def set_cpu_threads() -> None:
    """Use every core inside each operation, and run one operation at a time.

    Raises ``RuntimeError`` if TensorFlow has already run an operation.
    """
    tf.config.threading.set_intra_op_parallelism_threads(os.cpu_count() or 1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


# %%
set_cpu_threads()
print(
    f"threads inside an operation: {tf.config.threading.get_intra_op_parallelism_threads()}, "
    f"operations at a time: {tf.config.threading.get_inter_op_parallelism_threads()}"
)

# %% [markdown]
# ## Load the data
#
# The same 54,000 training images for every run (fast mode: 6,000), and all 10,000 test
# images for the accuracy.

# %%
n_train = 6_000 if FAST else None
(x_train, y_train), _, (x_test, y_test) = data.prepare_mnist(n_train=n_train)
print(f"training images: {x_train.shape}")

# %%
# NBVAL_CHECK_OUTPUT
print("test:", x_test.shape, x_test.dtype, "| labels", y_test.shape)

# %% [markdown]
# ## Time the article's pipeline
#
# The baseline is the article's recipe, written with today's API: its CNN, 10 epochs,
# batch 128, Adam with learning rate 0.001. We time `fit` alone (not loading the data, not
# evaluating), and we will time the speed run the same way.


# %%
# @save helpers.speed_run
def time_article_pipeline(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    epochs: int = 10,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
) -> tuple[float, float]:
    """Train the article's CNN with the article's recipe; return (training seconds, test accuracy).

    Only ``fit`` is timed. The caller seeds the run.
    """
    model = models.build_article_cnn()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)[1]
    return seconds, float(accuracy)


# %%
article_epochs = 1 if FAST else 10
article_batch_size = 128
config.set_seed(deterministic=False)
article_seconds, article_accuracy = time_article_pipeline(
    x_train, y_train, x_test, y_test, epochs=article_epochs, batch_size=article_batch_size
)
print(
    f"article pipeline: {article_seconds:.1f} s of training, test accuracy {article_accuracy:.2%}"
)

# %% [markdown]
# ## Choose a small network
#
# Time per epoch is roughly the multiply-adds per image times the images. The article's
# CNN learns slowly for what it costs (one convolution, then a huge dense layer). The
# speed-run network is LeNet-like: a first convolution with a **stride of 2** (it looks at
# every other position, so its output is already a quarter of the size, which pooling
# would otherwise do), a second convolution, one max pooling, then a dense layer. No
# BatchNorm and no dropout: both cost time, and dropout slows learning, which in one epoch
# we cannot afford. The last layer computes in float32 even under a mixed-precision policy
# (see bfloat16 below), so that the probabilities stay accurate.


# %%
# @save helpers.speed_run
def build_speed_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10
) -> keras.Model:
    """Return the speed run's small CNN, uncompiled (108,874 parameters for MNIST).

    Conv(16, 5x5, stride 2) -> Conv(32, 3x3) -> MaxPool -> Dense(128) -> softmax: a 28x28
    image becomes 12x12x16, 10x10x32, then 5x5x32.
    """
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(16, 5, strides=2, activation="relu", name="conv1"),
            layers.Conv2D(32, 3, activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool"),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense"),
            layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions"),
        ],
        name="speed_cnn",
    )


# %%
# NBVAL_CHECK_OUTPUT
speed_model = build_speed_cnn()
print(f"article CNN: {models.build_article_cnn().count_params():,} parameters")
print(f"speed CNN:   {speed_model.count_params():,} parameters")
for layer in speed_model.layers:
    print(f"  {layer.name:<12} -> {layer.output.shape}")

# %% [markdown]
# ## Set up the recipe
#
# - **One epoch.** Every image is seen once, in batches of 256: 211 steps for the full
#   54,000 images.
# - **One-cycle schedule with a high peak** (0.015, fifteen times Adam's default): the
#   warm-up lets the network reach that rate safely, the cosine decay lets it settle.
# - **Tuned Adam**: `beta_1=0.7, beta_2=0.9` instead of 0.9 and 0.999. The betas are how
#   long Adam remembers past gradients; in a run of 211 steps, memories of a thousand steps
#   are mostly memories of a network that no longer exists.
# - **Label smoothing 0.1** (as in notebook 09): the target for a "3" is 0.91 for "3" and
#   0.01 for every other digit. The model stops spending its few steps on making easy
#   images more certain.
#
# The optimizer and the loss come from one function, so that the `model.fit` comparison
# at the end trains with exactly the same ones.


# %%
# @save helpers.speed_run
def speed_recipe(
    steps: int, peak_lr: float = 1.5e-2, label_smoothing: float = 0.1
) -> tuple[keras.optimizers.Optimizer, keras.losses.Loss]:
    """Return the speed run's optimizer and loss for a run of ``steps`` training steps.

    Adam with short memories on a one-cycle schedule that peaks at ``peak_lr``, and
    cross-entropy on one-hot targets with label smoothing.
    """
    optimizer = keras.optimizers.Adam(
        learning_rate=architectures.one_cycle(peak_lr, steps), beta_1=0.7, beta_2=0.9
    )
    loss_fn = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    return optimizer, loss_fn


# %% [markdown]
# ## Write our own training step
#
# `model.fit` is convenient, but it does much more than train: metrics, callbacks,
# progress, a `tf.data` pipeline with its own threads, which on a laptop's few cores can
# compete with the arithmetic. Here the whole training set is one tensor in memory; each
# step receives only the indices of its batch, gathers the images, and runs the forward
# pass, the gradients (`tf.GradientTape` records the forward pass so that it can
# differentiate it) and Adam's update in one compiled function (`tf.function`, traced into
# a graph on its first call). The Python loop around it only slices a shuffled list of
# indices. `jit_compile=True` would also compile the graph with XLA (exercise 4).
#
# One line before the step matters for a run this short: `optimizer.build(...)` creates
# Adam's two moment variables per weight *now*, eagerly. Left to itself, Adam creates them
# during the first trace of the step, and `tf.function`, which may not create variables on
# later calls, then traces the whole step a second time. Below we measure what that
# second trace costs.


# %%
# @save helpers.speed_run
def make_train_step(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    loss_fn: keras.losses.Loss,
    images: tf.Tensor,
    labels: tf.Tensor,
    jit_compile: bool = False,
    build_optimizer: bool = True,
) -> Callable[[np.ndarray], None]:
    """Return a compiled step that trains ``model`` on the images at the given indices.

    The optimizer's variables are created first, so that the step is traced only once;
    ``build_optimizer=False`` leaves them to the first trace (for the comparison below).
    """
    if build_optimizer:
        optimizer.build(model.trainable_variables)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)], jit_compile=jit_compile)
    def train_step(batch):
        x, y = tf.gather(images, batch), tf.gather(labels, batch)
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)

    return train_step


# %% [markdown]
# One run builds a fresh model under the chosen precision, compiles the step, shuffles the
# indices every epoch, and returns its training time and test accuracy. Compiling the step
# is part of each run's training time. The function takes the precision as an argument, so
# that we can run it for several seeds and precisions.


# %%
# @save helpers.speed_run
def time_speed_run(
    images: tf.Tensor,
    labels: tf.Tensor,
    x_test: np.ndarray,
    y_test: np.ndarray,
    seed: int,
    precision: str = "float32",
    epochs: int = 1,
    batch_size: int = 256,
    jit_compile: bool = False,
) -> tuple[float, float]:
    """Train the speed CNN once with our own step; return (training seconds, test accuracy).

    ``images`` and one-hot ``labels`` are the training set as tensors; ``precision`` is a
    Keras dtype policy ("float32", "mixed_bfloat16"), restored afterwards.
    """
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        config.set_seed(seed, deterministic=False)
        model = build_speed_cnn()
        optimizer, loss_fn = speed_recipe(epochs * math.ceil(len(images) / batch_size))
        start = time.perf_counter()
        train_step = make_train_step(model, optimizer, loss_fn, images, labels, jit_compile)
        rng = np.random.default_rng(seed)
        for _ in range(epochs):
            order = rng.permutation(len(images)).astype("int32")  # a new shuffle every epoch
            for first in range(0, len(order), batch_size):
                train_step(order[first : first + batch_size])
        seconds = time.perf_counter() - start
        predictions = model.predict(x_test, batch_size=1000, verbose=0).argmax(axis=1)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    return seconds, float((predictions == y_test).mean())


# %% [markdown]
# The training set becomes one tensor once, here, before any clock starts, just as the
# article's pipeline starts from arrays already in memory.

# %%
images = tf.constant(x_train)  # the whole training set, held in memory
n_images = len(x_train)
del x_train  # the tensor is a copy: the array's 170 MB can go
labels = tf.one_hot(y_train, 10)  # label smoothing needs one-hot targets
batch_size = 256  # time_speed_run's default
steps = math.ceil(n_images / batch_size)
print(f"{n_images:,} training images: {steps} steps of {batch_size} per epoch")

# %% [markdown]
# ## Run it over several seeds
#
# One lucky seed proves nothing, so we report the mean over 5 seeds (2 in fast mode).

# %%
seeds = [0, 1] if FAST else [0, 1, 2, 3, 4]
runs = []
for seed in seeds:
    seconds, accuracy = time_speed_run(images, labels, x_test, y_test, seed)
    runs.append(
        {"precision": "float32", "seed": seed, "seconds": seconds, "test accuracy": accuracy}
    )
    print(f"seed {seed}: {seconds:5.2f} s, test accuracy {accuracy:.2%}")

# %% [markdown]
# ## Try bfloat16 mixed precision
#
# bfloat16 keeps float32's range but only 8 bits of precision (2 to 3 decimal digits).
# Under the `mixed_bfloat16` policy, layers compute in bfloat16 and keep their weights in
# float32; our last layer stays float32 so the probabilities are exact enough. CPUs with
# the AVX512-BF16 instructions (this one has them if the setup cell says `True`) can
# multiply bfloat16 numbers faster. Whether *this* model gets faster depends on whether
# the savings beat the cost of converting between the two formats; and we must check that
# accuracy survives.

# %%
for seed in seeds:
    seconds, accuracy = time_speed_run(images, labels, x_test, y_test, seed, "mixed_bfloat16")
    runs.append(
        {"precision": "mixed_bfloat16", "seed": seed, "seconds": seconds, "test accuracy": accuracy}
    )
    print(f"seed {seed}: {seconds:5.2f} s, test accuracy {accuracy:.2%}")

# %% [markdown]
# ## Compare with the article's pipeline
#
# The mean over seeds for each precision, and the speed-up: the article's training time
# divided by the speed run's, both measured in this process.

# %%
runs = pd.DataFrame(runs)
summary = runs.groupby("precision").agg(
    seeds=("seed", "count"),
    mean_seconds=("seconds", "mean"),
    mean_accuracy=("test accuracy", "mean"),
    min_accuracy=("test accuracy", "min"),
)
summary["speed-up vs article"] = article_seconds / summary["mean_seconds"]
summary.loc["article pipeline"] = [1, article_seconds, article_accuracy, article_accuracy, 1.0]
summary.style.format(
    {
        "mean_seconds": "{:.2f} s",
        "mean_accuracy": "{:.2%}",
        "min_accuracy": "{:.2%}",
        "speed-up vs article": "{:.1f}x",
    }
)

# %%
target_accuracy, target_speedup, aim_speedup = 0.99, 40, 50
best = summary.drop("article pipeline")["mean_seconds"].idxmin()
reached = summary.loc[best, "mean_accuracy"] >= target_accuracy
speedup = summary.loc[best, "speed-up vs article"]
print(
    f"fastest: {best}, {summary.loc[best, 'mean_seconds']:.2f} s, "
    f"mean test accuracy {summary.loc[best, 'mean_accuracy']:.2%} over {len(seeds)} seeds "
    f"({'reaches' if reached else 'misses'} the {target_accuracy:.0%} target), "
    f"speed-up over the article's pipeline: {speedup:.1f}x "
    f"({'reaches' if speedup >= target_speedup else 'misses'} the {target_speedup}x target, "
    f"{'reaches' if speedup >= aim_speedup else 'misses'} the {aim_speedup}x aim)"
)

# %% [markdown]
# Timings on a shared or busy machine move from one run to the next, so the sentences below
# are written by code from this run's numbers, and two times within 2% of each other count
# as level.


# %%
level_within = 0.02


def compared(seconds: float, reference: float, name: str, tolerance: float = level_within) -> str:
    """Return "faster than NAME", "slower than NAME", or "level with NAME" within ``tolerance``."""
    if abs(seconds / reference - 1) <= tolerance:
        return f"level with {name}"
    return f"{'faster' if seconds < reference else 'slower'} than {name}"


# %%
by_seed = runs.pivot(index="seed", columns="precision", values="seconds")
seeds_by_verdict = {}
for seed, row in by_seed.iterrows():
    verdict = compared(row["mixed_bfloat16"], row["float32"], "float32")
    seeds_by_verdict.setdefault(verdict, []).append(str(seed))
per_seed = "; ".join(
    f"{verdict} with seed{'s' if len(group) > 1 else ''} {', '.join(group)}"
    for verdict, group in seeds_by_verdict.items()
)
mean_float32 = summary.loc["float32", "mean_seconds"]
mean_bfloat16 = summary.loc["mixed_bfloat16", "mean_seconds"]
display(
    Markdown(
        f"In this run bfloat16 was {per_seed} (times within {level_within:.0%} of each other "
        f"count as level). On average it was "
        f"{compared(mean_bfloat16, mean_float32, 'float32')} ({mean_bfloat16:.2f} s against "
        f"{mean_float32:.2f} s), with a mean test accuracy of "
        f"{summary.loc['mixed_bfloat16', 'mean_accuracy']:.2%} against "
        f"{summary.loc['float32', 'mean_accuracy']:.2%}."
    )
)

# %%
fig, (ax_time, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.5))
order = ["article pipeline", "float32", "mixed_bfloat16"]
ax_time.barh(
    order, summary.loc[order, "mean_seconds"], color=["tab:gray", "tab:blue", "tab:orange"]
)
ax_time.set_xlabel("training seconds (mean over seeds)")
ax_time.invert_yaxis()
for precision, color in [("float32", "tab:blue"), ("mixed_bfloat16", "tab:orange")]:
    chosen = runs[runs["precision"] == precision]
    ax_acc.scatter(chosen["seed"], chosen["test accuracy"], label=precision, color=color)
ax_acc.axhline(target_accuracy, color="black", linestyle="--", linewidth=1, label="target 99%")
ax_acc.axhline(article_accuracy, color="tab:gray", linewidth=1, label="article pipeline")
ax_acc.set_xlabel("seed")
ax_acc.set_ylabel("test accuracy")
ax_acc.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## What our own training step buys
#
# The same recipe once more, for one seed, in the fastest precision, but trained the usual
# way: `model.compile` and `model.fit` on a `tf.data` pipeline (cached, shuffled, batched,
# prefetched). Same network, schedule, optimizer, loss and precision; only the machinery
# around the step differs.

# %%
keras.mixed_precision.set_global_policy(best)
config.set_seed(0, deterministic=False)
fit_model = build_speed_cnn()
optimizer, loss_fn = speed_recipe(steps)
# Keras' default, "auto", turns XLA on where there is a GPU; our step uses none, nor does this
fit_model.compile(optimizer=optimizer, loss=loss_fn, metrics=["accuracy"], jit_compile=False)
train = (
    tf.data.Dataset.from_tensor_slices((images, labels))
    .cache()
    .shuffle(n_images, seed=0)
    .batch(batch_size)
    .prefetch(tf.data.AUTOTUNE)
)
start = time.perf_counter()
fit_model.fit(train, epochs=1, shuffle=False, verbose=0)  # the pipeline shuffles
fit_seconds = time.perf_counter() - start
fit_accuracy = fit_model.evaluate(x_test, tf.one_hot(y_test, 10), batch_size=1000, verbose=0)[1]
keras.mixed_precision.set_global_policy("float32")
del fit_model, train  # let the pipeline's cached copy of the images go
own_seconds = summary.loc[best, "mean_seconds"]
print(f"model.fit:           {fit_seconds:5.2f} s, test accuracy {fit_accuracy:.2%} (seed 0)")
print(
    f"our training step:   {own_seconds:5.2f} s (mean over {len(seeds)} seeds), "
    f"{compared(own_seconds, fit_seconds, 'model.fit')} ({fit_seconds / own_seconds:.1f}x its speed)"
)

# %% [markdown]
# ## Where the time goes
#
# One more run of the fastest precision, seed 0, taken apart: building the network and
# its optimizer, tracing the step into a graph (`get_concrete_function` does only that),
# the first call (TensorFlow optimises the graph and oneDNN, its CPU library, prepares its
# kernels), and the other steps. We also time an empty compiled step, which only gathers
# a batch of labels: that is what calling a `tf.function` from Python costs, once per step.
# On a busy machine the total of this one run can stray from the mean over seeds above.

# %%
keras.mixed_precision.set_global_policy(best)
config.set_seed(0, deterministic=False)
order = np.random.default_rng(0).permutation(len(images)).astype("int32")
batches = [order[first : first + batch_size] for first in range(0, len(order), batch_size)]
clock = [time.perf_counter()]
model = build_speed_cnn()
optimizer, loss_fn = speed_recipe(steps)
train_step = make_train_step(model, optimizer, loss_fn, images, labels)
clock.append(time.perf_counter())
train_step.get_concrete_function()  # trace only
clock.append(time.perf_counter())
train_step(batches[0])
clock.append(time.perf_counter())
for batch in batches[1:]:
    train_step(batch)
clock.append(time.perf_counter())
stage_seconds = dict(
    zip(
        ["build network and optimizer", "trace the step", "first step", "the other steps"],
        np.diff(clock),
        strict=True,
    )
)


@tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
def empty_step(batch):
    return tf.gather(labels, batch)


empty_step(batches[0])  # trace it first: we want the cost of a call
start = time.perf_counter()
for batch in batches:
    empty_step(batch)
call_seconds = time.perf_counter() - start
for stage, seconds in stage_seconds.items():
    print(f"{stage:<28} {seconds:5.2f} s")
print(f"{'total':<28} {sum(stage_seconds.values()):5.2f} s")
print(f"of which calling {len(batches)} compiled steps from Python: {call_seconds:.2f} s")

# %%
fig, ax = plt.subplots(figsize=(9, 1.8))
left = 0.0
for (stage, seconds), color in zip(stage_seconds.items(), plt.cm.tab10.colors, strict=False):
    ax.barh(0, seconds, left=left, color=color, label=f"{stage} ({seconds:.2f} s)")
    left += seconds
ax.set_yticks([])
ax.set_xlabel(f"seconds of one training run ({best}, seed 0)")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.6), ncol=2, fontsize=8)
plt.show()

# %% [markdown]
# What the single trace saves: the same step traced with Adam's variables left to the
# first trace, against built first. Both are timed from the call to `make_train_step` to
# the end of tracing, on fresh networks, three times each in turn; we keep the median.


# %%
def seconds_to_trace(build_optimizer: bool) -> float:
    """Return the seconds from a fresh network to its traced training step."""
    model = build_speed_cnn()
    optimizer, loss_fn = speed_recipe(steps)
    start = time.perf_counter()
    make_train_step(
        model, optimizer, loss_fn, images, labels, build_optimizer=build_optimizer
    ).get_concrete_function()
    return time.perf_counter() - start


trace_times = {False: [], True: []}
for _ in range(3):
    for build_optimizer in (False, True):
        trace_times[build_optimizer].append(seconds_to_trace(build_optimizer))
trace_twice, trace_once = np.median(trace_times[False]), np.median(trace_times[True])
keras.mixed_precision.set_global_policy("float32")
print(f"optimizer built in the trace (traced twice): {trace_twice:.2f} s")
print(f"optimizer built first (traced once):         {trace_once:.2f} s")

# %% [markdown]
# ## What limits it
#
# Count the work. A convolution's multiply-adds per image are its output positions times
# its output channels times the size of its kernel (height x width x input channels); a
# dense layer's are its inputs times its units. Training costs about three times the
# forward pass: the forward pass itself, the gradient with respect to each layer's input,
# and the gradient with respect to its weights. We compare the rate the steps reached with
# what this CPU does on the friendliest job there is, a large matrix product.


# %%
def multiply_adds(model: keras.Model) -> int:
    """Return the multiply-adds of one image's forward pass through ``model``'s conv and dense layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            height, width, channels = layer.output.shape[1:]
            kernel_height, kernel_width = layer.kernel_size
            kernel_size = kernel_height * kernel_width * layer.input.shape[-1]
            total += height * width * channels * kernel_size
        elif isinstance(layer, layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return total


def matmul_rate(dtype: tf.DType, n: int = 1024, repeats: int = 20) -> float:
    """Return this CPU's multiply-adds per second on ``n`` x ``n`` matrix products."""
    a = tf.random.uniform([n, n], dtype=tf.float32)
    a = tf.cast(a, dtype)
    tf.matmul(a, a).numpy()  # warm up
    start = time.perf_counter()
    for _ in range(repeats):
        product = tf.matmul(a, a)
    product.numpy()  # wait for the last product
    return repeats * n**3 / (time.perf_counter() - start)


per_image = multiply_adds(build_speed_cnn())
training_work = 3 * per_image * n_images
images_in_other_steps = n_images - len(batches[0])
steps_rate = 3 * per_image * images_in_other_steps / stage_seconds["the other steps"]
matmul_peak = matmul_rate(tf.bfloat16 if best == "mixed_bfloat16" else tf.float32)
number_format = best.removeprefix("mixed_")
print(f"speed CNN: {per_image:,} multiply-adds per image, forward pass")
print(f"one training epoch: about {training_work / 1e9:.0f} billion multiply-adds")
print(f"the steps reached:  {steps_rate / 1e9:5.0f} billion per second")
print(f"a large {number_format} matrix product: {matmul_peak / 1e9:5.0f} billion per second")

# %%
floor_seconds = (
    training_work / matmul_peak + stage_seconds["trace the step"] + stage_seconds["first step"]
)
display(
    Markdown(
        f"The steps used {steps_rate / matmul_peak:.0%} of the rate this CPU reaches on a "
        f"large matrix product. At that rate the epoch's arithmetic would take "
        f"{training_work / matmul_peak:.2f} s, and with this run's tracing and first step the "
        f"run would take {floor_seconds:.2f} s, {article_seconds / floor_seconds:.0f} times "
        f"faster than the article's pipeline. So what limits this run is less the amount of "
        f"arithmetic than how well it keeps the CPU busy: the layers are small (a few "
        f"channels, batches of {batch_size}), and small kernels spend much of their time on "
        f"overheads that a large matrix product spreads thin. Fewer multiply-adds (fewer "
        f"images, fewer channels) or fuller kernels (larger batches) would go faster; in a "
        f"single epoch each risks the accuracy (exercise 3 tries another batch size)."
    )
)

# %% [markdown]
# ## Where the speed comes from
#
# Each choice of the recipe, with what this run measured for it. The one-cycle schedule
# with a high peak, Adam with short memories and label smoothing buy no speed themselves:
# they are what lets so few steps reach the accuracy. Times on a shared or busy machine
# move from one run to the next, which is why both pipelines are timed in the same process
# and the speed run over several seeds.

# %%
article_steps = article_epochs * math.ceil(n_images / article_batch_size)
speed_accuracy = summary.loc[best, "mean_accuracy"]
article_per_image = article_seconds / (article_epochs * n_images)
speed_per_image = stage_seconds["the other steps"] / images_in_other_steps
precision_ratio = mean_float32 / mean_bfloat16
effects = [
    (
        "one epoch in batches of 256, not ten in batches of 128",
        f"{steps:,} steps instead of {article_steps:,} ({article_steps / steps:.0f} times fewer)",
    ),
    (
        "the small strided network, our own step and the chosen precision",
        f"{speed_per_image * 1e6:.0f} µs of training per image seen, against the article "
        f"pipeline's {article_per_image * 1e6:.0f} µs ({article_per_image / speed_per_image:.1f} "
        f"times less)",
    ),
    (
        "our own step instead of `model.fit` (same network and precision)",
        f"{fit_seconds / own_seconds:.1f} times the speed of `model.fit`",
    ),
    (
        "bfloat16 instead of float32",
        f"{compared(mean_bfloat16, mean_float32, 'float32')}: {precision_ratio:.2f} times "
        f"float32's speed (chosen: {best})",
    ),
    (
        "Adam's variables built before tracing",
        f"{trace_twice - trace_once:.2f} s less tracing per run "
        f"({(trace_twice - trace_once) / own_seconds:.0%} of a run)",
    ),
]
accuracy_word = {1: "higher than", 0: "equal to", -1: "lower than"}[
    int(np.sign(speed_accuracy - article_accuracy))
]
display(
    Markdown(
        "| choice | measured in this run |\n| --- | --- |\n"
        + "\n".join(f"| {choice} | {effect} |" for choice, effect in effects)
        + f"\n\nWith all of them, the speed run's mean test accuracy, {speed_accuracy:.2%}, is "
        f"{accuracy_word} the article pipeline's {article_accuracy:.2%}, and it trains "
        f"{speedup:.1f} times faster."
    )
)

# %% [markdown]
# ## Summary
#
# - A small LeNet-like network with a strided first convolution, one epoch, a one-cycle
#   schedule with a high peak, Adam with short memories (`beta_1=0.7, beta_2=0.9`) and
#   label smoothing aim at 99% on MNIST in seconds on a laptop CPU; whether this run
#   reached it, and its speed-up over the article's pipeline, is printed above.
# - A hand-written training step (`tf.GradientTape` inside `tf.function`) on data held in
#   memory skips machinery that `model.fit` runs at every step; build the optimizer before
#   tracing so that the step is traced once; set the CPU threads before TensorFlow runs
#   its first operation.
# - In a run of seconds, tracing and the first step are a cost worth measuring (the
#   stacked bar above gives their share in this run); the rest is the arithmetic, run well
#   below the CPU's best rate because the layers are small.
# - bfloat16 mixed precision is one line (`keras.mixed_precision.set_global_policy`); check
#   both accuracy and time on your CPU before keeping it.
# - Report a mean over seeds, timed against the baseline in the same process, and let the
#   numbers choose the words.

# %% [markdown]
# ## Exercises
#
# 1. What does bfloat16 do to a number? Convert 1/3, 1000.1 and 1e-20 to bfloat16 and back
#    and print the errors.
# 2. Plot the speed run's learning-rate schedule over its 211 steps (or however many your
#    data gives).
# 3. Run the recipe once with `batch_size=128` (more, smaller steps). Slower? More accurate?
# 4. Compile the training step with XLA (`jit_compile=True`). In a one-epoch run, does the
#    compilation pay for itself?

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
values = tf.constant([1 / 3, 1000.1, 1e-20], dtype=tf.float32)
rounded = tf.cast(tf.cast(values, tf.bfloat16), tf.float32)
for value, back in zip(values.numpy(), rounded.numpy(), strict=True):
    print(f"{value:<12.6g} -> {back:<12.6g} relative error {abs(back - value) / value:.1e}")
# About 3 significant digits survive, but the range is float32's: 1e-20 is still 1e-20,
# where float16 would give 0.

# %% [markdown]
# **Solution to exercise 2**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
schedule = architectures.one_cycle(1.5e-2, steps)  # speed_recipe's schedule (peak 0.015)
fig, ax = plt.subplots(figsize=(6, 2.5))
ax.plot([float(schedule(step)) for step in range(steps)])
ax.set_xlabel("step")
ax.set_ylabel("learning rate")
plt.show()

# %% [markdown]
# **Solution to exercise 3**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
# Both batch sizes timed here, back to back, with the same seed
results = {
    size: time_speed_run(images, labels, x_test, y_test, 0, batch_size=size) for size in (256, 128)
}
for size, (seconds, accuracy) in results.items():
    errors = round((1 - accuracy) * len(y_test))
    print(f"batch {size}: {seconds:.2f} s, test accuracy {accuracy:.2%} ({errors} errors)")
print(f"batch 128 is {compared(results[128][0], results[256][0], 'batch 256')}")
# Twice the steps mean twice the per-step overhead and smaller, less efficient batches,
# but also twice as many updates: the lines above say which won in this run.

# %% [markdown]
# **Solution to exercise 4**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
# Both timed here, back to back, with the same seed
results = {
    xla: time_speed_run(images, labels, x_test, y_test, 0, jit_compile=xla) for xla in (False, True)
}
for xla, (seconds, accuracy) in results.items():
    print(f"{'with' if xla else 'without'} XLA: {seconds:.2f} s, test accuracy {accuracy:.2%}")
print(f"the run with XLA is {compared(results[True][0], results[False][0], 'the run without')}")
# The compilation is counted in the training time: in a longer run it is paid once and
# the compiled step has more steps to win it back.
