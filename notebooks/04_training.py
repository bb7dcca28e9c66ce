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
# # 04 · Train the CNN
#
# Choose a loss and an optimiser, train the article's CNN with a validation set that the
# test set never leaks into, and save the best model for the next notebooks.
#
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mnist-cnn-course/mnist-cnn-course/main?urlpath=lab/tree/notebooks/04_training.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-cnn-course/mnist-cnn-course/blob/main/notebooks/04_training.ipynb)
#
# [Previous: 03 · Build the model](03_model.ipynb) · [Next: 05 · Evaluate the model](05_evaluation.ipynb)

# %% [markdown]
# ## What you will learn
#
# - what softmax and cross-entropy compute, by hand and with Keras, and why a 10-class
#   softmax is trained with (sparse) categorical cross-entropy, not binary cross-entropy;
# - what one step of gradient descent does to the weights, and Adam's update rule, each
#   checked against Keras' own optimiser;
# - how to compile with the current Keras API (`learning_rate=`, `model.fit`);
# - how to write the callbacks that stop training early, keep the best weights, log every
#   epoch, and let an interrupted run resume where it stopped;
# - how to save a model and its history so that later notebooks can use them, and how to
#   watch training in TensorBoard.
#
# ## Before you start
#
# Notebook 03 explains the model; this one builds the same CNN with
# `helpers.models.build_article_cnn()`, so it runs on its own. It needs the MNIST data
# (notebook 00 fetches it) and produces, in `models/`: `article_cnn.keras` (the trained
# model), `article_cnn_history.json` and `article_cnn_history.csv` (loss and accuracy per
# epoch). Notebooks 05 and 06 read them. In full mode (10 epochs on 54,000 images) it takes
# minutes on a laptop CPU, how many depends on the machine: the training cell prints how
# long it took, and the README's results table the latest full run. Fast mode trains 1
# epoch on 6,000 images.

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
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from IPython.display import Markdown, display
from keras import layers

from helpers import config, data, models, training
from helpers.training import prepare_resume

config.set_seed()
FAST = config.fast_mode()
print(config.describe_mode())
print("TensorFlow", tf.__version__, "| Keras", keras.__version__)

# %% [markdown]
# ## Load the data
#
# `data.prepare_mnist()` does in one call what notebook 02 did step by step: pixels scaled to
# [0, 1] with a channel axis, integer labels, and 6,000 validation images taken from the
# *training* set, so the 10,000 test images stay unseen until notebook 05. Fast mode keeps
# only 6,000 training images.

# %%
n_train = 6_000 if FAST else None
(x_train, y_train), (x_val, y_val), (x_test, y_test) = data.prepare_mnist(n_train=n_train)
print(f"training images: {x_train.shape}, labels: {y_train.shape}")

# %% [markdown]
# The validation and test sets are the same size in both modes:

# %%
# NBVAL_CHECK_OUTPUT
print("validation:", x_val.shape, x_val.dtype, "| labels", y_val.shape, y_val.dtype)
print("test:      ", x_test.shape, x_test.dtype, "| labels", y_test.shape, y_test.dtype)
print("labels are integers from", y_val.min(), "to", y_val.max())

# %% [markdown]
# ## Build the model
#
# The article's CNN, from `helpers/models.py`: one convolution, max pooling, dropout, and a
# dense classifier ending in a 10-way softmax. Its last layer outputs one probability per
# digit, and the ten add up to 1.

# %%
model = models.build_article_cnn()

# %%
# NBVAL_CHECK_OUTPUT
print(f"{model.name}: {model.count_params():,} parameters")
print("output:", model.output_shape)

# %% [markdown]
# ## Choose the loss
#
# The loss tells the optimiser how wrong each prediction is. Two formulas do the work.
#
# **Softmax** turns the ten scores $z_0, \dots, z_9$ that the last `Dense` layer computes
# (one per digit, any real numbers) into ten probabilities, each positive, adding up to 1,
# the largest score getting the largest probability:
#
# $$p_i = \frac{e^{z_i}}{\sum_{j=0}^{9} e^{z_j}}$$
#
# **Cross-entropy** scores those probabilities for one image whose true digit is $y$:
#
# $$L = -\log p_y$$
#
# It is 0 when the model gives the right digit probability 1, and grows without bound as
# that probability falls towards 0. Here are both by hand, with NumPy, for one made-up
# image of a 3, next to Keras' `softmax` and its loss:

