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
# - when 16-bit floats (`mixed_float16`, `mixed_bfloat16`) make training faster, and
#   when they make it slower;
# - how to start a two-worker cluster on your own machine and read its logs.
#
# ## Before you start
#
# Read [04 · Train the model](04_training.ipynb) first: this notebook trains the same model
# in the same way, then distributes it. It needs only `data/mnist.npz`; it saves the
# two-worker model as `models/multi_worker_cnn.keras`. On a laptop CPU it takes about a
# minute in full mode, and at its peak (this kernel and two worker processes, each with its
# own TensorFlow) it uses about 1.8 GB of memory, under Binder's 2 GB. No GPU is needed: on
# one CPU everything runs with one replica, and the notebook prints what would change on
# more devices.

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

import json
import math

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf

from helpers import config, data, distribute, models, saving

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
# `MirroredStrategy` uses every GPU of this machine, or the CPU if there is none. Here it
# finds one device, so it runs one replica: the same training as usual, through the
# distributed code path.

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
# steps. With fewer, larger steps the learning rate must grow too:
#
# - the **linear rule** (Goyal et al., 2017, for SGD): multiply the rate by global batch ÷
#   the batch it was tuned at. The article tuned Adam at `learning_rate=0.001` with batches
#   of 128;
# - the **square-root rule**, gentler, is often the better start for Adam;
# - a **warm-up**: start at the small rate and rise to the scaled one over the first steps,
#   because a large rate on a freshly initialised model can diverge.
#
# These are starting points, not laws: beyond a few thousand images per batch, accuracy
# usually drops whatever the rate, so check on the validation set. Here is what the
# helpers in `helpers/distribute.py` compute for 1, 2 and 8 GPUs on the 54,000 training
# images:

# %%
# NBVAL_CHECK_OUTPUT
per_replica_batch = 128
n_examples = 54_000
plan = pd.DataFrame(
    [
        {
            "GPUs": replicas,
            "global batch": (batch := distribute.global_batch_size(per_replica_batch, replicas)),
            "steps per epoch": math.ceil(n_examples / batch),
            "learning rate (linear)": distribute.scaled_learning_rate(1e-3, batch),
            "learning rate (sqrt)": distribute.scaled_learning_rate(1e-3, batch, rule="sqrt"),
        }
        for replicas in (1, 2, 8)
    ]
)
print(plan.to_string(index=False, float_format="{:.5f}".format))

# %% [markdown]
# The warm-up and the decay after it form one *schedule*, a learning rate per optimizer
# step. `distribute.warmup_cosine_schedule` builds Keras' `CosineDecay` with a linear
# warm-up; plotted against epochs, the larger clusters warm up to a higher peak:

# %%
fig, ax = plt.subplots(figsize=(7, 3.2), layout="constrained")
for replicas in (1, 2, 8):
    batch = distribute.global_batch_size(per_replica_batch, replicas)
    steps = math.ceil(n_examples / batch) * 10  # 10 epochs
    schedule = distribute.warmup_cosine_schedule(
        1e-3,
        distribute.scaled_learning_rate(1e-3, batch),
        total_steps=steps,
        warmup_steps=steps // 10,
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
#
# ## Start a two-worker cluster on this machine
#
# Two processes on one machine behave like two machines: `distribute.run_local_cluster`
# picks two free ports on localhost, starts `python -m helpers.distribute worker` twice,
# each with its own `TF_CONFIG`, and waits for both (with a timeout; if one fails it stops
# the other and shows the end of its error output). Each worker creates the strategy,
# trains on its own half of the data, and writes its results to a JSON file. The run is
# small in both modes: starting the processes takes longer than training.

# %% [markdown]
# We start the cluster now, before this kernel trains anything itself: each worker is a
# separate Python process with its own TensorFlow, about half a gigabyte of memory each,
# and on a machine with little memory (Binder gives 2 GB) the kernel and both workers must
# fit side by side.

# %%
cluster_train = 1_024 if FAST else 8_192
cluster_epochs = 1 if FAST else 2
results = distribute.run_local_cluster(
    n_workers=2,
    workdir=config.models_dir() / "cluster",
    n_train=cluster_train,
    epochs=cluster_epochs,
    per_replica_batch=64,
    save_path=config.models_dir() / "multi_worker_cnn.keras",
    timeout_s=300,
)

# %% [markdown]
# Each worker logged what it did. Both see 2 replicas (one per process), a global batch of
# 2 × 64 = 128, and the same loss after every epoch: the all-reduce kept them in step.

# %%
for result in results:
    print(f"--- {result['log_path']}")
    print(result["log"])

# %% [markdown]
# Side by side, the two copies of the model are identical to the last bit: the same SHA-256
# of their weights, so the same test accuracy. Only the chief saved the model.

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
            "saved model": os.path.basename(r["model_path"]) if r["model_path"] else "-",
        }
        for r in results
    ]
)
summary

