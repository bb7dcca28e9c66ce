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
# - how to write that preprocessing, one short function per step (grayscale, white on
#   black, threshold, crop, fit in 20x20, pad to 28x28 centred by mass), and run it on
#   your own picture;
# - how to measure the whole pipeline on a thousand phone-style photos, and how to run it
#   from the command line with `python -m helpers.predict`;
# - how to build a drawing pad in JupyterLab with ipycanvas and ipywidgets.
#
# ## Before you start
#
# This notebook needs a trained model: `best_model.keras` from notebook 09 if it exists,
# else `article_cnn.keras` from notebook 04; with neither, it trains the article's CNN for
# a short while itself and says so. The sample photos are in `images/samples/` (made by
# `python -m helpers.maintainer.make_sample_images`). The drawing pad needs JupyterLab
# with a running kernel (ipycanvas' extension is installed with the course). In full mode
# the notebook takes a minute or two on a laptop CPU (plus 3 epochs of training if no
# saved model is found).

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

import io
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
from helpers.digits import (  # the plumbing that the preprocessing steps below use
    MAX_PIXELS,
    BlankImageError,
    DigitImageError,
    ImageSource,
    load_image,
    source_name,
    to_luminance,
    to_uint8,
)

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
naive_digit, naive_probability = predict.top_k(naive_probs, 1)[0]
if naive_probability >= 0.9:
    how_sure = "nearly certain"
elif naive_probability > 0.5:
    how_sure = "more than all the other nine digits together"
else:
    how_sure = "less than all the other nine digits together"
print(
    f"its answer, {naive_digit}, is {'right' if naive_digit == 7 else 'wrong'}, "
    f"at {naive_probability:.1%}: {how_sure}"
)

# %% [markdown]
# The resized photo looks nothing like the digits the model learned from. MNIST digits are
#
# - **white on black**: the ink is 1, the paper exactly 0; our photo is dark ink on light,
#   grey paper, so the model sees a bright square with a faint dark smudge;
# - **cropped and fitted in a 20x20 box**, keeping the aspect ratio: here the digit fills a
#   fraction of the picture, so in 28x28 it is shorter than an MNIST digit, off-centre,
#   and its strokes are a pixel or two wide;
# - **centred by their centre of mass** in the 28x28 image, with a 4-pixel black border.
#
# The model has never seen anything like it, and a model that has never seen something
# does not say "I don't know": it still gives one answer, with a probability (the last line
# above) that says how it ranks the ten digits, not whether the picture looks like any of
# them.
#
# > **Note: the article** says to "resize all images to the same size, for example 28x28"
# > before training. That is all MNIST needs, because its images were already prepared.
# > Your own pictures need the same preparation as MNIST's, not just the same size: the
# > steps below.

# %% [markdown]
# ## Preprocess like MNIST, step by step
#
# Our photo needs the preparation MNIST's digits had. Each step below is a short function,
# written here and tried at once on the photo of the 7. The cells that start with
# `# @save helpers.digits` are also the code of `helpers/digits.py`:
# `python -m helpers.maintainer.lessons` copies them there (a test fails if the two
# differ), so `digits.to_mnist`, the command-line tool and the drawing pad further down run
# exactly this code. Opening the file stays in that module as plumbing, imported in the
# setup cell: `load_image` reads PNG, JPEG and other formats, applies a phone's rotation
# flag and refuses pictures over 40 megapixels before decoding them, and every problem is
# a `DigitImageError` (such as `BlankImageError`) whose message names the file.
#
# First the target, as MNIST's description (LeCun, Cortes and Burges) gives it: each digit
# was fitted in a 20x20 box, keeping its aspect ratio, and placed in a 28x28 image so that
# its centre of mass is at the centre.

# %%
# @save helpers.digits
MNIST_SIZE = 28  # pixels per side of an MNIST image
BOX_SIZE = 20  # the digit is fitted in a box this size, aspect ratio kept
MNIST_CENTRE = (14.0, 14.0)  # where its centre of mass goes, as (row, column)