# %%
# NBVAL_CHECK_OUTPUT
scores = np.array([1.0, -0.5, 0.3, 3.2, -1.0, 1.5, 0.0, 0.8, 0.4, -0.2])  # z, one per digit
label = 3
softmax_by_hand = np.exp(scores) / np.exp(scores).sum()
softmax_keras = keras.ops.convert_to_numpy(keras.activations.softmax(scores[None]))[0]
print(
    pd.DataFrame(
        {"score z": scores, "softmax by hand": softmax_by_hand, "keras softmax": softmax_keras}
    )
    .rename_axis("digit")
    .round(4)
    .to_string()
)
print(f"probabilities add up to {softmax_by_hand.sum():.4f}")

# %%
# NBVAL_CHECK_OUTPUT
ce_by_hand = -np.log(softmax_by_hand[label])
ce_keras = keras.losses.sparse_categorical_crossentropy(np.array([label]), softmax_keras[None])
ce_keras_from_scores = keras.losses.sparse_categorical_crossentropy(
    np.array([label]), scores[None], from_logits=True
)
print(f"-log p_{label} by hand:                         {ce_by_hand:.6f}")
print(f"keras, from the probabilities:              {float(ce_keras[0]):.6f}")
print(f"keras, from the scores (from_logits=True):  {float(ce_keras_from_scores[0]):.6f}")

# %% [markdown]
# The model we train ends in `Dense(10, activation="softmax")`, so it outputs the
# probabilities and the loss takes them as they are. (`from_logits=True` lets Keras apply
# softmax inside the loss instead, which is a little more accurate for extreme scores.)
#
# Keras offers cross-entropy in two spellings that compute the same thing:
#
# - `sparse_categorical_crossentropy` takes the label as an integer (`3`);
# - `categorical_crossentropy` takes it one-hot, as a vector $t$ (`[0, 0, 0, 1, 0, 0, 0, 0,
#   0, 0]`), and sums $-t_i \log p_i$ over the ten digits, where only the true digit's term
#   is non-zero.
#
# We keep the integer labels and use the sparse version: no conversion, less memory.
#
# > **Note: the article** says it compiles with "binary cross-entropy" (its code then uses
# > `categorical_crossentropy` with one-hot labels). Binary cross-entropy is for yes/no
# > outputs: on our ten outputs it scores each one as an independent yes/no question ("is
# > it a 3?"), although exactly one digit is right. In Keras 2 it also changed what
# > `metrics=['accuracy']` meant: *binary* accuracy, the fraction of those ten yes/no
# > answers that are right, which stays high even when the predicted digit is wrong.
# > (Keras 3 picks the accuracy from the shapes of labels and outputs, so it would show the
# > real accuracy next to the wrong loss.) For 10 mutually exclusive classes, use
# > categorical cross-entropy: `sparse_` with integer labels, as here, or the plain one
# > with one-hot labels.
#
# Two made-up predictions make this concrete: one image of a 3 that the model gets right,
# and one image of a 7 that it mistakes for a 1.

# %%
y_example = np.array([3, 7])
probs_example = np.array(
    [
        [0.02, 0.01, 0.05, 0.70, 0.02, 0.10, 0.02, 0.03, 0.03, 0.02],  # a 3, predicted 3
        [0.05, 0.40, 0.05, 0.05, 0.05, 0.05, 0.05, 0.20, 0.05, 0.05],  # a 7, predicted 1
    ]
)
one_hot_example = keras.utils.to_categorical(y_example, num_classes=10)
print(one_hot_example)

# %% [markdown]
# Compute each loss on them. Keras returns one value per image; `binary_accuracy` returns
# one per output, which we average per image as Keras' `accuracy` metric would.

# %%
sparse_ce = keras.losses.sparse_categorical_crossentropy(y_example, probs_example)
categorical_ce = keras.losses.categorical_crossentropy(one_hot_example, probs_example)
binary_ce = keras.losses.binary_crossentropy(one_hot_example, probs_example)
binary_acc = keras.metrics.binary_accuracy(one_hot_example, probs_example)  # one per output

