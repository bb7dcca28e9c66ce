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
# # 12 · Read your own digit
#
# Give the model a photo of a handwritten digit, see why resizing it to 28x28 is not enough,
# prepare it the way MNIST was prepared, measure how well that works, and finally draw
# digits with the mouse for the model to read as you draw.
#
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mnist-cnn-course/mnist-cnn-course/main?urlpath=lab/tree/notebooks/12_your_own_digit.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-cnn-course/mnist-cnn-course/blob/main/notebooks/12_your_own_digit.ipynb)
#
# [Previous: 11 · Export the model](11_export.ipynb) · [Next: 13 · Scale up training](13_scaling.ipynb)

# %% [markdown]
# ## What you will learn
#
# - why a photo resized to 28x28 fools a model trained on MNIST, and what MNIST's own
#   preprocessing did (white on black, cropped, fitted in 20x20, centred by mass);
# - how to run that preprocessing step by step on your own picture with `helpers.digits`;
# - how to measure the whole pipeline on a thousand phone-style photos, and how to run it
#   from the command line with `python -m helpers.predict`;
# - how to build a drawing pad in JupyterLab with ipycanvas and ipywidgets.
#
# ## Before you start
#
# This notebook needs a trained model: `best_model.keras` from notebook 09 if it exists,
# else `article_cnn.keras` from notebook 04; with neither, it trains the article's CNN for
# a short while itself and says so. The sample photos are in `images/samples/` (made by
# `python -m helpers.maintainer.make_sample_images`). The drawing pad needs JupyterLab with a running
# kernel (ipycanvas' extension is installed with the course). In full mode the notebook
# takes about a minute on a laptop CPU, most of it making and reading 1,000 photos.

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
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from IPython.display import display
from PIL import Image, ImageDraw

from helpers import config, data, digits, drawpad, models, predict, saving

config.set_seed()
FAST = config.fast_mode()
print(config.describe_mode())
print("TensorFlow", tf.__version__, "| Keras", keras.__version__)

# %% [markdown]
# ## Load the data and the sample photos
#
# The MNIST test digits are turned into phone-style photos further down; the training
# images are only needed if there is no saved model to load (fast mode keeps 6,000).

# %%
n_train = 6_000 if FAST else None
(x_train, y_train), (x_val, y_val), (x_test, y_test) = data.prepare_mnist(n_train=n_train)
print(f"training images: {x_train.shape}")

# %% [markdown]
# The sample photos are named after the digit they show, so we know the right answers.

# %%
# NBVAL_CHECK_OUTPUT
sample_paths = sorted((config.REPO_ROOT / "images" / "samples").glob("digit_*"))
sample_labels = [int(path.stem.split("_")[1]) for path in sample_paths]
print(f"test digits: {x_test.shape}")
print(f"{len(sample_paths)} sample photos:", ", ".join(path.name for path in sample_paths))

# %% [markdown]
# ## Find the trained model
#
# `saving.load_course_model()` loads the best model the course has saved so far (read it
# in `helpers/saving.py`). The command-line tool further down needs a file, so a model
# trained here is saved as `short_cnn.keras` in the models folder.

# %%
found = saving.load_course_model()
if found is not None:
    model, model_path, model_description = found
    print(f"using {model_description}: {model_path.name}")
else:
    model = None
    print("no saved model: run notebook 04 (or 09) first, or let the next cell train one")

# %% [markdown]
# Without a saved model, train the article's CNN here as notebook 04 does, only shorter:
# 3 epochs on all training images in full mode, 1 epoch on 6,000 in fast mode.

# %%
if model is None:
    epochs = 1 if FAST else 3
    batch_size = 128
    model_description = f"the article's CNN, trained here for {epochs} epoch(s)"
    print(f"training {model_description} on {len(x_train):,} images")
    model, _ = models.train_article_cnn(
        x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size
    )
    model_path = saving.save_model_atomically(model, config.models_dir() / "short_cnn.keras")
print(f"model file: {model_path.name}")

# %% [markdown]
# ## Try the obvious way: resize the photo
#
# The model takes 28x28 grayscale images, so the obvious thing is to open the photo, make
# it grayscale and resize it to 28x28. Do that to the photo of a 7, and show an MNIST 7
# from the test set beside it.

