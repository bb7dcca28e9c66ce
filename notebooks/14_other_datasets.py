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
# # 14 · Other datasets: Fashion-MNIST, and what medical images change
#
# Run the same pipeline on a harder dataset of the same shape, then see why accuracy stops
# being the right measure when the classes are unbalanced, as they are in medical data.
#
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mnist-cnn-course/mnist-cnn-course/main?urlpath=lab/tree/notebooks/14_other_datasets.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-cnn-course/mnist-cnn-course/blob/main/notebooks/14_other_datasets.ipynb)
#
# [Previous: 13 · Scale up training](13_scaling.ipynb) · [Back to the list of notebooks](../README.md#the-notebooks)

# %% [markdown]
# ## What you will learn
#
# - how to load Fashion-MNIST offline and verify it, from the same file format as MNIST;
# - how the article's CNN does on clothes instead of digits, and which classes it confuses;
# - what changes for medical images (MedMNIST and the like), above all class imbalance;
# - why accuracy misleads on unbalanced data, and what to report instead: balanced accuracy,
#   per-class recall, macro F1, ROC AUC;
# - what class weights in `fit` do to the recall of rare classes, and what they cost.
#
# ## Before you start
#
# Work through [04 · Train the model](04_training.ipynb) and
# [05 · Evaluate the model](05_evaluation.ipynb) first: this notebook repeats their steps
# without explaining them again. It needs a copy of Fashion-MNIST; the next section says
# where it looks and how to get one. Nothing is saved. How long it takes in full mode is
# in the README's table of the latest full run.

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

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf
from IPython.display import Markdown, display
from sklearn import metrics

from helpers import config, data, evaluation, fashion_mnist, models, plots

config.set_seed()
FAST = config.fast_mode()
print(config.describe_mode())
print("TensorFlow", tf.__version__, "| Keras", keras.__version__)

# %% [markdown]
# ## Find a copy of Fashion-MNIST
#
# [Fashion-MNIST](https://github.com/zalandoresearch/fashion-mnist) (Zalando Research,
# 2017, MIT licence) was made as a drop-in replacement for MNIST: 70,000 grayscale 28×28
# images in 10 classes, in the same IDX files, but of clothes, which are much harder to tell
# apart. `helpers.fashion_mnist` (read it in `helpers/fashion_mnist.py`) looks for it in
# this order, and never downloads in fast mode:
#
# 1. the verified cache `data/fashion_mnist.npz`;
# 2. the four official `.gz` files in `data/fashion-mnist/` (put there by hand), in Keras'
#    download folder `~/.keras/datasets/fashion-mnist/`, or where the Debian/Ubuntu package
#    puts them (`sudo apt-get install dataset-fashion-mnist`);
# 3. in full mode only, `keras.datasets.fashion_mnist.load_data()`, which needs the internet.
#
# Whatever the source, each array must match the SHA-256 of the official file before it is
# cached. If no source has it, the message says what to install, and the cells that need
# the data skip themselves.

# %%
SKIPPED = "skipped: Fashion-MNIST is not available (see how to get it above)"
try:
    report = fashion_mnist.fetch_fashion_mnist(download=not FAST)
except fashion_mnist.FashionMnistUnavailableError as error:
    report = None
    print(error)
HAVE_FASHION = report is not None
if HAVE_FASHION:
    print("source:", report.source)
    for name, digest in report.sha256.items():
        print(f"{fashion_mnist.FILE_NAMES[name]:<24} sha256 {digest[:16]}...  verified")

# %% [markdown]
# `load_fashion_mnist` then returns exactly what Keras' loader would: uint8 arrays of the
# same shapes as MNIST.

# %%
if HAVE_FASHION:
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_fashion_mnist(download=False)
    print("x_train", x_train.shape, x_train.dtype, "| x_test", x_test.shape, x_test.dtype)
else:
    print(SKIPPED)

# %% [markdown]
# ## Look at the classes
#
# The labels are numbers 0–9 like MNIST's, but each names a kind of clothing:

# %%
# NBVAL_CHECK_OUTPUT
print(pd.Series(fashion_mnist.CLASS_NAMES, name="class name").rename_axis("label").to_string())

# %% [markdown]
# Three examples of each class, one class per column. Look at the tops in columns 0, 2, 4
# and 6: at 28×28 pixels, a T-shirt or top, a pullover, a coat and a shirt are each little
# more than a trunk with sleeves or straps.