# %%
# NBVAL_CHECK_OUTPUT
p_true = probs_example[np.arange(len(y_example)), y_example]
losses = pd.DataFrame(
    {
        "true digit": y_example,
        "predicted": probs_example.argmax(axis=1),
        "p(true digit)": p_true,
        "-log p (by hand)": -np.log(p_true),
        "sparse CE": keras.ops.convert_to_numpy(sparse_ce),
        "categorical CE": keras.ops.convert_to_numpy(categorical_ce),
        "binary CE": keras.ops.convert_to_numpy(binary_ce),
        "binary accuracy": keras.ops.convert_to_numpy(binary_acc).mean(axis=1),
    }
)
print(losses.round(4).to_string(index=False))

# %% [markdown]
# The sparse loss on integer labels, the categorical loss on one-hot labels and $-\log p$ by
# hand agree. Binary cross-entropy gives other numbers (it averages ten yes/no losses), and
# its accuracy scores the wrong prediction 0.9: 9 of its 10 "is it this digit?" answers are
# a correct "no".

# %% [markdown]
# ## Choose the optimiser
#
# ### One step of gradient descent
#
# Training lowers the loss by moving every weight $w$ a little against its gradient, the
# direction in which the loss grows fastest; the learning rate $\eta$ sets how far:
#
# $$w \leftarrow w - \eta \, \frac{\partial L}{\partial w}$$
#
# `tf.GradientTape` records a forward pass and then computes $\partial L / \partial w$ for
# every weight (backpropagation). To see one step whole, take a tiny model, a single
# `Dense` softmax layer on the 784 pixels, and one batch of 32 training images:

# %%
tiny_model = keras.Sequential(
    [keras.Input(shape=(28, 28, 1)), layers.Flatten(), layers.Dense(10, activation="softmax")],
    name="tiny",
)
x_batch, y_batch = x_train[:32], y_train[:32]
loss_fn = keras.losses.SparseCategoricalCrossentropy()

with tf.GradientTape() as tape:
    probs_batch = tiny_model(x_batch, training=True)
    loss_before = loss_fn(y_batch, probs_batch)
gradients = tape.gradient(loss_before, tiny_model.trainable_variables)
for variable, gradient in zip(tiny_model.trainable_variables, gradients, strict=True):
    print(f"{variable.path}: weights {variable.shape}, gradient {tuple(gradient.shape)}")

# %% [markdown]
# For softmax followed by cross-entropy the gradient with respect to the scores has a
# simple form, $\partial L / \partial z_i = p_i - t_i$ (predicted probability minus the
# one-hot label). A bias adds straight to its score, so the gradient of the batch's mean
# loss with respect to the ten biases is the batch mean of $p - t$. By hand against the tape:

# %%
one_hot_batch = keras.utils.to_categorical(y_batch, num_classes=10)
bias_gradient_by_hand = (probs_batch.numpy() - one_hot_batch).mean(axis=0)
print(
    pd.DataFrame(
        {"mean(p - t) by hand": bias_gradient_by_hand, "GradientTape": gradients[1].numpy()}
    )
    .rename_axis("digit")
    .T.round(4)
    .to_string()
)

# %% [markdown]
# Now the step itself: the new weights by hand, $w - \eta g$, and the same step taken by
# plain stochastic gradient descent, `keras.optimizers.SGD`, whose `apply` is what `fit`
# calls after every batch.

# %%
learning_rate = 0.1
weights_by_hand = [
    variable.numpy() - learning_rate * gradient.numpy()
    for variable, gradient in zip(tiny_model.trainable_variables, gradients, strict=True)
]
bias_before = tiny_model.trainable_variables[1].numpy()
keras.optimizers.SGD(learning_rate=learning_rate).apply(gradients, tiny_model.trainable_variables)

print(
    pd.DataFrame(
        {
            "bias before": bias_before,
            "gradient": gradients[1].numpy(),
            "w - eta g by hand": weights_by_hand[1],
            "SGD.apply": tiny_model.trainable_variables[1].numpy(),
        }
    )
    .rename_axis("digit")
    .head(4)
    .round(5)
    .to_string()
)
for variable, by_hand in zip(tiny_model.trainable_variables, weights_by_hand, strict=True):
    difference = np.abs(variable.numpy() - by_hand).max()
    print(f"{variable.path}: largest difference, by hand vs SGD.apply: {difference:.1e}")