# %% [markdown]
# ### 1. Grayscale
#
# The model sees one brightness per pixel, so colour goes first. A phone photo has millions
# of pixels; shrinking a large one to a longer side of `WORKING_SIDE` pixels, by averaging
# blocks of pixels, makes every later step fast and evens out the sensor's noise, and the
# digit ends up 20 pixels tall anyway. `to_luminance` (plumbing) deals with the file's
# image mode: transparent pixels become white paper, 16-bit scans keep their range.

# %%
# @save helpers.digits
WORKING_SIDE = 1024  # larger photos are shrunk to this longer side first


def to_grayscale(image: Image.Image, max_side: int = WORKING_SIDE) -> np.ndarray:
    """Return ``image`` as a float32 grayscale array in [0, 1] (0 black, 1 white).

    A picture whose longer side exceeds ``max_side`` is shrunk to it first.
    """
    gray = to_luminance(image)
    scale = max_side / max(gray.size)
    if scale < 1:
        size = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
        gray = gray.resize(size, Image.Resampling.BOX)  # BOX: each pixel the mean of a block
    values = np.asarray(gray, dtype=np.float32)
    return values if gray.mode == "F" else values / 255.0


# %%
photo_image = load_image(photo_path)
grayscale = to_grayscale(photo_image)
print(f"{photo_path.name}: {photo_image.mode}, {photo_image.width}x{photo_image.height} pixels")
print(f"grayscale: {grayscale.dtype}, (rows, columns) = {grayscale.shape}")
print(f"from {grayscale.min():.2f} (the darkest ink) to {grayscale.max():.2f} (the lightest paper)")

# %% [markdown]
# ### 2. White on black
#
# MNIST's ink is bright (1) on black paper (0); a photo of a pen's ink is the other way
# round, and a scan of chalk on a board is not. To tell which, look at the picture's border,
# where there is rarely ink: its median is the paper's level, and the ink is whichever
# extreme of the picture lies further from it, the darkest pixels or the brightest. Using
# the 0.1st and 99.9th percentiles as the extremes keeps a few odd pixels from deciding.