# %%
if HAVE_FASHION:
    picks = np.concatenate([np.flatnonzero(y_train == c)[:3] for c in range(10)])
    order = picks.reshape(10, 3).T.ravel()  # row r holds the r-th example of every class
    fig = plots.image_grid(
        x_train[order], titles=[fashion_mnist.CLASS_NAMES[y] for y in y_train[order]], ncols=10
    )
else:
    fig = None
    print(SKIPPED)
fig

# %% [markdown]
# ## Prepare the data
#
# Exactly as for MNIST, with the same helpers: 6,000 training images kept aside for
# validation, pixels scaled to [0, 1] with a channel axis, integer labels.

# %%
n_train = 6_000 if FAST else None
epochs = 1 if FAST else 10
batch_size = 128
if HAVE_FASHION:
    (x_train, y_train), (x_val, y_val) = data.split_validation(x_train, y_train, n_val=6_000)
    x_train, y_train = x_train[:n_train], y_train[:n_train]
    x_train, x_val, x_test = (data.scale_images(x) for x in (x_train, x_val, x_test))
    y_train, y_val, y_test = (y.astype(np.int64) for y in (y_train, y_val, y_test))
    print(f"{len(x_train):,} training, {len(x_val):,} validation, {len(x_test):,} test images")
else:
    print(SKIPPED)

# %% [markdown]
# ## Train the article's CNN
#
# The same model (`models.build_article_cnn()`), optimizer and loss as in notebook 04;
# nothing is tuned for clothes.

# %%
model = models.build_article_cnn()
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
if HAVE_FASHION:
    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(x_val, y_val),
        verbose=2,
    )
else:
    print(SKIPPED)

# %% [markdown]
# ## Evaluate on the test set
#
# On MNIST's test digits, notebook 05 measures just under 99% for this network trained this way
# (fast mode trains on a ninth of the data for one epoch, so expect less there). On
# clothes:

# %%
if HAVE_FASHION:
    probs = model.predict(x_test, batch_size=1000, verbose=0)
    y_pred = probs.argmax(axis=1)
    test_accuracy = np.mean(y_pred == y_test)
    print(f"test accuracy {test_accuracy:.4f} on {len(y_test):,} images")
else:
    print(SKIPPED)

# %% [markdown]
# The confusion matrix shows where the mistakes are: rows are the true class, columns the
# prediction.

# %%
if HAVE_FASHION:
    fig = fashion_mnist.confusion_matrix_figure(y_test, y_pred)
else:
    fig = None
    print(SKIPPED)
fig

# %% [markdown]
# ## See which classes get confused, and why
#
# Recall per class (of the items of that class, the fraction found) separates the easy
# classes from the hard ones:

# %%
if HAVE_FASHION:
    scores = evaluation.per_class_report(y_test, y_pred).set_axis(fashion_mnist.CLASS_NAMES)
    print(scores.sort_values("recall").round(3).to_string())
else:
    print(SKIPPED)

# %% [markdown]
# And the most frequent mistakes, by name:

# %%
if HAVE_FASHION:
    pairs = evaluation.most_confused_pairs(y_test, y_pred, k=6)
    pairs[["true", "predicted"]] = pairs[["true", "predicted"]].map(
        lambda c: fashion_mnist.CLASS_NAMES[c]
    )
    print(pairs.to_string(index=False))
else:
    print(SKIPPED)

# %% [markdown]
# Where do the mistakes fall? Count those between two of the four tops (T-shirt/top,
# pullover, coat, shirt), and compare the recall of the tops with that of the classes whose
# shapes differ most (trousers, bags and footwear):

# %%
if HAVE_FASHION:
    tops = [0, 2, 4, 6]  # T-shirt/top, pullover, coat, shirt
    distinct = [1, 5, 7, 8, 9]  # trouser, sandal, sneaker, bag, ankle boot
    wrong = y_pred != y_test
    among_tops = wrong & np.isin(y_test, tops) & np.isin(y_pred, tops)
    recalls = scores["recall"]
    worst, second = recalls.sort_values().index[:2]
    display(
        Markdown(
            f"Of the {wrong.sum():,} mistakes, {among_tops.sum():,} "
            f"({among_tops.sum() / wrong.sum():.0%}) confuse two of the four tops. The lowest "
            f"recall is {worst}'s, {recalls[worst]:.1%} (next: {second}, "
            f"{recalls[second]:.1%}); the recall of trousers, bags and footwear runs from "
            f"{recalls.iloc[distinct].min():.1%} to {recalls.iloc[distinct].max():.1%}."
        )
    )