# %%
loss_after = float(loss_fn(y_batch, tiny_model(x_batch, training=False)))
change = "lower" if loss_after < float(loss_before) else "not lower"
print(
    f"loss on these 32 images: {float(loss_before):.4f} before the step, "
    f"{loss_after:.4f} after it ({change})"
)

# %% [markdown]
# `fit` repeats exactly this for every batch: forward pass, gradients, one optimiser step.
#
# ### Adam
#
# Plain SGD moves every weight by the same multiple of its gradient. Adam (Kingma and Ba,
# 2015), the optimiser we train with, keeps two running averages per weight, $m$ of its
# gradients $g$ and $v$ of their squares, and divides one by the square root of the other,
# so that each weight takes steps scaled to its own gradients. At step $t$:
#
# $$m_t = \beta_1 m_{t-1} + (1-\beta_1)\,g_t, \quad v_t = \beta_2 v_{t-1} + (1-\beta_2)\,g_t^2, \quad w_t = w_{t-1} - \eta\,\frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)}+\epsilon}$$
#
# $m$ and $v$ start at 0; dividing by $1-\beta^t$ corrects for that start, and $\epsilon$
# only prevents a division by zero. On the very first step the corrected averages are $g$
# and $g^2$, so every weight moves by $\eta$ against the sign of its gradient, however
# large or small that gradient is. One step on one variable of three weights, in NumPy and
# with `keras.optimizers.Adam` (its defaults: $\eta = 0.001$, $\beta_1 = 0.9$,
# $\beta_2 = 0.999$, $\epsilon = 10^{-7}$, printed below):

# %%
adam = keras.optimizers.Adam(learning_rate=1e-3)
eta, beta_1, beta_2, epsilon = float(adam.learning_rate), adam.beta_1, adam.beta_2, adam.epsilon
print(f"eta {eta:g}, beta_1 {beta_1}, beta_2 {beta_2}, epsilon {epsilon:g}")

w_start = np.array([0.5, 0.5, 0.5])
g = np.array([0.5, 2.0, -30.0])  # gradients of very different sizes
t = 1
m = (1 - beta_1) * g  # m_0 = 0
v = (1 - beta_2) * g**2  # v_0 = 0
w_numpy = w_start - eta * (m / (1 - beta_1**t)) / (np.sqrt(v / (1 - beta_2**t)) + epsilon)

w_keras = keras.Variable(w_start, dtype="float32")
adam.apply([tf.constant(g, dtype="float32")], [w_keras])

print(
    pd.DataFrame(
        {
            "gradient": g,
            "step, NumPy": w_numpy - w_start,
            "step, keras Adam": w_keras.numpy() - w_start,
        }
    )
    .round(6)
    .to_string(index=False)
)
print(f"largest difference: {np.abs(w_keras.numpy() - w_numpy).max():.1e}")

# %% [markdown]
# Keras keeps the weight in float32, which holds about 7 significant digits, so the two
# agree to that precision. (Keras also adds $\epsilon$ at a slightly different place, which
# only matters for gradients as small as $\epsilon$.)
#
# ## Compile the model
#
# Adam with its default learning rate, 0.001, is the usual first choice, and the one the
# article makes.
#
# > **Note: the article** writes `Adam(lr=0.001)`. The `lr` argument was renamed
# > `learning_rate` years ago, and Keras 3 no longer accepts it: the call raises the error
# > below. Write `keras.optimizers.Adam(learning_rate=1e-3)`.

# %%
# NBVAL_CHECK_OUTPUT
try:
    keras.optimizers.Adam(lr=0.001)
except ValueError as error:
    print(f"Adam(lr=0.001) -> ValueError: {error}")

# %%
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)