# %% [markdown]
# The saved file is an ordinary `.keras` model: load it without any strategy (with
# `helpers.saving.load_keras_model`, which uses `safe_mode=True`) and it gives the accuracy
# the workers reported.

# %%
(_, _), (test_images, test_labels) = data.load_mnist()  # only the test set is needed here
x_test, y_test = data.scale_images(test_images), test_labels
chief = next(r for r in results if r["is_chief"])
loaded = saving.load_keras_model(chief["model_path"])
loaded_accuracy = np.mean(loaded.predict(x_test, verbose=0).argmax(axis=1) == y_test)
print(
    f"loaded model: test accuracy {loaded_accuracy:.4f} (chief reported {chief['test_accuracy']:.4f})"
)

# %% [markdown]
# ## Why the workers do not call `model.fit`
#
# > **Note: Keras 3 and `MultiWorkerMirroredStrategy`.** The TensorFlow tutorial on
# > multi-worker training builds the model in `strategy.scope()` and calls `model.fit`. With
# > Keras 3 (TensorFlow 2.16 and later) that fails on the first batch as soon as there are
# > two workers: before training, Keras averages one input batch across replicas to build
# > the model, and the multi-worker all-reduce cannot take the `(images, labels)` pair it is
# > given (`ValueError: Attempt to convert a value (PerReplica ...)`). It is a known,
# > open limitation ([keras-team/keras#20585](https://github.com/keras-team/keras/issues/20585),
# > where François Chollet answers that Keras 3 does not work with this strategy).
# > **The fix** used here: a short custom training loop with `strategy.run` (read
# > `_train_with_loop` in `helpers/distribute.py`), with the same model, Adam optimizer and
# > loss. Alternatives: Keras 2 (`pip install tf_keras`, `TF_USE_LEGACY_KERAS=1`), or Keras
# > 3 on the JAX backend with `keras.distribution.DataParallel`.
#
# See it for yourself: the same two workers, told to use `model.fit`.

# %%
try:
    distribute.run_local_cluster(
        n_workers=2, workdir=config.models_dir() / "cluster-fit", n_train=1_024, trainer="fit"
    )
    print("model.fit worked with MultiWorkerMirroredStrategy in this Keras version")
except distribute.WorkerError as error:
    print(str(error).splitlines()[0])