else:
    print(SKIPPED)

# %% [markdown]
# The four tops share one silhouette, a trunk with sleeves or straps, and differ in details
# (a collar, buttons, a zip, the texture of knit or wool) that take a few pixels, or none,
# in a 28×28 grayscale thumbnail. Some labels may also be debatable: a long-sleeved T-shirt
# and a thin pullover can look the same even in the full-size photo (exercise 1 shows the
# mistakes of the most confused pair, for you to judge). Their average images show how
# alike they are: the pullover, the coat and the shirt are long-sleeved and of nearly the
# same shape, and the T-shirt differs mostly by its short sleeves.

# %%
if HAVE_FASHION:
    means = np.stack([x_train[y_train == c, ..., 0].mean(axis=0) for c in tops])
    fig = plots.image_grid(
        means, titles=[fashion_mnist.CLASS_NAMES[c] for c in tops], ncols=4, title="Mean image"
    )
else:
    fig = None
    print(SKIPPED)
fig

# %% [markdown]
# ## What changes for medical images
#
# [MedMNIST](https://medmnist.com/) (Yang et al., 2023) packs biomedical images in the
# MNIST mould: 28×28 (and larger) images in `.npz` files, e.g. PathMNIST (colon
# pathology, 9 classes), DermaMNIST (skin lesions, 7 classes), PneumoniaMNIST (chest
# X-rays, 2 classes) and ChestMNIST (14 findings, several per image). The article's pipeline
# runs on them with small changes (3 input channels for colour sets, a sigmoid output for
# multi-label sets), but four things change more than the code:
#
# - **class imbalance**: DermaMNIST comes from the HAM10000 collection, in which Tschandl
#   et al. (2018) count 6,705 benign nevi among 10,015 images (two thirds) and only 115
#   dermatofibromas (about 1%). A model that ignores the rare classes still looks accurate;
# - **the cost of mistakes is not symmetric**: missing a melanoma is worse than a false
#   alarm, so report per-class recall (sensitivity) and choose the decision threshold on
#   purpose;
# - **splits by patient**, not by image, so the test set holds people the model has never
#   seen;
# - **small test sets**: a rare class may have a few dozen test images, so its recall moves
#   in big steps; give the counts, or confidence intervals, with the scores.
#
# The rest of this notebook shows the first two on data you already have. Nothing is
# downloaded: the imbalance is made by hand from MNIST.

# %% [markdown]
# ### Make an unbalanced dataset
#
# Keep all of MNIST's digits but make each class rarer than the one before, from 2,000
# training images of 0 down to 20 of 9 (a ratio of 100; in HAM10000, by Tschandl et al.'s
# counts above, nevi outnumber dermatofibromas 58 to 1), and give the test set the same
# proportions: the test set should look like the data the model will meet. The counts are
# the same in both modes.

# %%
# uint8 images (scale=False): only the few thousand chosen below are scaled to [0, 1]
(x_digits, y_digits), _, (x_digits_test, y_digits_test) = data.prepare_mnist(scale=False)
rng = np.random.default_rng(config.DEFAULT_SEED)
train_counts = np.round(2_000 * 100 ** (-np.arange(10) / 9)).astype(int)
test_counts = np.round(980 * 100 ** (-np.arange(10) / 9)).astype(int)