# %% [markdown]
# ## Set up the callbacks
#
# Callbacks are objects that `fit` calls at the end of every epoch (and batch). Training
# for a fixed number of epochs and keeping whatever comes out is fragile, so we give `fit`
# four of them, each for one reason:
#
# - `EarlyStopping` stops when the validation loss has not improved for `patience` epochs
#   and puts back the weights of the best epoch, because more epochs after that only fit
#   the training images more closely;
# - `ModelCheckpoint` saves the model whenever the validation loss improves, so the best
#   model is on disk even if the kernel dies; it writes to `article_cnn.partial.keras`, and
#   only a finished run renames it `article_cnn.keras`, so notebooks 05 and 06 never load a
#   half-trained model;
# - `CSVLogger` appends each epoch's loss and accuracy to a CSV file as it goes, so a long
#   run can be followed before it ends and a resumed run keeps the epochs before the break;
# - `BackupAndRestore` saves the state of the last finished epoch in `article_cnn_backup/`,
#   so that an interrupted run (Ctrl-C, a kernel restart, a closed laptop) resumes after that
#   epoch when you run the notebook again, instead of starting over; it deletes the backup
#   when training completes. It comes last, so an epoch counts as done only once its
#   checkpoint and log row are on disk, and `double_checkpoint=True` keeps the previous
#   back-up too, in case the process dies while writing the new one.
#
# A fresh run (no back-up) first deletes any checkpoint and log an earlier run left, so
# they never mix with this one. `prepare_resume` (plumbing, in `helpers/training.py`)
# decides which it is: it removes temporary files a killed run left, sets aside a back-up
# that cannot be read, with a warning that names it, and trims the log to the epochs the
# back-up holds. The cell's first line, `# @save helpers.training`, copies
# the function into `helpers/training.py`, where the course's test of an interrupted run
# uses it:


# %%
# @save helpers.training
def training_callbacks(
    models_dir: Path, name: str, patience: int = 3, monitor: str = "val_loss"
) -> list[keras.callbacks.Callback]:
    """Return the callbacks for a resumable ``fit`` of the model called ``name``.

    EarlyStopping on ``monitor`` (restoring the best weights), ModelCheckpoint of the best
    epoch to ``<name>.partial.keras`` (never the final name: ``finish_training`` renames
    it), CSVLogger to ``<name>_history.csv`` (appending when the run resumes), and
    BackupAndRestore in ``<name>_backup/``.
    """
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    backup_dir = models_dir / f"{name}_backup"
    resuming = prepare_resume(models_dir, name)  # False if there is no readable back-up
    if not resuming:  # a fresh run: never keep a checkpoint or log from an earlier run
        (models_dir / f"{name}.partial.keras").unlink(missing_ok=True)
        (models_dir / f"{name}_history.csv").unlink(missing_ok=True)
    return [
        keras.callbacks.EarlyStopping(
            monitor=monitor, patience=patience, restore_best_weights=True, verbose=1
        ),
        keras.callbacks.ModelCheckpoint(
            models_dir / f"{name}.partial.keras", monitor=monitor, save_best_only=True
        ),
        keras.callbacks.CSVLogger(models_dir / f"{name}_history.csv", append=resuming),
        # Last, so an epoch is backed up only once its checkpoint and log row are written:
        keras.callbacks.BackupAndRestore(backup_dir=str(backup_dir), double_checkpoint=True),
    ]


# %% [markdown]
# We add a fifth, `TensorBoard`, which logs the same curves for TensorBoard, a live view of
# training that is handy for long runs (see
# [Watch training in TensorBoard](#Watch-training-in-TensorBoard) below). Models go under
# `models/` and logs under `logs/` (`fast/` subfolders in fast mode); git ignores both.

# %%
models_dir = config.models_dir()
logs_dir = config.logs_dir() / "article_cnn"
callbacks = training_callbacks(models_dir, "article_cnn", patience=3)
callbacks.append(keras.callbacks.TensorBoard(log_dir=logs_dir))
for callback in callbacks:
    print(type(callback).__name__)
print("models:", models_dir)
print("logs:  ", logs_dir)

# %% [markdown]
# ## Train the model
#
# `model.fit` shows the model the training images in batches of 128, updating the weights
# after each batch; one pass over all of them is an epoch. After every epoch it measures the
# loss and accuracy on the validation images, which it never trains on.
#
# > **Note: the article** calls `model.fit_generator(train_generator, ...,
# > validation_data=test_generator)`. `fit_generator` no longer exists in Keras 3
# > (`model.fit` accepts arrays, datasets and generators alike). And validating on the
# > *test* set lets it steer choices such as when to stop (our `EarlyStopping` does just
# > that), so its accuracy is no longer an honest estimate for new images. Here `model.fit`
# > validates on 6,000 images held out from the training set.