# %% [markdown]
# In the custom loop, each replica divides its summed loss by the **global** batch
# (`tf.nn.compute_average_loss`), so that when the all-reduce adds the gradients of all
# replicas, the result is the gradient of the mean loss over the global batch: exactly what
# one device would compute on the whole batch.

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
batch_size = distribute.global_batch_size(per_replica_batch, replicas)
total_steps = math.ceil(len(x_train) / batch_size) * epochs
learning_rate = distribute.warmup_cosine_schedule(
    start=1e-3,
    peak=distribute.scaled_learning_rate(1e-3, batch_size),
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
# ## Use 16-bit numbers where the hardware has them
#
# A *dtype policy* tells Keras to compute in 16-bit floats while keeping the weights in
# float32, so that small updates are not rounded away:
#
# - `mixed_float16` is the one for NVIDIA GPUs (Tensor Cores, compute capability 7.0 and
#   newer): often 2–3× faster and half the activation memory. float16 has a narrow range,
#   so gradients can underflow to zero; `compile` then wraps the optimizer in a
#   `LossScaleOptimizer` that scales the loss up and the gradients back down.
# - `mixed_bfloat16` has float32's range with fewer digits, so it needs no loss scaling.
#   TPUs, recent GPUs and CPUs with the `avx512_bf16` or `amx_bf16` instructions compute it
#   natively.
# - Without such hardware, 16-bit maths is emulated and *slower*. On a plain CPU, float16
#   is the worst choice of the three.
#
# Set the policy before building the model, e.g.
# `keras.config.set_dtype_policy(distribute.precision_policy(has_gpu, flags))`, and give
# the last layer `dtype="float32"` so the softmax is computed in full precision. What each
# policy means:

# %%
# NBVAL_CHECK_OUTPUT
for name in ("float32", "mixed_float16", "mixed_bfloat16"):
    policy = keras.DTypePolicy(name)
    print(
        f"{name:15} computes in {policy.compute_dtype:9} keeps weights in {policy.variable_dtype}"
    )

# %% [markdown]
# What this machine has, and the policy the helper would pick for it:

# %%
flags = distribute.cpu_flags()
print("GPUs:", len(gpus))
print("bfloat16 instructions in this CPU:", sorted(flags & distribute.BF16_CPU_FLAGS) or "none")
print("policy worth using here:", distribute.precision_policy(bool(gpus), flags))

# %% [markdown]
# Measure rather than trust: time one training step of the article CNN under each policy
# (a few batches, the first one not counted). The numbers depend on the machine and on what
# else it is doing, but on a CPU float16 is several times slower, and bfloat16 only pays
# off on a CPU that has the instructions for it.

# %%
timings = {
    name: distribute.seconds_per_step(name, x_train[:1280], y_train[:1280])
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
# ## Summary
#
# - Synchronous data parallelism copies the model to every replica and all-reduces the
#   gradients after every step; the copies stay identical.
# - `MirroredStrategy` covers the GPUs of one machine, `MultiWorkerMirroredStrategy` with
#   `TF_CONFIG` several machines. Create the model and optimizer inside `strategy.scope()`.
# - Global batch = per-replica batch × replicas. Scale the learning rate with it (linear
#   rule for SGD, square root as a gentler start for Adam), warm up, and check on the
#   validation set.
# - `mixed_float16` speeds up modern GPUs, `mixed_bfloat16` TPUs and CPUs with bf16
#   instructions; anywhere else 16-bit maths is slower. Measure.
# - With Keras 3, multi-worker training needs a custom loop with `strategy.run`.

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
# 3. Larger batches use the hardware better, until they don't. With
#    `distribute.seconds_per_step`, measure a float32 step at batch sizes 32, 128 and 512
#    and plot images per second. What does that say about shrinking the per-replica batch
#    to keep the global batch fixed on more devices?

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
lab_replicas = 2 * 4
lab_batch = distribute.global_batch_size(64, lab_replicas)
print(
    f"{lab_replicas} replicas, global batch {lab_batch}, {math.ceil(54_000 / lab_batch)} steps per epoch"
)
print(
    f"linear rule: {distribute.scaled_learning_rate(1e-3, lab_batch):.5f}, "
    f"sqrt rule: {distribute.scaled_learning_rate(1e-3, lab_batch, rule='sqrt'):.5f}"
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
goyal_batch = distribute.global_batch_size(128, 8)
goyal_steps_per_epoch = math.ceil(54_000 / goyal_batch)
goyal_schedule = distribute.warmup_cosine_schedule(
    1e-3,
    distribute.scaled_learning_rate(1e-3, goyal_batch),
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
    / distribute.seconds_per_step(
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
print("Small per-replica batches leave each device partly idle: fixing the global batch and")
print("spreading it over more devices makes each one less efficient, so speed-ups flatten.")