# %%
# @save helpers.digits
def has_light_background(gray: np.ndarray) -> bool:
    """Return True if the paper is lighter than the ink (a dark digit on light paper)."""
    height, width = gray.shape
    ring = max(1, min(height, width) // 20)  # a border of 5% of the shorter side
    border = np.concatenate(
        [gray[:ring].ravel(), gray[-ring:].ravel(), gray[:, :ring].ravel(), gray[:, -ring:].ravel()]
    )
    paper = float(np.median(border))
    darkest, brightest = np.percentile(gray, [0.1, 99.9])
    return bool(paper - darkest > brightest - paper)


def to_white_on_black(gray: np.ndarray) -> np.ndarray:
    """Return ``gray`` with the digit white on black, as in MNIST: inverted if paper is light."""
    return 1.0 - gray if has_light_background(gray) else gray.copy()


# %%
white_on_black = to_white_on_black(grayscale)
print("light paper, so inverted:", has_light_background(grayscale))

# %% [markdown]
# ### 3. Remove the background
#
# Photographed paper is not evenly lit: once inverted, a shadow or a lighting gradient
# across the page looks like faint ink. So estimate the paper's brightness everywhere and
# subtract it: cut the picture into cells of `BACKGROUND_CELL` pixels, take the 25th
# percentile of each cell as its paper level (ink rarely covers three quarters of a cell),
# and interpolate those levels smoothly over the whole picture.

# %%
# @save helpers.digits
BACKGROUND_CELL = 64  # pixels per cell when estimating the paper's brightness


def subtract_background(image: np.ndarray, cell: int = BACKGROUND_CELL) -> np.ndarray:
    """Return ``image`` (white on black) minus a smooth estimate of the paper's brightness.

    Pictures smaller than two cells get one level for the whole picture.
    """
    height, width = image.shape
    rows, cols = max(1, height // cell), max(1, width // cell)
    levels = np.empty((rows, cols), dtype=np.float32)
    for i, band in enumerate(np.array_split(image, rows, axis=0)):
        for j, block in enumerate(np.array_split(band, cols, axis=1)):
            levels[i, j] = np.percentile(block, 25)
    grid = Image.fromarray(levels, mode="F")
    background = np.asarray(grid.resize((width, height), Image.Resampling.BILINEAR))
    return np.clip(image - background, 0, None).astype(np.float32)


# %%
background_removed = subtract_background(white_on_black)
print(f"median brightness (the paper): {np.median(white_on_black):.3f} before,")
print(f"                               {np.median(background_removed):.3f} after")

# %% [markdown]
# ### 4. Threshold: paper 0, ink 1
#
# In MNIST the paper is exactly 0 and the ink about 1. Otsu's method finds the level $t$
# that splits the pixels into a dark group and a bright group that differ most: it
# maximises $n_\text{dark}(t)\, n_\text{bright}(t)\, (\mu_\text{dark}(t) -
# \mu_\text{bright}(t))^2$, where $n$ counts a group's pixels and $\mu$ is their mean
# brightness. Below a noise floor (half the threshold, or five standard deviations of the
# paper's noise if that is higher) a pixel becomes 0, and the ink's level (the 90th
# percentile of the ink) becomes 1. The grey edges of strokes in between are kept, like
# MNIST's anti-aliased edges. A picture whose ink barely differs from its paper has no
# digit to find: `BlankImageError`.

# %%
# @save helpers.digits
MIN_CONTRAST = 0.15  # ink must differ from the paper by 15% of the full range


def otsu_threshold(image: np.ndarray, bins: int = 256) -> float:
    """Return the level that best separates dark from bright pixels (Otsu's method).

    Where any level in an empty gap would do, the middle of the gap is returned.
    Returns the minimum of ``image`` if it is uniform.
    """
    low, high = float(image.min()), float(image.max())
    if high <= low:
        return low
    counts, edges = np.histogram(image, bins=bins, range=(low, high))
    centres = (edges[:-1] + edges[1:]) / 2
    n_dark = np.cumsum(counts, dtype=np.float64)  # pixels at or below each level
    n_bright = n_dark[-1] - n_dark
    sum_dark = np.cumsum(counts * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_dark = sum_dark / n_dark
        mean_bright = (sum_dark[-1] - sum_dark) / n_bright
        between = n_dark * n_bright * (mean_dark - mean_bright) ** 2
    between = np.nan_to_num(between, nan=-1.0)
    best = np.flatnonzero(between >= between.max() * (1 - 1e-9))
    # a gap between the two groups is a plateau: take its middle, not its dark end
    return float(edges[round((best[0] + best[-1]) / 2) + 1])


def normalise_contrast(image: np.ndarray, min_contrast: float = MIN_CONTRAST) -> np.ndarray:
    """Return ``image`` (white on black) stretched to [0, 1], with the paper's noise set to 0.

    Raises ``BlankImageError`` if the ink differs from the paper by less than
    ``min_contrast`` (a blank or almost uniform picture).
    """
    threshold = otsu_threshold(image)
    ink = image[image > threshold]
    ink_level = float(np.percentile(ink, 90)) if ink.size else 0.0
    paper = image[image <= threshold]
    paper_median = float(np.median(paper))
    noise = 1.4826 * float(np.median(np.abs(paper - paper_median)))  # a robust std
    floor = max(threshold / 2, paper_median + 5 * noise)
    if ink_level - paper_median < min_contrast or ink_level <= floor:
        raise BlankImageError(
            f"no ink found, the picture looks blank: its darkest marks differ from the "
            f"paper by only {max(ink_level - paper_median, 0):.0%} of the full range "
            f"({min_contrast:.0%} needed); write the digit darker or photograph it in "
            "better light"
        )
    return np.clip((image - floor) / (ink_level - floor), 0, 1).astype(np.float32)


# %%
contrast = normalise_contrast(background_removed)
print(f"Otsu's threshold: {otsu_threshold(background_removed):.3f}")
print(
    f"pixels above 0 (the ink): {np.mean(contrast > 0):.1%}, exactly 1: {np.mean(contrast == 1):.1%}"
)

# %% [markdown]
# ### 5. Crop to the ink
#
# Now that the paper is exactly 0, the digit is the bounding box of every pixel above 0.


# %%
# @save helpers.digits
def crop_to_ink(image: np.ndarray) -> np.ndarray:
    """Return the smallest rectangle of ``image`` holding every pixel above 0 (the ink).

    Raises ``BlankImageError`` if no pixel is above 0.
    """
    rows = np.flatnonzero(image.max(axis=1) > 0)
    cols = np.flatnonzero(image.max(axis=0) > 0)
    if rows.size == 0:
        raise BlankImageError("no ink found: every pixel is 0 after removing the paper")
    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].copy()


# %%
cropped = crop_to_ink(contrast)
print(f"{contrast.shape} -> {cropped.shape}")

# %% [markdown]
# ### 6. Thicken thin strokes
#
# A fine pen's line is thin for the size of its digit, thinner than MNIST's strokes
# (measured below); shrunk with its digit to 20 pixels, it becomes a faint hairline that a
# CNN trained on MNIST reads less well. Measure the strokes as a fraction of the digit's
# size: for the pixels above half the brightest, $2 \times \text{area} / \text{perimeter}$
# is the width of a long straight stroke (area $L w$, perimeter about $2L$). If it is below
# `MIN_STROKE_WIDTH`, widen the strokes with a *dilation*: each pixel becomes the brightest
# of the square around it.

# %%
# @save helpers.digits
MIN_STROKE_WIDTH = 0.08  # thinner strokes (relative to the digit's size) are thickened


def stroke_width(image: np.ndarray) -> float:
    """Return the mean width of the strokes in ``image``, as a fraction of its longer side.

    Returns 0.0 for an all-black image.
    """
    peak = float(image.max())
    if peak <= 0:
        return 0.0
    ink = np.pad(image > peak / 2, 1).astype(np.int8)
    area = int(ink.sum())
    perimeter = int(np.abs(np.diff(ink, axis=0)).sum() + np.abs(np.diff(ink, axis=1)).sum())
    return 2 * area / perimeter / max(image.shape)


def dilate(image: np.ndarray, size: int) -> np.ndarray:
    """Return the grayscale dilation of ``image`` by a ``size`` x ``size`` square (a max filter).

    The image grows by ``size // 2`` pixels on each side, so no ink is cut off.
    """
    reach = size // 2
    grown = np.pad(image, reach)
    for axis in (0, 1):
        spread = grown.copy()
        for shift in range(1, reach + 1):
            np.maximum(spread, np.roll(grown, shift, axis=axis), out=spread)
            np.maximum(spread, np.roll(grown, -shift, axis=axis), out=spread)
        grown = spread
    return grown


def thicken_strokes(image: np.ndarray, min_width: float = MIN_STROKE_WIDTH) -> np.ndarray:
    """Return ``image`` (a cropped digit) with strokes widened towards ``min_width``, if thinner.

    The dilation adds whole pixels on each side, so the width lands near ``min_width``,
    above or below it. Thick strokes are left as they are; the result is cropped to the
    ink again.
    """
    missing = (min_width - stroke_width(image)) * max(image.shape)
    if missing < 1:
        return image.copy()
    return crop_to_ink(dilate(image, 2 * round(missing / 2) + 1))


# %% [markdown]
# The same measure on the first 1,000 MNIST test digits shows how thick their strokes are,
# next to the photo's before and after thickening:

# %%
thickened = thicken_strokes(cropped)
mnist_widths = [stroke_width(crop_to_ink(x[:, :, 0])) for x in x_test[:1_000]]
print(f"MNIST test digits: median {np.median(mnist_widths):.3f}")
print(f"the photo:         {stroke_width(cropped):.3f}, thickened {stroke_width(thickened):.3f}")

# %% [markdown]
# ### 7. Fit in a 20x20 box
#
# Resize so that the longer side is 20 pixels, keeping the aspect ratio (a 1 stays thin).
# Shrinking averages neighbouring pixels, so the edges turn grey as MNIST's do; the result
# is rescaled so that its brightest pixel is 1 again.


# %%
# @save helpers.digits
def fit_in_box(image: np.ndarray, box: int = BOX_SIZE) -> np.ndarray:
    """Return ``image`` resized so its longer side is ``box`` pixels, aspect ratio kept.

    The result is rescaled so its brightest pixel is 1 (thin strokes would turn grey).
    """
    height, width = image.shape
    scale = box / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(image.astype(np.float32), mode="F").resize(
        size, Image.Resampling.BILINEAR
    )
    fitted = np.clip(np.asarray(resized, dtype=np.float32), 0, None)
    peak = float(fitted.max())
    return fitted / peak if peak > 0 else fitted


# %%
resized = fit_in_box(thickened)
print(f"{thickened.shape} -> {resized.shape}")

# %% [markdown]
# ### 8. Pad to 28x28, centred by mass
#
# The centre of mass weights each pixel by its brightness $I$: row
# $\bar r = \sum r\, I_{rc} / \sum I_{rc}$, and the same for the column. Paste the 20x20
# digit into a 28x28 black image, shifted so that its centre of mass lands on
# `MNIST_CENTRE`; as in MNIST the shift is whole pixels, and it is limited so that no ink
# falls off the edge.


# %%
# @save helpers.digits
def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """Return the (row, column) centre of mass of ``image``, weighting pixels by value.

    Raises ``BlankImageError`` if every pixel is 0.
    """
    total = float(image.sum())
    if total <= 0:
        raise BlankImageError("no ink found: every pixel is 0")
    rows = np.arange(image.shape[0])
    cols = np.arange(image.shape[1])
    return (
        float((image.sum(axis=1) * rows).sum() / total),
        float((image.sum(axis=0) * cols).sum() / total),
    )


def centre_by_mass(
    image: np.ndarray, size: int = MNIST_SIZE, centre: tuple[float, float] = MNIST_CENTRE
) -> np.ndarray:
    """Return ``image`` pasted in a ``size`` x ``size`` black square, centre of mass at ``centre``.

    Raises ``ValueError`` if ``image`` is larger than ``size`` and ``BlankImageError`` if
    it is all 0.
    """
    height, width = image.shape
    if height > size or width > size:
        raise ValueError(f"image of {height}x{width} does not fit in {size}x{size}")
    row, col = centre_of_mass(image)
    top = int(np.clip(round(centre[0] - row), 0, size - height))
    left = int(np.clip(round(centre[1] - col), 0, size - width))
    padded = np.zeros((size, size), dtype=np.float32)
    padded[top : top + height, left : left + width] = image
    return padded


# %% [markdown]
# Where the photo's centre of mass ends up, and where MNIST's test digits have theirs:

# %%
centred = centre_by_mass(resized)
mnist_centres = np.array([centre_of_mass(x[:, :, 0]) for x in x_test[:1_000]])
print("the photo:                       row {:.2f}, column {:.2f}".format(*centre_of_mass(centred)))
print("MNIST's first 1,000 test digits: row {:.2f}, column {:.2f}".format(*mnist_centres.mean(0)))

# %% [markdown]
# ### All the steps in one function
#
# `preprocess_steps` chains the steps and keeps every picture by name, so that they can be
# plotted; `to_mnist` keeps only the last one, as uint8 0 to 255 like the arrays of
# `data.load_mnist`. An error in any step is raised again with the file's name in front.


# %%
# @save helpers.digits
def preprocess_steps(source: ImageSource, max_pixels: int = MAX_PIXELS) -> dict[str, np.ndarray]:
    """Run every step on ``source`` and return each result, in order, by name.

    Keys: ``original`` (RGBA uint8, longer side at most ``WORKING_SIDE``), ``grayscale``,
    ``white_on_black``, ``background_removed``, ``contrast``, ``cropped``, ``thickened``,
    ``resized`` (at most 20x20), ``centred`` (28x28 floats in [0, 1]) and ``mnist``
    (28x28 uint8, ready for a model after scaling like the training data).

    Raises a ``DigitImageError`` naming the file: ``ImageNotFoundError``,
    ``NotAnImageError``, ``TruncatedImageError``, ``ImageTooLargeError`` or
    ``BlankImageError``.
    """
    name = source_name(source)
    image = load_image(source, max_pixels=max_pixels)
    preview = image.convert("RGBA")
    preview.thumbnail((WORKING_SIDE, WORKING_SIDE))
    steps: dict[str, np.ndarray] = {"original": np.asarray(preview)}
    try:
        steps["grayscale"] = to_grayscale(image)
        steps["white_on_black"] = to_white_on_black(steps["grayscale"])
        steps["background_removed"] = subtract_background(steps["white_on_black"])
        steps["contrast"] = normalise_contrast(steps["background_removed"])
        steps["cropped"] = crop_to_ink(steps["contrast"])
        steps["thickened"] = thicken_strokes(steps["cropped"])
        steps["resized"] = fit_in_box(steps["thickened"])
        steps["centred"] = centre_by_mass(steps["resized"])
    except DigitImageError as exc:
        raise type(exc)(f"{name}: {exc}") from exc
    steps["mnist"] = to_uint8(steps["centred"])
    return steps


def to_mnist(source: ImageSource, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Return the digit in ``source`` as a 28x28 uint8 MNIST-style image (white on black).

    Raises a ``DigitImageError`` naming the file (see ``preprocess_steps``).
    """
    return preprocess_steps(source, max_pixels=max_pixels)["mnist"]


# %% [markdown]
# Run on the photo file, it gives what the steps above gave one by one; here are all of its
# pictures:

# %%
steps = preprocess_steps(photo_path)
np.testing.assert_array_equal(steps["centred"], centred)
drawpad.panels(steps, ncols=5, size=2.2, title=f"{photo_path.name}, step by step")

# %% [markdown]
# The result, scaled like the training data, is what the model reads:

# %%
mnist_style = data.scale_images(steps["mnist"][np.newaxis])
prepared_probs = model.predict(mnist_style, verbose=0)[0]
print("the model reads the prepared photo as:")
for digit, probability in predict.top_k(prepared_probs, 3):
    print(f"  {digit}: {probability:.1%}")
print(f"probability of a 7: {naive_probs[7]:.1%} resized, {prepared_probs[7]:.1%} prepared")

# %% [markdown]
# ## Read the sample photos
#
# `predict.predict_images` runs `digits.to_mnist` (the function written above) on each
# picture and classifies them all in one batch; it is what the command-line tool runs. For
# each photo: the 28x28 digit the model saw and its three most likely digits, green where
# the answer is right, red where it is wrong.

# %%
sample_predictions = predict.predict_images(model, sample_paths, top=3)
sample_images = [to_mnist(path) for path in sample_paths]
drawpad.top_k_figure(sample_images, sample_predictions, labels=sample_labels, k=3, ncols=4)

# %%
sample_correct = [
    p.digit == label for p, label in zip(sample_predictions, sample_labels, strict=True)
]
print(f"{sum(sample_correct)} of {len(sample_paths)} sample photos read correctly")

# %% [markdown]
# ## Measure the pipeline on phone-style photos
#
# Ten photos are an anecdote. `digits.make_photo_jpeg` turns an MNIST test digit into a
# phone-style photo: dark ink on tinted paper, a lighting gradient, noise, blur, a random
# size and position, JPEG compression. Like a phone, it keeps the photo as a JPEG file (here
# its bytes in memory), a small fraction of the size of its decoded pixels. We make a
# seeded set of them and read them with the same `predict.predict_images` the command-line
# tool uses, which opens each file as it goes. The model never trained on these test
# digits, in either form.

# %%
n_photos = 200 if FAST else 1_000
rng = np.random.default_rng(2024)
photo_indices = rng.choice(len(x_test), size=n_photos, replace=False)
jpegs = [digits.make_photo_jpeg(x_test[i], rng) for i in photo_indices]
sizes = [Image.open(io.BytesIO(jpeg)).size for jpeg in jpegs]  # reads each header only
widths, heights = zip(*sizes, strict=True)
print(f"{len(jpegs):,} photos, {min(widths)}-{max(widths)} x {min(heights)}-{max(heights)} pixels")
print(
    f"as JPEG files: {sum(map(len, jpegs)) / 1e6:.1f} MB in all; "
    f"as decoded RGB pixels they would take {sum(w * h * 3 for w, h in sizes) / 1e6:.0f} MB"
)

# %% [markdown]
# A few of them, with the digit each was made from:

# %%
drawpad.panels(
    {
        f"photo {n + 1}: a {y_test[photo_indices[n]]}": np.asarray(Image.open(io.BytesIO(jpegs[n])))
        for n in range(6)
    },
    ncols=6,
)

# %% [markdown]
# Read them all, and read the original 28x28 digits too: the difference is what the trip
# through paper, camera and preprocessing changes.

# %%
photo_predictions = predict.predict_images(model, [io.BytesIO(jpeg) for jpeg in jpegs])
photo_digits = np.array([-1 if p.digit is None else p.digit for p in photo_predictions])
original_digits = model.predict(x_test[photo_indices], verbose=0).argmax(axis=1)
true_digits = y_test[photo_indices]

photo_accuracy = np.mean(photo_digits == true_digits)
original_accuracy = np.mean(original_digits == true_digits)
failed = sum(p.error is not None for p in photo_predictions)
print(f"accuracy on the {n_photos:,} original 28x28 digits: {original_accuracy:.1%}")
print(f"accuracy on the same digits as photos:       {photo_accuracy:.1%}")
print(f"photos the pipeline could not read:           {failed}")

lost_points = 100 * (original_accuracy - photo_accuracy)
only_original = np.sum((original_digits == true_digits) & (photo_digits != true_digits))
only_photo = np.sum((original_digits != true_digits) & (photo_digits == true_digits))
if lost_points > 0:
    change = f"costs {lost_points:.1f} points of accuracy"
elif lost_points < 0:
    change = f"gains {-lost_points:.1f} points of accuracy"
else:
    change = "leaves the accuracy as it is"
print(
    f"the trip through paper, camera and preprocessing {change}: {only_original} digits are "
    f"read right only in 28x28, {only_photo} only as photos"
)

# %% [markdown]
# Blur and JPEG soften the strokes, and the preprocessing cannot undo everything; the last
# line above says what the trip changed on these photos. Real photos of your own handwriting can
# be harder (other pens, other writing styles, a messy background): measure on pictures
# like yours before trusting the pipeline with them.

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
# Drawings are already white on black, so they only need cropping, thickening if thin,
# fitting in 20x20 and centring: `drawpad.canvas_to_mnist` runs those steps, written above.
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
#   cropped, fitted in 20x20 and centred by mass in 28x28. Resizing alone gives an answer,
#   and a probability, that mean nothing.
# - Each step is a few lines of NumPy and Pillow: grayscale, white on black, background
#   removed, Otsu's threshold, crop, thicken, fit in 20x20, pad to 28x28 centred by mass.
#   `preprocess_steps` / `to_mnist` chain them (saved as `helpers.digits`);
#   `predict.predict_images` and `python -m helpers.predict` add the model.
# - Phone-style photos made from test digits measure what the trip through paper and camera
#   costs, by comparison with the original digits; measure before trusting a pipeline.
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
# 3. Rotate the photo of the 7 by 10, 20, 30 and 45 degrees and read each one: does the
#    model still read a 7, and how does its probability change? (MNIST digits are
#    upright.) Fill the corners that rotation uncovers with the paper's colour, e.g. the
#    median pixel: `photo.rotate(angle, expand=True, fillcolor=paper)`; white corners
#    would look like a lighting problem to the preprocessing.

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
cornered = []
for jpeg in jpegs:
    fitted = preprocess_steps(io.BytesIO(jpeg))["resized"]
    corner = np.zeros((28, 28), dtype=np.float32)
    corner[: fitted.shape[0], : fitted.shape[1]] = fitted
    cornered.append(to_uint8(corner))
corner_digits = model.predict(data.scale_images(np.stack(cornered)), verbose=0).argmax(axis=1)
print(f"centred by mass: {photo_accuracy:.1%}")
print(f"in the corner:   {np.mean(corner_digits == true_digits):.1%}")
# Convolutions and pooling tolerate small shifts only: the dense layer at the end learned
# where the strokes are in centred digits.

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