# %%
# NBVAL_CHECK_OUTPUT
try:
    model.fit_generator
except AttributeError as error:
    print(f"model.fit_generator -> AttributeError: {error}")

# %% [markdown]
# `model.fit` with arrays, a batch size and validation data is all we need:

# %%
epochs = 1 if FAST else 10
batch_size = 128

start = time.perf_counter()
history = model.fit(
    x_train,
    y_train,
    batch_size=batch_size,
    epochs=epochs,
    validation_data=(x_val, y_val),
    callbacks=callbacks,
    verbose=2,
)
training_seconds = time.perf_counter() - start

# %% [markdown]
# Training is over, so the checkpoint is complete. `training.finish_training` gives it its
# final name (`os.replace` renames in one step, replacing any older model) and writes the
# history as JSON for notebook 06. It builds that history from the CSV log, which covers
# every epoch even when the run was resumed part-way (the `history` that a resumed `fit`
# returns only holds the epochs after the restart).

# %%
model_path, full_history = training.finish_training(models_dir, "article_cnn")
print(f"model: {model_path} ({model_path.stat().st_size / 2**20:.1f} MB)")
for path in sorted(models_dir.glob("article_cnn_history.*")):
    print(f"{path.name}: {path.stat().st_size:,} bytes")

# %% [markdown]
# One row per epoch, as the CSV log recorded it:

# %%
history_table = pd.DataFrame(
    full_history, index=pd.RangeIndex(1, len(full_history["loss"]) + 1, name="epoch")
)
history_table.round(4)

# %% [markdown]
# Compare the `accuracy` and `val_accuracy` columns. The two are not measured the same way:
#
# - the training accuracy is measured *with dropout on*: each batch is scored by a network
#   missing a quarter of its convolution features and half of its dense units, so it is
#   handicapped;
# - it is also the average over all the batches of the epoch, most of them scored by
#   earlier, worse weights, while the validation accuracy is measured once, at the end of
#   the epoch, with the final weights and dropout off.
#
# Both effects favour the validation column, so it can come out higher although the model
# never trains on those images. In this run:

# %%
val_higher = int((history_table["val_accuracy"] > history_table["accuracy"]).sum())
n_epochs = len(history_table)
if val_higher == n_epochs:
    where = "in every epoch" if n_epochs > 1 else "in the one epoch"
elif val_higher == 0:
    where = "in no epoch"
else:
    where = f"in {val_higher} of {n_epochs} epochs"
display(Markdown(f"Validation accuracy is higher than training accuracy **{where}**."))

# %% [markdown]
# ## How long it took, and the best epoch
#
# The best epoch is the one with the lowest validation loss: its weights are the ones in
# `model` now (restored by `EarlyStopping`) and in `article_cnn.keras` (saved by
# `ModelCheckpoint`).

# %%
epochs_run = len(full_history["loss"])
epochs_this_session = len(history.epoch)  # fewer than epochs_run if training resumed
best = training.best_epoch(full_history, monitor="val_loss")
print(
    f"training took {training_seconds:.1f} s for {epochs_this_session} epoch(s), "
    f"{training_seconds / max(epochs_this_session, 1):.1f} s per epoch"
)
print(
    f"best epoch: {best} of {epochs_run} "
    f"(val_loss {full_history['val_loss'][best - 1]:.4f}, "
    f"val_accuracy {full_history['val_accuracy'][best - 1]:.4f})"
)
if epochs_run < epochs:
    print(f"early stopping ended training after {epochs_run} of {epochs} epochs")

# %% [markdown]
# ## Watch training in TensorBoard
#
# The `TensorBoard` callback wrote the loss and accuracy of every epoch (training and
# validation) to `logs/`. TensorBoard shows them as live curves, which is handy for runs
# longer than this one. Inside JupyterLab, in a new cell:
#
# ```
# %load_ext tensorboard
# %tensorboard --logdir ../logs
# ```
#
# or from a terminal in the course folder: `.venv/bin/tensorboard --logdir logs`, then open
# the address it prints. The magic works on Colab as it is, and on Binder too: there
# TensorBoard's page comes through the notebook server's proxy (`jupyter-server-proxy`;
# the repository's `start` file tells the magic its address). What to look at: in **Scalars**, `epoch_loss` and
# `epoch_accuracy` with the `train` and `validation` runs overlaid (the same curves as in
# notebook 06); in **Graphs**, the layers of the model. Each run of this notebook adds a
# new set of event files, so older runs stay comparable. The cell below only lists what
# was written, so the notebook runs the same with or without TensorBoard open.