def take(labels: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return shuffled indices holding ``counts[c]`` random examples of each class ``c``."""
    chosen = [
        rng.choice(np.flatnonzero(labels == c), n, replace=False) for c, n in enumerate(counts)
    ]
    return rng.permutation(np.concatenate(chosen))


train_index, test_index = take(y_digits, train_counts), take(y_digits_test, test_counts)
x_train_skewed = data.scale_images(x_digits[train_index])
x_test_skewed = data.scale_images(x_digits_test[test_index])
y_train_skewed, y_test_skewed = y_digits[train_index], y_digits_test[test_index]

# %%
# NBVAL_CHECK_OUTPUT
counts = pd.DataFrame(
    {
        "train": np.bincount(y_train_skewed, minlength=10),
        "test": np.bincount(y_test_skewed, minlength=10),
    }
).rename_axis("digit")
counts["share"] = (counts["train"] / counts["train"].sum()).map("{:.1%}".format)
print(counts.T.to_string())
print(f"total: {len(y_train_skewed):,} training and {len(y_test_skewed):,} test images")

# %% [markdown]
# ### Train with and without class weights
#
# First, the plain model. Then the same model with `class_weight` in `fit`: each example's
# loss is multiplied by the weight of its class, here `n / (10 × count)`, so every class
# contributes the same total to the loss however few examples it has. Both train for the
# same number of epochs, without a validation set to keep the comparison simple.

# %%
skewed_epochs = 3 if FAST else 10
class_weight = {c: float(len(y_train_skewed) / (10 * n)) for c, n in enumerate(train_counts)}
print("class weights:", {c: round(w, 2) for c, w in class_weight.items()})


def train_skewed(weights: dict[int, float] | None) -> keras.Model:
    """Train a fresh article CNN on the unbalanced digits; return it."""
    config.set_seed()
    skewed_model = models.build_article_cnn()
    skewed_model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    skewed_model.fit(
        x_train_skewed,
        y_train_skewed,
        batch_size=batch_size,
        epochs=skewed_epochs,
        class_weight=weights,
        verbose=0,
    )
    return skewed_model


model_plain = train_skewed(None)
model_weighted = train_skewed(class_weight)

# %% [markdown]
# ### Measure what matters
#
# Four numbers summarise a classifier on unbalanced data better than accuracy alone:
#
# - **accuracy**: the fraction right, dominated by the big classes;
# - **balanced accuracy**: the mean of the per-class recalls, so each class counts once;
# - **macro F1**: the mean over classes of F1, which combines precision and recall;
# - **ROC AUC** (one class against the rest, averaged over classes): how well the
#   predicted probabilities *rank* each class above the others, whatever the threshold.


# %%
def skewed_scores(y_true: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """Return accuracy, balanced accuracy, macro F1 and macro one-vs-rest ROC AUC."""
    y_pred = probs.argmax(axis=1)
    return {
        "accuracy": metrics.accuracy_score(y_true, y_pred),
        "balanced accuracy": metrics.balanced_accuracy_score(y_true, y_pred),
        "macro F1": metrics.f1_score(y_true, y_pred, average="macro"),
        "ROC AUC": metrics.roc_auc_score(y_true, probs, multi_class="ovr", average="macro"),
    }


probs_plain = model_plain.predict(x_test_skewed, verbose=0)
probs_weighted = model_weighted.predict(x_test_skewed, verbose=0)
comparison = pd.DataFrame(
    {
        "plain": skewed_scores(y_test_skewed, probs_plain),
        "class weights": skewed_scores(y_test_skewed, probs_weighted),
    }
)
print(comparison.round(3).to_string())

# %% [markdown]
# Accuracy counts every test image once, so the frequent digits weigh most in it; balanced
# accuracy counts every class once. For the plain model:

# %%
plain = comparison["plain"]
if plain["balanced accuracy"] < plain["accuracy"]:
    reading = (
        "the frequent digits, which fill most of the test set, hide its misses on the rare ones"
    )
else:
    reading = "here the rare digits are recognised as often as the frequent ones"
display(
    Markdown(
        f"The plain model is right on {plain['accuracy']:.1%} of the test images, and its "
        f"balanced accuracy (the mean of its per-class recalls) is "
        f"{plain['balanced accuracy']:.1%}: {reading}."
    )
)

# %% [markdown]
# Recall per class shows each digit separately:

# %%
recall = pd.DataFrame(
    {
        "plain": metrics.recall_score(y_test_skewed, probs_plain.argmax(1), average=None),
        "class weights": metrics.recall_score(
            y_test_skewed, probs_weighted.argmax(1), average=None
        ),
    }
)
fig, ax = plt.subplots(figsize=(8, 3.4), layout="constrained")
recall.plot.bar(ax=ax, width=0.8, rot=0)
ax.set_xticks(range(10), [f"{d}\n({n:,})" for d, n in enumerate(train_counts)])
ax.set_xlabel("digit (number of training images)")
ax.set_ylabel("recall on the test set")
ax.set_ylim(0, 1.05)
ax.set_title("Recall per digit, without and with class weights")
plt.show()

# %% [markdown]
# What the class weights changed in this run, on the five rarest digits (5 to 9, fewer
# than 200 training images each) and on the four scores:

# %%
rare = np.arange(10) >= 5


def moved(before: float, after: float) -> str:
    """Return 'rose from a to b', 'fell from a to b' or 'stayed at a', at 3 decimals."""
    before, after = round(float(before), 3), round(float(after), 3)
    if before == after:
        return f"stayed at {before:.3f}"
    return f"{'rose' if after > before else 'fell'} from {before:.3f} to {after:.3f}"


score_changes = ", ".join(
    f"{name} {moved(comparison.loc[name, 'plain'], comparison.loc[name, 'class weights'])}"
    for name in comparison.index
)
display(
    Markdown(
        "With class weights, the mean recall of the five rarest digits "
        f"{moved(recall['plain'][rare].mean(), recall['class weights'][rare].mean())}; "
        f"{score_changes}."
    )
)

# %% [markdown]
# Class weights make a mistake on a rare class cost more, which pushes the model to call
# the rare classes more often. That is meant to raise their recall, but some of the extra
# calls can be wrong: their precision, and the overall accuracy, can fall, and macro F1,
# which counts precision too, may go either way (the sentence above says which way each
# score went in this run). ROC AUC looks only at how the probabilities rank each class
# against the others, whatever the threshold, so a rare class can rank well and still
# rarely win the argmax. In medicine, where a missed case can cost more than a false
# alarm, buying recall on the rare classes with some precision can be worth it; the cost
# of each kind of mistake decides. Other remedies: oversample the rare classes, collect
# more of them, or move the decision threshold (exercise 3).

# %% [markdown]
# ## Summary
#
# - Fashion-MNIST has MNIST's format, so the same loader, pipeline and model run on it
#   unchanged; the data comes from a verified local copy (Debian package, files put by hand,
#   or Keras' download in full mode) checked against the SHA-256 of the official files.
# - Compare the article's CNN's test accuracy on clothes above with the just under 99%
#   that notebook 05 measures on digits. The confusion matrix, the per-class recall and the mean
#   images show which classes it confuses (the tops, whose thumbnails differ in a few
#   pixels, are the ones to look at) and why.
# - Medical datasets add class imbalance, asymmetric costs, patient-level splits and small
#   test sets.
# - On unbalanced data, report balanced accuracy, per-class recall, macro F1 and ROC AUC, not
#   accuracy alone. Class weights in `fit` make rare-class mistakes cost more, to raise
#   rare-class recall; check what they cost in accuracy and precision.

# %% [markdown]
# ## Exercises
#
# 1. Which pair of Fashion-MNIST classes accounts for the most mistakes? Show those
#    mistakes with `evaluation.misclassified_gallery` and decide whether you could have
#    labelled them yourself.
# 2. Check by hand, from `metrics.recall_score(..., average=None)`, that balanced accuracy
#    is the mean of the per-class recalls and that accuracy is their average weighted by the
#    number of test images of each class.
# 3. Without retraining, divide the plain model's probabilities by the share of each class
#    in the *training* set, take the argmax again, and compare balanced accuracy and macro
#    F1 with the plain and class-weighted models. Why does this help?

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
if HAVE_FASHION:
    worst = evaluation.most_confused_pairs(y_test, y_pred, k=1).iloc[0]
    pair = {int(worst["true"]), int(worst["predicted"])}
    in_pair = np.isin(y_test, list(pair)) & np.isin(y_pred, list(pair))
    mistakes = int((in_pair & (y_pred != y_test)).sum())
    print(
        "most confused:",
        {c: fashion_mnist.CLASS_NAMES[c] for c in sorted(pair)},
        f"{mistakes} mistakes",
    )
    fig = evaluation.misclassified_gallery(x_test[in_pair], y_test[in_pair], probs[in_pair], n=16)
else:
    fig = None
    print(SKIPPED)
fig

# %% [markdown]
# **Solution to exercise 2**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
per_class_recall = metrics.recall_score(y_test_skewed, probs_plain.argmax(1), average=None)
support = np.bincount(y_test_skewed, minlength=10)
print(
    f"mean of recalls      {per_class_recall.mean():.4f}  "
    f"balanced accuracy {metrics.balanced_accuracy_score(y_test_skewed, probs_plain.argmax(1)):.4f}"
)
print(
    f"weighted by support  {np.average(per_class_recall, weights=support):.4f}  "
    f"accuracy          {metrics.accuracy_score(y_test_skewed, probs_plain.argmax(1)):.4f}"
)

# %% [markdown]
# **Solution to exercise 3**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
train_share = train_counts / train_counts.sum()
adjusted = probs_plain / train_share  # undo the prior the model learned from the counts
adjusted /= adjusted.sum(axis=1, keepdims=True)
comparison["plain, prior removed"] = skewed_scores(y_test_skewed, adjusted)
print(comparison.round(3).to_string())
print("A model trained on unbalanced data learns p(class | image), which includes how")
print("common each class was in training. Dividing by that prior asks instead which class")
print("makes the image most likely, which favours the rare classes, as class weights do.")
