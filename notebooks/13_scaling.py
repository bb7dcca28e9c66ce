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
# # 13 · Scale up training
#
# Train the same CNN on several GPUs or several machines with `tf.distribute`, and learn
# what has to change when you do: the batch size, the learning rate and the number format.
#
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mnist-cnn-course/mnist-cnn-course/main?urlpath=lab/tree/notebooks/13_scaling.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-cnn-course/mnist-cnn-course/blob/main/notebooks/13_scaling.ipynb)
#
# [Previous: 12 · Read your own digit](12_your_own_digit.ipynb) · [Next: 14 · Other datasets](14_other_datasets.ipynb)

# %% [markdown]
# ## What you will learn
#
# - how data-parallel training works: one copy of the model per device, gradients averaged
#   after every step;
# - how to use `MirroredStrategy` (several GPUs in one machine) and
#   `MultiWorkerMirroredStrategy` with `TF_CONFIG` (several machines);
# - why the global batch is the per-replica batch times the number of replicas, and how
#   to scale the learning rate with it (linear or square-root rule, warm-up);
# - how to write the distributed training loop yourself, with `strategy.run` and
#   `strategy.reduce`, as Keras 3 needs for several machines;
# - how to choose a 16-bit number format (`mixed_float16`, `mixed_bfloat16`) by measuring
#   step times on your own hardware;
# - how to start a two-worker cluster on your own machine and read its logs.
#
# ## Before you start
#
# Read [04 · Train the model](04_training.ipynb) first: this notebook trains the same model
# in the same way, then distributes it. It needs only `data/mnist.npz`; it saves the
# two-worker model as `models/multi_worker_cnn.keras`. The README's table of the latest
# full run gives how long it takes and its peak memory (this kernel and two worker
# processes, each with its own TensorFlow); it is built to stay under Binder's memory limit.
# No GPU is needed: on one CPU everything runs with one replica, and the notebook prints
# what would change on more devices.

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

import json
import math
import time
from collections.abc import Callable

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf
from IPython.display import Markdown, display

from helpers import config, data, distribute, models, precision, saving

config.set_seed()
FAST = config.fast_mode()
print(config.describe_mode())
print("TensorFlow", tf.__version__, "| Keras", keras.__version__)

# %% [markdown]
# ## Understand data parallelism
#
# All the strategies in this notebook do *synchronous data parallelism*:
#
# 1. every device (a *replica*) holds a full copy of the model, with the same weights;
# 2. each step, every replica takes its own slice of the batch and computes gradients on it;
# 3. an **all-reduce** adds the gradients of all replicas, so every replica gets the same
#    total;
# 4. every replica applies that same update, so the copies stay identical.
#
# The model is not split: each device must fit the whole model. What grows with the number
# of devices is how many images one optimizer step sees.

# %% [markdown]
# ## See which devices TensorFlow can use
#
# `MirroredStrategy` uses every GPU of this machine, or the CPU if there is none. With only
# a CPU it finds one device and runs one replica: the same training as usual, through the
# distributed code path. The cell prints what it found here.

# %%
gpus = tf.config.list_physical_devices("GPU")
print(f"{len(tf.config.list_physical_devices('CPU'))} CPU device(s), {len(gpus)} GPU(s)")
strategy = tf.distribute.MirroredStrategy()
print("replicas in sync:", strategy.num_replicas_in_sync)
print("devices:", ", ".join(strategy.extended.worker_devices))

# %% [markdown]
# ## Scale the batch size and the learning rate
#
# Each replica keeps the batch size that fits its memory, the *per-replica* batch. One step
# then sees the **global batch** = per-replica batch × replicas, so an epoch has fewer
# steps. The first line of the next cell, `# @save helpers.distribute`, copies the cell into
# `helpers/distribute.py` (run `python -m helpers.maintainer.lessons` after changing it),
# where the worker processes further down import it.

# %%
# @save helpers.distribute
BASE_BATCH_SIZE = 128  # the article's batch, at which Adam(learning_rate=1e-3) was tuned
BASE_LEARNING_RATE = 1e-3