# %%
event_files = sorted(logs_dir.rglob("events.out.tfevents.*"))
for path in event_files[-2:]:
    print(path.relative_to(logs_dir), f"({path.stat().st_size:,} bytes)")
print(f"{len(event_files)} event file(s) under {logs_dir}")

# %% [markdown]
# ## Summary
#
# - Softmax turns ten scores into probabilities, $p_i = e^{z_i} / \sum_j e^{z_j}$, and
#   cross-entropy scores them, $L = -\log p_y$; by hand and in Keras they give the same
#   numbers.
# - For 10 mutually exclusive classes the loss is categorical cross-entropy: `sparse_` with
#   integer labels, or the plain one with one-hot labels; they give the same value. Binary
#   cross-entropy is for independent yes/no outputs and its accuracy misleads here.
# - One training step: `tf.GradientTape` gives $\partial L / \partial w$, and the optimiser
#   moves each weight against it, $w - \eta g$ for plain SGD. Adam scales each weight's step
#   by running averages of its gradients and their squares.
# - `keras.optimizers.Adam(learning_rate=1e-3)`, not `lr=`; `model.fit`, not
#   `fit_generator`; validation data taken from the training set, never the test set.
# - `BackupAndRestore`, `EarlyStopping`, `ModelCheckpoint` and `CSVLogger` resume an
#   interrupted run, stop at the right time, keep the best weights and log each epoch; the
#   finished model is `models/article_cnn.keras`, its history `article_cnn_history.json`.
# - Training accuracy is measured with dropout on and averaged over the epoch, so it can
#   sit below the validation accuracy.
#
# Next, notebook 05 measures this model on the 10,000 test images and looks at its mistakes.

# %% [markdown]
# ## Exercises
#
# 1. Make the article's mistake on purpose: compile a fresh `models.build_article_cnn()`
#    with `loss="binary_crossentropy"` and `metrics=["accuracy", "binary_accuracy"]`,
#    train it for one epoch on 2,000 one-hot-labelled training images, and compare the two
#    metrics on the validation set. Which one would the article's Keras 2 have printed as
#    "accuracy"?
# 2. How many weight updates does one epoch make with `batch_size = 128`? And with 32 or
#    512? (Keras makes one update per batch; the last batch may be smaller.)
# 3. Read `article_cnn_history.csv` back with pandas and check that it holds the same
#    numbers as the JSON history, loaded with `training.load_history`.

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
bce_model = models.build_article_cnn()
bce_model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3),
    loss="binary_crossentropy",
    metrics=["accuracy", "binary_accuracy"],
)
bce_model.fit(
    x_train[:2_000],
    keras.utils.to_categorical(y_train[:2_000], num_classes=10),
    batch_size=batch_size,
    epochs=1,
    verbose=0,
)
bce_results = bce_model.evaluate(
    x_val, keras.utils.to_categorical(y_val, num_classes=10), verbose=0, return_dict=True
)
print(f"accuracy (Keras 3: the digit is right):        {bce_results['accuracy']:.4f}")
print(f"binary_accuracy (Keras 2's 'accuracy' here):   {bce_results['binary_accuracy']:.4f}")
# Keras 2 printed the second number as "accuracy". It is high even for a poor model:
# answering "no" for every digit already gets 9 of the 10 yes/no answers right.

# %% [markdown]
# **Solution to exercise 2**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
for size in [32, 128, 512]:
    steps = -(-len(x_train) // size)  # ceiling division: a smaller last batch still counts
    print(f"batch_size {size:>3}: {steps:>4} updates per epoch on {len(x_train):,} images")

# %% [markdown]
# **Solution to exercise 3**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
csv_history = pd.read_csv(models_dir / "article_cnn_history.csv")
json_history = training.load_history(models_dir / "article_cnn_history.json")
for metric, values in json_history.items():
    assert np.allclose(csv_history[metric], values), metric
print("CSV columns:", list(csv_history.columns))
print(f"CSV and JSON agree on {len(json_history)} metrics over {len(csv_history)} epoch(s)")