# %%
photo_path = config.REPO_ROOT / "images" / "samples" / "digit_7.jpg"
photo = Image.open(photo_path)
naive = np.asarray(photo.convert("L").resize((28, 28)), dtype=np.float32) / 255.0
naive_probs = model.predict(naive.reshape(1, 28, 28, 1), verbose=0)[0]
mnist_seven = x_test[np.flatnonzero(y_test == 7)[0], :, :, 0]

drawpad.panels(
    {"the photo": np.asarray(photo), "resized to 28x28": naive, "an MNIST 7": mnist_seven},
    ncols=3,
    size=2.6,
)

# %%
print("the model reads the resized photo as:")
for digit, probability in predict.top_k(naive_probs, 3):
    print(f"  {digit}: {probability:.1%}")

# %% [markdown]
# The resized photo looks nothing like the digits the model learned from. MNIST digits are
#
# - **white on black**: the ink is 1, the paper exactly 0; our photo is dark ink on light,
#   grey paper, so the model sees a bright square with a faint dark smudge;
# - **cropped and fitted in a 20x20 box**, keeping the aspect ratio: here the digit fills a
#   fraction of the picture and ends up about half as tall as an MNIST digit, with strokes
#   a pixel wide or less;
# - **centred by their centre of mass** in the 28x28 image, with a 4-pixel black border.
#
# The model has never seen anything like it, and a model that has never seen something
# does not say "I don't know": it still gives one answer, often with high confidence.
#
# > **Note: the article** says to "resize all images to the same size, for example 28x28"
# > before training. That is all MNIST needs, because its images were already prepared.
# > Your own pictures need the same preparation as MNIST's, not just the same size: the
# > steps below.

# %% [markdown]
# ## Preprocess like MNIST, step by step
#
# `digits.preprocess_steps` runs each step of `helpers/digits.py` and keeps every
# intermediate picture, so we can look at them all.

# %%
steps = digits.preprocess_steps(photo_path)
drawpad.panels(steps, ncols=5, size=2.2, title=f"{photo_path.name}, step by step")

# %% [markdown]
# What each step does, and why:
#
# 1. **original**: the photo as loaded (a phone's rotation flag applied; pictures over
#    40 megapixels are refused before decoding);
# 2. **grayscale**: one brightness per pixel in [0, 1], transparent pixels counted as paper;
#    large photos are shrunk to 1,024 pixels, which also evens out sensor noise;
# 3. **white_on_black**: inverted when the paper is lighter than the ink, as on paper;
# 4. **background_removed**: a smooth estimate of the paper's brightness is subtracted, so
#    shadows and a lighting gradient do not count as ink;
# 5. **contrast**: stretched so the ink is 1 and the paper 0, with the paper's noise set to
#    exactly 0 (a threshold found by Otsu's method);
# 6. **cropped**: cut to the bounding box of the ink;
# 7. **thickened**: strokes thinner than MNIST's (relative to the digit's size) are widened;
#    a fine pen shrunk to 20 pixels would otherwise be a faint hairline;
# 8. **resized**: the longer side made 20 pixels, the aspect ratio kept (a 1 stays thin);
# 9. **centred**: pasted into 28x28 black so that the centre of mass is at the centre;
# 10. **mnist**: the same as uint8 0 to 255, exactly like the arrays of `data.load_mnist`.
#
# The result, scaled like the training data, is what the model reads:

# %%
mnist_style = data.scale_images(steps["mnist"][np.newaxis])
prepared_probs = model.predict(mnist_style, verbose=0)[0]
print("the model reads the prepared photo as:")
for digit, probability in predict.top_k(prepared_probs, 3):
    print(f"  {digit}: {probability:.1%}")

# %% [markdown]
# ## Read the sample photos
#
# `predict.predict_images` runs `digits.to_mnist` on each picture and classifies them all in
# one batch; it is what the command-line tool runs. For each photo: the 28x28 digit the
# model saw and its three most likely digits, green where the answer is right, red where
# it is wrong.

# %%
sample_predictions = predict.predict_images(model, sample_paths, top=3)
sample_images = [digits.to_mnist(path) for path in sample_paths]
drawpad.top_k_figure(sample_images, sample_predictions, labels=sample_labels, k=3, ncols=4)