def positive_int(name: str, value: int) -> int:
    """Return ``value`` as an int; raise ``ValueError`` naming ``name`` unless it is >= 1."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def global_batch_size(per_replica: int, replicas: int) -> int:
    """Return how many examples one optimizer step sees: ``per_replica`` on each replica.

    Raises ``ValueError`` unless both are positive integers.
    """
    return positive_int("per_replica", per_replica) * positive_int("replicas", replicas)


# %% [markdown]
# With fewer, larger steps the learning rate must grow too:
#
# - the **linear rule** (Goyal et al., 2017, for SGD): multiply the rate by global batch ÷
#   the batch it was tuned at. The article tuned Adam at `learning_rate=0.001` with batches
#   of 128;
# - the **square-root rule**: multiply the rate by the square root of that ratio. Gentler,
#   it is the rule Malladi et al. (2022) derive for Adam (their version also adjusts
#   Adam's β and ε), so it is a reasonable start for Adam.
#
# These are starting points, not laws: beyond some batch size (8,192 images for Goyal et
# al.'s ResNet-50 on ImageNet), accuracy drops whatever the rate, so check on the
# validation set.

# %%
# @save helpers.distribute
SCALING_RULES = ("linear", "sqrt")


def scaled_learning_rate(
    base: float, global_batch: int, base_batch: int = BASE_BATCH_SIZE, rule: str = "linear"
) -> float:
    """Return the learning rate for ``global_batch``, given ``base`` tuned at ``base_batch``.

    ``rule="linear"`` multiplies ``base`` by ``global_batch / base_batch``, ``"sqrt"`` by
    its square root. Raises ``ValueError`` for a non-positive rate or batch, or another rule.
    """
    if not base > 0:
        raise ValueError(f"base learning rate must be positive, got {base!r}")
    ratio = positive_int("global_batch", global_batch) / positive_int("base_batch", base_batch)
    if rule not in SCALING_RULES:
        raise ValueError(f"rule must be one of {SCALING_RULES}, got {rule!r}")
    return float(base * (ratio if rule == "linear" else ratio**0.5))


# %% [markdown]
# What the two functions give for 1, 2 and 8 GPUs on the 54,000 training images:

# %%
# NBVAL_CHECK_OUTPUT
per_replica_batch = 128
n_examples = 54_000
plan = pd.DataFrame(
    [
        {
            "GPUs": replicas,
            "global batch": (batch := global_batch_size(per_replica_batch, replicas)),
            "steps per epoch": math.ceil(n_examples / batch),
            "learning rate (linear)": scaled_learning_rate(1e-3, batch),
            "learning rate (sqrt)": scaled_learning_rate(1e-3, batch, rule="sqrt"),
        }
        for replicas in (1, 2, 8)
    ]
)
print(plan.to_string(index=False, float_format="{:.5f}".format))

# %% [markdown]
# A large rate on a freshly initialised model can diverge, so **warm up**: start at the
# small rate and rise to the scaled one over the first steps, then decay. Warm-up and decay
# form one *schedule*, a learning rate per optimizer step; Keras' `CosineDecay` does both.


# %%
# @save helpers.distribute
def warmup_cosine_schedule(
    start: float, peak: float, total_steps: int, warmup_steps: int
) -> keras.optimizers.schedules.LearningRateSchedule:
    """Return a schedule rising linearly from ``start`` to ``peak``, then a cosine to zero.

    The rise takes ``warmup_steps`` optimizer steps and the cosine reaches 0 at
    ``total_steps``; pass it as ``keras.optimizers.Adam(learning_rate=...)``. Raises
    ``ValueError`` unless both rates are positive and ``0 <= warmup_steps < total_steps``.
    """
    if not (start > 0 and peak > 0):
        raise ValueError(f"start and peak must be positive, got {start!r} and {peak!r}")
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(
            f"need 0 <= warmup_steps < total_steps, got {warmup_steps} and {total_steps}"
        )
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=start,
        decay_steps=total_steps - warmup_steps,
        warmup_target=peak,
        warmup_steps=warmup_steps,
    )


# %% [markdown]
# Plotted against epochs, with the linear rule, the larger clusters warm up to a higher
# peak:

# %%
fig, ax = plt.subplots(figsize=(7, 3.2), layout="constrained")
for replicas in (1, 2, 8):
    batch = global_batch_size(per_replica_batch, replicas)
    steps = math.ceil(n_examples / batch) * 10  # 10 epochs
    schedule = warmup_cosine_schedule(
        1e-3, scaled_learning_rate(1e-3, batch), total_steps=steps, warmup_steps=steps // 10
    )
    points = np.linspace(0, steps, 201).astype(int)  # 200 points are enough for a curve
    ax.plot(points / (steps / 10), [float(schedule(s)) for s in points], label=f"{replicas} GPU(s)")
ax.set_xlabel("epoch")
ax.set_ylabel("learning rate")
ax.set_title("Linear warm-up over the first epoch, then cosine decay")
ax.legend()
plt.show()

# %% [markdown]
# ## Train on several machines
#
# `MirroredStrategy` (above) splits each batch between the devices of one machine.
# `MultiWorkerMirroredStrategy` does the same synchronous training across machines: each
# machine (a *worker*) runs the same script, and the all-reduce runs over the network
# (gRPC, with collective operations). Each worker learns who it is from the `TF_CONFIG`
# environment variable: the list of all workers, the same on every machine, and its own
# index in it. Worker 0 is the **chief**: the one that saves the model and writes logs.
#
# For two machines listening on port 12345, the two `TF_CONFIG` values are:

# %%
# NBVAL_CHECK_OUTPUT
cluster = ["machine-a.example.org:12345", "machine-b.example.org:12345"]
for index, address in enumerate(cluster):
    print(
        f"on {address.split(':')[0]}: TF_CONFIG='{json.dumps(distribute.tf_config(cluster, index))}'"
    )

# %% [markdown]
# The workers' servers accept anyone who can reach their port, without a password: run
# clusters only on a network you trust.

# %% [markdown]
# ## Write the training loop yourself
#
# > **Note: Keras 3 and `MultiWorkerMirroredStrategy`.** The TensorFlow tutorial on
# > multi-worker training builds the model in `strategy.scope()` and calls `model.fit`. With
# > Keras 3 (TensorFlow 2.16 and later) that fails on the first batch as soon as there are
# > two workers: before training, Keras averages one input batch across replicas to build
# > the model, and the multi-worker all-reduce cannot take the `(images, labels)` pair it is
# > given (`ValueError: Attempt to convert a value (PerReplica ...)`). It is a known,
# > open limitation ([keras-team/keras#20585](https://github.com/keras-team/keras/issues/20585),
# > where François Chollet answers that Keras 3 does not work with this strategy).
# > **The fix** used here: a short custom training loop with `strategy.run`, written in the
# > next three cells, with the same model, Adam optimizer and loss. Alternatives: Keras 2
# > (`pip install tf_keras`, `TF_USE_LEGACY_KERAS=1`), or Keras 3 on the JAX backend with
# > `keras.distribution.DataParallel`.
#
# The three cells are saved into `helpers/distribute.py` like the ones above, and every
# worker process runs them from there.
#
# First the data. Each worker must read *its own* examples, or the replicas would compute
# the same gradients twice; and each replica takes its share of the global batch.
# `distribute_datasets_from_function` calls `dataset_fn` once per worker with an
# `InputContext` that says how many input pipelines there are, which one this is, and the
# per-replica batch size.


# %%
# @save helpers.distribute
def distributed_dataset(
    strategy: tf.distribute.Strategy,
    images: np.ndarray,
    labels: np.ndarray,
    global_batch: int,
    seed: int = config.DEFAULT_SEED,
) -> tf.distribute.DistributedDataset:
    """Return an endless, shuffled dataset that hands every replica its per-replica batches.

    Each worker keeps its own shard of the examples, so no two workers read the same one.
    """

    def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
        dataset = dataset.shard(context.num_input_pipelines, context.input_pipeline_id)
        dataset = dataset.shuffle(len(images), seed=seed).repeat()
        per_replica = context.get_per_replica_batch_size(global_batch)
        return dataset.batch(per_replica, drop_remainder=True)

    return strategy.distribute_datasets_from_function(dataset_fn)


# %% [markdown]
# Then one training step. `strategy.run` calls `replica_step` on every replica with that
# replica's batch; the optimizer's `apply_gradients` all-reduces (adds) the gradients of all
# replicas before it updates the weights. So each replica divides its summed loss by the
# **global** batch (`tf.nn.compute_average_loss`), not by its own: the sum over replicas is
# then the gradient of the mean loss over the global batch, exactly what one device would
# compute on the whole batch. `strategy.reduce("SUM", ...)` adds the replicas' losses and
# counts of correct answers into one number each, and `tf.function` compiles the whole step,
# all-reduce included, into one graph.


# %%
# @save helpers.distribute
def make_train_step(
    strategy: tf.distribute.Strategy,
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    global_batch: int,
) -> Callable:
    """Return a compiled step that trains every replica on its next batch.

    Called with an iterator over ``distributed_dataset``, the step returns the mean loss
    over the global batch and the number of correct predictions in it.
    """
    loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction=None)

    def replica_step(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as tape:
            probs = model(images, training=True)
            per_example = loss_fn(labels, probs)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        hits = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(probs, axis=1), labels), tf.float32))
        return loss, hits

    @tf.function
    def train_step(iterator) -> tuple[tf.Tensor, tf.Tensor]:
        loss, hits = strategy.run(replica_step, args=next(iterator))
        return strategy.reduce("SUM", loss, axis=None), strategy.reduce("SUM", hits, axis=None)

    return train_step


# %% [markdown]
# Last, the loop over epochs, in plain Python: `len(images) // global_batch` steps make one
# epoch, and the reduced loss and hits, the same numbers on every worker, make the history.
# The model and optimizer must have been created inside `strategy.scope()`, so that their
# variables are mirrored on every replica.


# %%
# @save helpers.distribute
def train_with_loop(
    strategy: tf.distribute.Strategy,
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    images: np.ndarray,
    labels: np.ndarray,
    global_batch: int,
    epochs: int,
    seed: int = config.DEFAULT_SEED,
    log: Callable[[str], None] = print,
) -> tuple[dict[str, list[float]], int]:
    """Train ``model`` for ``epochs``; return its history and the number of steps per epoch.

    The history holds the mean loss and the accuracy of every epoch; ``log`` gets one line
    per epoch.
    """
    steps = len(images) // global_batch
    train_step = make_train_step(strategy, model, optimizer, global_batch)
    iterator = iter(distributed_dataset(strategy, images, labels, global_batch, seed))
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    for epoch in range(epochs):
        total_loss = total_hits = 0.0
        for _ in range(steps):
            loss, hits = train_step(iterator)
            total_loss += float(loss)
            total_hits += float(hits)
        history["loss"].append(total_loss / steps)
        history["accuracy"].append(total_hits / (steps * global_batch))
        log(
            f"epoch {epoch + 1}/{epochs}: {steps} steps of {global_batch} images "
            f"({global_batch // strategy.num_replicas_in_sync} per replica), "
            f"loss {history['loss'][-1]:.4f}, accuracy {history['accuracy'][-1]:.4f}"
        )
    return history, steps


# %% [markdown]
# ## Start a two-worker cluster on this machine
#
# Two processes on one machine behave like two machines: `distribute.run_local_cluster`
# picks two free ports on localhost, starts `python -m helpers.distribute worker` twice,
# each with its own `TF_CONFIG`, and waits for both (with a timeout; if one fails it stops
# the other and shows the end of its error output). Each worker creates the strategy,
# builds the model and the optimizer in its scope, trains them with `train_with_loop` on
# its own half of the data, and writes its results to a JSON file. The run is small in both
# modes.
#
# We start the cluster now, before this kernel trains anything itself: each worker is a
# separate Python process with its own TensorFlow (the table below shows each one's peak
# memory), and on a machine with little memory, such as Binder's, the kernel and both
# workers must fit side by side.

# %%
cluster_train = 1_024 if FAST else 8_192
cluster_epochs = 1 if FAST else 2
cluster_start = time.perf_counter()
results = distribute.run_local_cluster(
    n_workers=2,
    workdir=config.models_dir() / "cluster",
    n_train=cluster_train,
    epochs=cluster_epochs,
    per_replica_batch=64,
    save_path=config.models_dir() / "multi_worker_cnn.keras",
    timeout_s=300,
)
cluster_seconds = time.perf_counter() - cluster_start

# %% [markdown]
# Each worker logged what it did: how many replicas are in sync (one per worker process),
# the global batch, and its loss and accuracy after every epoch. Compare the two logs line
# by line.

# %%
for result in results:
    print(f"--- {result['log_path']}")
    print(result["log"])

# %% [markdown]
# Side by side, with the SHA-256 of each copy's weights: equal hashes mean the copies are
# identical to the last bit. Only the chief saved the model.

# %%
summary = pd.DataFrame(
    [
        {
            "worker": r["task"],
            "chief": r["is_chief"],
            "global batch": r["global_batch"],
            "steps per epoch": r["steps_per_epoch"],
            "final loss": round(r["history"]["loss"][-1], 4),
            "test accuracy": r["test_accuracy"],
            "weights sha256": r["weights_sha256"][:16],
            "training (s)": round(r["train_seconds"], 1),
            "peak memory (MB)": round(r["peak_memory_mb"]),
            "saved model": os.path.basename(r["model_path"]) if r["model_path"] else "-",
        }
        for r in results
    ]
)
display(summary)
in_step = len({r["weights_sha256"] for r in results}) == 1 and all(
    r["history"] == results[0]["history"] for r in results
)
train_seconds = max(r["train_seconds"] for r in results)
display(
    Markdown(
        (
            f"The {len(results)} workers logged the same loss and accuracy in every epoch and "
            "ended with the same weights, so the same test accuracy: the all-reduce kept them "
            "in step."
            if in_step
            else "The workers' histories or weights differ: they did not stay in step."
        )
        + f" Training took {train_seconds:.1f} s of the cluster's {cluster_seconds:.1f} s; "
        "the rest went to starting the processes, connecting them, evaluating and saving."
    )
)

# %% [markdown]
# The saved file is an ordinary `.keras` model: load it without any strategy (with
# `helpers.saving.load_keras_model`, which uses `safe_mode=True`) and compare its accuracy
# with what the chief reported.

# %%
(_, _), (test_images, test_labels) = data.load_mnist()  # only the test set is needed here
x_test, y_test = data.scale_images(test_images), test_labels
chief = next(r for r in results if r["is_chief"])
loaded = saving.load_keras_model(chief["model_path"])
loaded_accuracy = np.mean(loaded.predict(x_test, verbose=0).argmax(axis=1) == y_test)
verdict = "the same" if abs(loaded_accuracy - chief["test_accuracy"]) < 5e-5 else "not the same"
print(
    f"loaded model: test accuracy {loaded_accuracy:.4f}; the chief reported "
    f"{chief['test_accuracy']:.4f} ({verdict})"
)

# %% [markdown]
# See the Keras 3 limitation for yourself: the same two workers, told to use `model.fit`.

# %%
try:
    distribute.run_local_cluster(
        n_workers=2, workdir=config.models_dir() / "cluster-fit", n_train=1_024, trainer="fit"
    )
    print("model.fit worked with MultiWorkerMirroredStrategy in this Keras version")
except distribute.WorkerError as error:
    print(str(error).splitlines()[0])

# %% [markdown]
# ## Train under `MirroredStrategy`
#
# Back in this kernel, on this machine's own devices. With one machine, `model.fit` works
# under the strategy, and the code is the usual one with two changes.
# Everything that creates variables (the model, the optimizer, the metrics) must be created
# inside `strategy.scope()`, so that each variable gets one copy per replica. `fit` then
# splits every global batch between the replicas. The sizes below follow the replicas this
# machine has, so the same cell does the right thing on a machine with 8 GPUs.

# %%
n_train = 6_000 if FAST else None
epochs = 1 if FAST else 3
(x_train, y_train), (x_val, y_val), (x_test, y_test) = data.prepare_mnist(n_train=n_train)

replicas = strategy.num_replicas_in_sync
batch_size = global_batch_size(per_replica_batch, replicas)
total_steps = math.ceil(len(x_train) / batch_size) * epochs
learning_rate = warmup_cosine_schedule(
    start=1e-3,
    peak=scaled_learning_rate(1e-3, batch_size),
    total_steps=total_steps,
    warmup_steps=total_steps // 10,
)
print(
    f"{replicas} replica(s) x {per_replica_batch} = global batch {batch_size}; "
    f"{total_steps} steps over {epochs} epoch(s)"
)

with strategy.scope():
    model = models.build_article_cnn()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )

# %% [markdown]
# Training looks exactly like before; only the batch size is the global one.

# %%
history = model.fit(
    x_train,
    y_train,
    batch_size=batch_size,
    epochs=epochs,
    validation_data=(x_val, y_val),
    verbose=2,
)
test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=batch_size, verbose=0)
print(f"test accuracy {test_accuracy:.4f} on {len(x_test):,} images")

# %% [markdown]
# The custom loop runs under this strategy too. This cell calls the `train_with_loop`
# defined above in this kernel, so if you change one of its cells and re-run it, this is
# where you see the effect (the workers keep the saved copy until
# `python -m helpers.maintainer.lessons` rewrites it). One epoch, at the scaled rate:

# %%
with strategy.scope():
    loop_model = models.build_article_cnn()
    loop_optimizer = keras.optimizers.Adam(learning_rate=scaled_learning_rate(1e-3, batch_size))
loop_history, loop_steps = train_with_loop(
    strategy, loop_model, loop_optimizer, x_train, y_train, batch_size, epochs=1
)
loop_accuracy = np.mean(loop_model.predict(x_test, verbose=0).argmax(axis=1) == y_test)
print(f"custom loop, 1 epoch: test accuracy {loop_accuracy:.4f} on {len(x_test):,} images")

# %% [markdown]
# ## Use 16-bit numbers where the hardware has them
#
# A *dtype policy* tells Keras to compute in 16-bit floats while keeping the weights in
# float32, so that small updates are not rounded away:
#
# - `mixed_float16` is the one for NVIDIA GPUs (Tensor Cores, compute capability 7.0 and
#   newer). float16 has a narrow range, so gradients can underflow to zero; `compile` then
#   wraps the optimizer in a `LossScaleOptimizer` that scales the loss up and the
#   gradients back down.
# - `mixed_bfloat16` has float32's range with fewer digits, so it needs no loss scaling.
#   TPUs, recent GPUs and CPUs with the `avx512_bf16` or `amx_bf16` instructions compute it
#   natively.
# - Without such hardware, 16-bit maths is emulated: there is no native speed-up to count
#   on, and a step may come out slower or faster than in float32. The timings below show
#   which, on this machine.
#
# TensorFlow's [mixed-precision guide](https://www.tensorflow.org/guide/mixed_precision)
# reports more than 3 times the speed on modern GPUs and more than 2 times on the latest
# Intel CPUs. A model as small as this one may not keep the hardware busy enough to gain as
# much; whether it gains anything on a given machine only a measurement tells. What each
# policy means:

# %%
# NBVAL_CHECK_OUTPUT
for name in ("float32", "mixed_float16", "mixed_bfloat16"):
    policy = keras.DTypePolicy(name)
    print(
        f"{name:15} computes in {policy.compute_dtype:9} keeps weights in {policy.variable_dtype}"
    )

# %% [markdown]
# What this machine has:

# %%
flags = precision.cpu_flags()
bf16_flags = sorted(flags & precision.BF16_CPU_FLAGS)
print("GPUs:", len(gpus))
print("bfloat16 instructions in this CPU:", bf16_flags or "none")

# %% [markdown]
# Measure rather than trust the hardware's name: time one training step of the article CNN
# under each policy (a few batches, the first one not counted). The numbers depend on the
# machine and on what else it is doing.

# %%
timings = {
    name: precision.seconds_per_step(name, x_train[:1280], y_train[:1280])
    for name in ("float32", "mixed_bfloat16", "mixed_float16")
}
fig, ax = plt.subplots(figsize=(6, 2.6), layout="constrained")
bars = ax.barh(list(timings), [1000 * s for s in timings.values()], color="tab:blue")
ax.bar_label(bars, fmt="%.0f ms", padding=3)
ax.set_xlabel("milliseconds per training step (batch 128)")
ax.set_title(f"Dtype policies on this machine ({'GPU' if gpus else 'CPU only'})")
ax.margins(x=0.2)
plt.show()

# %% [markdown]
# The policy to use is the fastest one measured, whatever the hardware is called:


# %%
def compared_with_float32(policy: str) -> str:
    """Return how long a step under ``policy`` took, relative to float32, in words."""
    ratio = timings[policy] / timings["float32"]
    return f"{ratio:.2f} times as long as a float32 step ({'slower' if ratio > 1 else 'faster'})"


fastest = min(timings, key=timings.get)
if gpus:
    machine = f"this machine's GPU ({len(gpus)} found)"
elif bf16_flags:
    machine = f"this CPU, with {', '.join(bf16_flags)},"
else:
    machine = "this CPU, without bfloat16 instructions,"
display(
    Markdown(
        f"On {machine} a bfloat16 step took {compared_with_float32('mixed_bfloat16')}, "
        f"and a float16 step {compared_with_float32('mixed_float16')}. "
        f"The policy worth using here is **{fastest}**: set it with "
        f"`keras.config.set_dtype_policy({fastest!r})` before building the model."
    )
)

# %% [markdown]
# With a 16-bit policy, also give the last layer `dtype="float32"`, so that the softmax is
# computed in full precision.
#
# ## Summary
#
# - Synchronous data parallelism copies the model to every replica and all-reduces the
#   gradients after every step; the copies stay identical.
# - `MirroredStrategy` covers the GPUs of one machine, `MultiWorkerMirroredStrategy` with
#   `TF_CONFIG` several machines. Create the model and optimizer inside `strategy.scope()`.
# - Global batch = per-replica batch × replicas. Scale the learning rate with it (linear
#   rule for SGD, square root as a gentler start for Adam), warm up, and check on the
#   validation set.
# - With Keras 3, multi-worker training needs a custom loop: a distributed dataset,
#   `strategy.run` of a step whose loss is divided by the global batch, `strategy.reduce`
#   of what it returns.
# - 16-bit policies are made for hardware that computes them natively, but the hardware's
#   name does not settle it: choose by measuring step times, as this notebook did (the
#   sentence under its bar chart names the policy that won on this machine).

# %% [markdown]
# ## Exercises
#
# 1. Your lab has 2 machines with 4 GPUs each, and 64 images per GPU fit in memory. How
#    many replicas are there, what is the global batch, how many steps make one epoch of
#    54,000 images, and what learning rate do the linear and square-root rules give from
#    Adam's 0.001 at batch 128? Write the `TF_CONFIG` of the second machine
#    (`gpu-2.lab:2222`, with the first at `gpu-1.lab:2222`) and check what TensorFlow reads
#    from it with `tf.distribute.cluster_resolver.TFConfigClusterResolver`.
# 2. Goyal et al. warmed up over 5 epochs of a 90-epoch run. Plot that schedule for 8 GPUs
#    (per-replica batch 128, 54,000 images) and print the step and value of its peak.
# 3. Do larger batches use the hardware better? With `precision.seconds_per_step`,
#    measure a float32 step at batch sizes 32, 128 and 512 and plot images per second.
#    What does the answer say about shrinking the per-replica batch to keep the global
#    batch fixed on more devices?

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
lab_replicas = 2 * 4
lab_batch = global_batch_size(64, lab_replicas)
print(
    f"{lab_replicas} replicas, global batch {lab_batch}, {math.ceil(54_000 / lab_batch)} steps per epoch"
)
print(
    f"linear rule: {scaled_learning_rate(1e-3, lab_batch):.5f}, "
    f"sqrt rule: {scaled_learning_rate(1e-3, lab_batch, rule='sqrt'):.5f}"
)
lab_config = distribute.tf_config(["gpu-1.lab:2222", "gpu-2.lab:2222"], index=1)
print("TF_CONFIG =", json.dumps(lab_config))
previous = os.environ.get("TF_CONFIG")
os.environ["TF_CONFIG"] = json.dumps(lab_config)
try:
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    print(
        "TensorFlow reads:",
        resolver.cluster_spec().as_dict(),
        "| this task:",
        resolver.task_type,
        resolver.task_id,
    )
finally:  # never leave TF_CONFIG set in this kernel
    if previous is None:
        del os.environ["TF_CONFIG"]
    else:
        os.environ["TF_CONFIG"] = previous

# %% [markdown]
# **Solution to exercise 2**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
goyal_batch = global_batch_size(128, 8)
goyal_steps_per_epoch = math.ceil(54_000 / goyal_batch)
goyal_schedule = warmup_cosine_schedule(
    1e-3,
    scaled_learning_rate(1e-3, goyal_batch),
    total_steps=90 * goyal_steps_per_epoch,
    warmup_steps=5 * goyal_steps_per_epoch,
)
goyal_points = np.linspace(0, 90 * goyal_steps_per_epoch, 901).astype(int)
goyal_rates = np.array([float(goyal_schedule(s)) for s in goyal_points])
peak_step = goyal_points[goyal_rates.argmax()]
print(
    f"peak {goyal_rates.max():.4f} at step {peak_step} (epoch {peak_step / goyal_steps_per_epoch:.0f})"
)
fig, ax = plt.subplots(figsize=(7, 3), layout="constrained")
ax.plot(goyal_points / goyal_steps_per_epoch, goyal_rates)
ax.set_xlabel("epoch")
ax.set_ylabel("learning rate")
ax.set_title("8 GPUs: 5-epoch warm-up, then cosine decay over 90 epochs")
plt.show()

# %% [markdown]
# **Solution to exercise 3**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
sizes = [32, 128, 512]
throughput = [
    size
    / precision.seconds_per_step(
        "float32", x_train[: 3 * size], y_train[: 3 * size], batch_size=size
    )
    for size in sizes
]
fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
ax.plot(sizes, throughput, marker="o")
ax.set_xscale("log", base=2)
ax.set_xlabel("batch size")
ax.set_ylabel("images per second")
ax.set_title("Throughput of one float32 training step on this machine")
plt.show()
rising = bool(np.all(np.diff(throughput) > 0))
print(
    "images per second:",
    ", ".join(f"{t:,.0f} at batch {s}" for s, t in zip(sizes, throughput, strict=True)),
)
if rising:
    print("Throughput rose with the batch here: small per-replica batches leave a device")
    print("partly idle, so keeping the global batch fixed while spreading it over more")
    print("devices makes each one less efficient, and the speed-up flattens.")
else:
    print("Throughput did not rise steadily with the batch here (a busy or small machine")
    print("can hide the effect): measure again, or on a GPU, where it is usually clear.")