# %%
sample_correct = [
    p.digit == label for p, label in zip(sample_predictions, sample_labels, strict=True)
]
print(f"{sum(sample_correct)} of {len(sample_paths)} sample photos read correctly")

# %% [markdown]
# ## Measure the pipeline on phone-style photos
#
# Ten photos are an anecdote. `digits.make_photo_like` turns an MNIST test digit into a
# phone-style photo: dark ink on tinted paper, a lighting gradient, noise, blur, a random
# size and position, JPEG compression. We make a seeded set of them and read them with the
# same `predict.predict_images` the command-line tool uses. The model never trained on these
# test digits, in either form.

# %%
n_photos = 200 if FAST else 1_000
rng = np.random.default_rng(2024)
photo_indices = rng.choice(len(x_test), size=n_photos, replace=False)
photos = [digits.make_photo_like(x_test[i], rng) for i in photo_indices]
widths, heights = zip(*(p.size for p in photos), strict=True)
print(f"{len(photos):,} photos, {min(widths)}-{max(widths)} x {min(heights)}-{max(heights)} pixels")

# %% [markdown]
# A few of them, with the digit each was made from:

# %%
drawpad.panels(
    {f"photo {n + 1}: a {y_test[photo_indices[n]]}": np.asarray(photos[n]) for n in range(6)},
    ncols=6,
)

# %% [markdown]
# Read them all, and read the original 28x28 digits too: the difference is what the trip
# through paper, camera and preprocessing costs.

# %%
photo_predictions = predict.predict_images(model, photos)
photo_digits = np.array([-1 if p.digit is None else p.digit for p in photo_predictions])
original_digits = model.predict(x_test[photo_indices], verbose=0).argmax(axis=1)
true_digits = y_test[photo_indices]

photo_accuracy = np.mean(photo_digits == true_digits)
original_accuracy = np.mean(original_digits == true_digits)
failed = sum(p.error is not None for p in photo_predictions)
print(f"accuracy on the {n_photos:,} original 28x28 digits: {original_accuracy:.1%}")
print(f"accuracy on the same digits as photos:       {photo_accuracy:.1%}")
print(f"photos the pipeline could not read:           {failed}")

# %% [markdown]
# The photos usually cost one to a few points of accuracy: blur and JPEG soften the strokes,
# and the preprocessing cannot undo everything. Real photos of your own handwriting can be harder
# (other pens, other writing styles, a messy background), so expect less from them.

# %% [markdown]
# ## Use the command-line tool
#
# The same pipeline runs outside Jupyter: `python -m helpers.predict MODEL IMAGE...` prints
# one line per picture, or JSON with `--json` (read `helpers/predict.py`). Run it here on
# the sample photos, from the repository's folder, as you would in a terminal.

# %%
command = [
    sys.executable,
    "-m",
    "helpers.predict",
    str(model_path),
    *[str(path.relative_to(config.REPO_ROOT)) for path in sample_paths],
    "--json",
]
print("$ python -m helpers.predict", model_path.name, "images/samples/digit_* --json")
result = subprocess.run(
    command, cwd=config.REPO_ROOT, capture_output=True, text=True, timeout=300, check=False
)
cli_output = json.loads(result.stdout)
print("exit code:", result.returncode)
print(json.dumps(cli_output[:2], indent=2))
print(f"... and {len(cli_output) - 2} more")

# %% [markdown]
# The JSON is a list with one object per picture; as a table, and checked against the
# predictions made in this notebook:

# %%
cli_results = pd.DataFrame(cli_output).drop(columns="top")
assert cli_results["digit"].tolist() == [p.digit for p in sample_predictions]
cli_results.round(3)

# %% [markdown]
# ## Draw a digit yourself
#
# Finally, a drawing pad: draw a digit with the mouse in the black square, and after each
# stroke the model's answer and its ten probabilities update. `drawpad.build_drawpad` builds
# it from an ipycanvas `Canvas` (which sends its pixels back to Python after every stroke),
# a Clear button and two ipywidgets `HTML` elements (read it in `helpers/drawpad.py`).
# Drawings are already white on black, so they only need cropping, fitting in 20x20 and
# centring: `drawpad.canvas_to_mnist`.
#
# Try to fool it: draw a 7 with a bar across, a 1 with a flag, a 4 that is open at the top.

# %%
print(drawpad.STATIC_VIEW_TEXT)
pad = drawpad.build_drawpad(model)
display(pad)

# %% [markdown]
# The pad reads the canvas with `canvas.get_image_data()`, an RGBA array, and hands it to
# `drawpad.predict_drawing`. The same function works without a browser, here on a 7 drawn
# in code as two strokes:

# %%
canvas_image = Image.new("RGBA", (drawpad.CANVAS_SIZE, drawpad.CANVAS_SIZE), "black")
pen = ImageDraw.Draw(canvas_image)
pen.line([(70, 60), (210, 60), (120, 240)], fill="white", width=drawpad.LINE_WIDTH, joint="curve")
drawing = drawpad.predict_drawing(model, np.asarray(canvas_image))
print(f"predict_drawing reads it as {drawing.digit} ({drawing.probabilities[drawing.digit]:.0%})")
drawpad.panels(
    {"the canvas": np.asarray(canvas_image), "what the model sees": drawing.image}, ncols=2
)

# %% [markdown]
# ## Summary
#
# - A model trained on MNIST only reads pictures prepared like MNIST: white on black,
#   cropped, fitted in 20x20 and centred by mass in 28x28. Resizing alone gives confident
#   nonsense.
# - `digits.preprocess_steps` / `digits.to_mnist` do that preparation for photos and scans;
#   `predict.predict_images` and `python -m helpers.predict` add the model.
# - On phone-style photos made from test digits the pipeline loses a few points of accuracy
#   compared with the original digits; measure before trusting a pipeline.
# - An ipycanvas `Canvas` with `sync_image_data=True`, mouse handlers and a few ipywidgets
#   makes a drawing pad that reads your digits live.

# %% [markdown]
# ## Exercises
#
# 1. Centring matters: read the phone-style photos again, but paste the 20x20 digit into the
#    top-left corner of the 28x28 image (`steps["resized"]`) instead of centring it by mass.
#    How much accuracy is lost?
# 2. Which digits suffer most as photos? Make a table with the accuracy per true digit, on
#    the original digits and on the photos.
# 3. Rotate the photo of the 7 by 10, 20, 30 and 45 degrees and read each one: from which
#    angle on does the model stop reading a 7? (MNIST digits are upright.) Fill the
#    corners that rotation uncovers with the paper's colour, e.g. the median pixel:
#    `photo.rotate(angle, expand=True, fillcolor=paper)`; white corners would look like
#    a lighting problem to the preprocessing.

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
cornered = []
for phone_photo in photos:
    resized = digits.preprocess_steps(phone_photo)["resized"]
    corner = np.zeros((28, 28), dtype=np.float32)
    corner[: resized.shape[0], : resized.shape[1]] = resized
    cornered.append(digits.to_uint8(corner))
corner_digits = model.predict(data.scale_images(np.stack(cornered)), verbose=0).argmax(axis=1)
print(f"centred by mass: {photo_accuracy:.1%}")
print(f"in the corner:   {np.mean(corner_digits == true_digits):.1%}")
# A CNN with one convolution and pooling layer tolerates small shifts only: the dense
# layer learned where strokes are in centred digits.

# %% [markdown]
# **Solution to exercise 2**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
per_digit = pd.DataFrame(
    {
        "true digit": true_digits,
        "original": original_digits == true_digits,
        "photo": photo_digits == true_digits,
    }
)
per_digit_accuracy = per_digit.groupby("true digit").agg(
    photos=("photo", "size"), original=("original", "mean"), photo=("photo", "mean")
)
per_digit_accuracy["lost (points)"] = 100 * (
    per_digit_accuracy["original"] - per_digit_accuracy["photo"]
)
per_digit_accuracy.sort_values("lost (points)", ascending=False).round(3)

# %% [markdown]
# **Solution to exercise 3**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
paper = tuple(int(v) for v in np.median(np.asarray(photo).reshape(-1, 3), axis=0))
for angle in [0, 10, 20, 30, 45]:
    rotated = photo.rotate(angle, expand=True, fillcolor=paper)
    (reading,) = predict.predict_images(model, [rotated], top=2)
    (best, best_p), (second, second_p) = reading.top
    print(f"rotated {angle:>2} degrees: {best} ({best_p:.0%}), runner-up {second} ({second_p:.0%})")
