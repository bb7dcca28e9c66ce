"""Preprocessing taught in notebook 12: a photo of one handwritten digit -> 28x28 MNIST.

MNIST digits are white on black, fitted in a 20x20 box (aspect ratio kept) and placed in a
28x28 image with their centre of mass at the centre. ``to_mnist(path)`` does the same to
your own picture; ``preprocess_steps`` returns every intermediate array, for plotting. The
steps (``to_grayscale``, ``to_white_on_black``, ``subtract_background``,
``normalise_contrast``, ``crop_to_ink``, ``thicken_strokes``, ``fit_in_box``,
``centre_by_mass``) are written in notebook 12's cells, each with the reason for it, and
copied into the generated block below: edit them there.

The rest is plumbing the notebook does not teach: the errors (all ``DigitImageError``, a
``ValueError``, naming the file), ``load_image`` (formats, EXIF rotation, a size limit
checked before decoding), ``to_luminance`` (image modes, transparency, 16-bit scans),
``to_uint8``, and ``make_photo_jpeg`` and ``make_photo_like``, which turn an MNIST digit
into a phone-style photo to test the pipeline.

Works best on one dark digit on plain, light paper, filling a good part of the picture,
with no paper edge or other marks in view: anything dark counts as ink.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # 40 megapixels: more than any phone photo, far less than a bomb

ImageSource = str | os.PathLike | BinaryIO | Image.Image | np.ndarray


class DigitImageError(ValueError):
    """Base class for every problem with an input picture; the message names the file."""


class ImageNotFoundError(DigitImageError):
    """The path does not exist (or is a folder)."""


class NotAnImageError(DigitImageError):
    """The file is not an image Pillow can read."""


class TruncatedImageError(DigitImageError):
    """The file starts like an image but is cut short or damaged."""


class UnreadableImageError(DigitImageError):
    """The file may be fine, but cannot be read here: no permission, a link loop, a pipe."""


class ImageTooLargeError(DigitImageError):
    """The image has more than ``MAX_PIXELS`` pixels (or is a decompression bomb)."""


class BlankImageError(DigitImageError):
    """No ink: the picture is (almost) uniform, so there is no digit to find."""


# ------------------------------------------------------------------------------ loading


def source_name(source: ImageSource) -> str:
    """Return a short name for ``source`` to use in messages: its path, or a placeholder."""
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    if isinstance(source, Image.Image):
        return getattr(source, "filename", "") or "<image>"
    if isinstance(source, np.ndarray):
        return "<array>"
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else "<file object>"


def _check_size(width: int, height: int, name: str, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"{name}: {width}x{height} is {width * height / 1e6:.1f} megapixels, more than "
            f"the limit of {max_pixels / 1e6:g} megapixels; shrink the picture first"
        )


def _array_to_image(array: np.ndarray) -> Image.Image:
    """Wrap a uint8 (0..255) or float (0..1) array of shape (h, w), (h, w, 1|3|4)."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise DigitImageError(
            f"<array>: expected shape (height, width) or (height, width, 3 or 4), got {array.shape}"
        )
    if array.dtype != np.uint8 and not np.all(np.isfinite(array)):
        raise NotAnImageError("<array>: holds NaN or infinite values, not pixels")
    return Image.fromarray(array if array.dtype == np.uint8 else to_uint8(array))


def _check_regular_file(path: Path, name: str) -> None:
    """Raise the error that names why ``path`` is not a regular file that can be read.

    Only regular files are opened: a named pipe or a device could block for ever.
    """
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        if path.is_symlink():
            raise ImageNotFoundError(f"{name}: a symbolic link to a missing file") from exc
        raise ImageNotFoundError(f"{name}: no such file") from exc
    except PermissionError as exc:
        raise UnreadableImageError(f"{name}: permission denied (a folder on its path)") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnreadableImageError(f"{name}: a loop of symbolic links") from exc
        raise UnreadableImageError(f"{name}: cannot be read ({exc.strerror})") from exc
    if stat.S_ISDIR(info.st_mode):
        raise ImageNotFoundError(f"{name}: is a folder, not an image file")
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableImageError(f"{name}: not a regular file (a pipe, socket or device)")


def load_image(source: ImageSource, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open ``source`` (a path, a binary file, a PIL image or an array) as a loaded PIL image.

    Arrays are uint8 in 0..255 or floats in 0..1. Animated GIFs give their first frame;
    a phone's EXIF orientation is applied. The size is checked from the header, before
    any pixel is decoded, so a decompression bomb costs nothing.

    Raises ``ImageNotFoundError``, ``NotAnImageError``, ``TruncatedImageError`` or
    ``ImageTooLargeError`` (all ``DigitImageError``, a ``ValueError``), naming the file.
    """
    name = source_name(source)
    if isinstance(source, np.ndarray):
        source = _array_to_image(source)
    if isinstance(source, Image.Image):
        _check_size(source.width, source.height, name, max_pixels)
        try:
            return source.copy()  # loads the pixels of a lazily opened image
        except (OSError, SyntaxError, EOFError, ValueError) as exc:
            raise TruncatedImageError(f"{name}: the file is truncated or damaged ({exc})") from exc
    if isinstance(source, str | os.PathLike):
        _check_regular_file(Path(source), name)
    with warnings.catch_warnings():
        # Pillow warns above Image.MAX_IMAGE_PIXELS and raises above twice that; either
        # way the answer is our own clear error, whatever that global is set to.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            opened = Image.open(source)
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise ImageNotFoundError(f"{name}: no such file") from exc
        except IsADirectoryError as exc:
            raise ImageNotFoundError(f"{name}: is a folder, not an image file") from exc
        except UnidentifiedImageError as exc:
            raise NotAnImageError(
                f"{name}: not an image Pillow can read (expected PNG, JPEG, BMP, GIF, ...)"
            ) from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageTooLargeError(
                f"{name}: too many pixels, refused as a possible decompression bomb ({exc}); "
                "shrink the picture first"
            ) from exc
        except PermissionError as exc:
            raise UnreadableImageError(
                f"{name}: permission denied; the file may be fine, but this user cannot read it"
            ) from exc
        except (OSError, SyntaxError, EOFError, ValueError) as exc:
            raise TruncatedImageError(f"{name}: the file is truncated or damaged ({exc})") from exc
    with opened:
        _check_size(opened.width, opened.height, name, max_pixels)
        try:
            opened.load()
        except (OSError, SyntaxError, EOFError, ValueError) as exc:
            raise TruncatedImageError(f"{name}: the file is truncated or damaged ({exc})") from exc
        return ImageOps.exif_transpose(opened)


# -------------------------------------------------------------------------- conversions

_HIGH_DEPTH_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


def to_luminance(image: Image.Image) -> Image.Image:
    """Return ``image`` with one channel: mode ``"L"`` (0..255), or ``"F"`` in [0, 1].

    16-bit and float scans become ``"F"``, scaled by their range rather than clipped.
    Transparent pixels are composited onto white first, because they are paper.
    """
    if image.mode in _HIGH_DEPTH_MODES:
        values = np.asarray(image, dtype=np.float32)
        peak = 1.0 if image.mode == "F" and values.max() <= 1 else 255.0
        if values.max() > 255:
            peak = 65535.0
        return Image.fromarray(np.clip(values / peak, 0, 1).astype(np.float32), mode="F")
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
    return image.convert("L")


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Return a [0, 1] float image as uint8 0..255, like the arrays of ``load_mnist``."""
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


# ------------------------------------------------------------- the steps, from notebook 12


# >>> notebooks/12_your_own_digit.ipynb (generated: python -m helpers.maintainer.lessons)
MNIST_SIZE = 28  # pixels per side of an MNIST image
BOX_SIZE = 20  # the digit is fitted in a box this size, aspect ratio kept
MNIST_CENTRE = (14.0, 14.0)  # where its centre of mass goes, as (row, column)


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


def crop_to_ink(image: np.ndarray) -> np.ndarray:
    """Return the smallest rectangle of ``image`` holding every pixel above 0 (the ink).

    Raises ``BlankImageError`` if no pixel is above 0.
    """
    rows = np.flatnonzero(image.max(axis=1) > 0)
    cols = np.flatnonzero(image.max(axis=0) > 0)
    if rows.size == 0:
        raise BlankImageError("no ink found: every pixel is 0 after removing the paper")
    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].copy()


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


# <<< notebooks/12_your_own_digit.ipynb


# ------------------------------------------------------------------ photos from MNIST


def make_photo_jpeg(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """Return an MNIST digit redrawn as a phone-style photo: the bytes of its JPEG file.

    Dark ink on light, slightly tinted paper with a lighting gradient, uneven shading and
    noise; the digit at a random size and off-centre position on a portrait picture of
    240-400 x 300-480 pixels; slightly blurred, then saved as a JPEG of random quality, as
    a phone stores it (tens of kilobytes, where the decoded pixels take hundreds).
    ``digit`` is 28x28 (or 28x28x1), uint8 0..255 or float 0..1, white on black.

    Raises ``ValueError`` if ``digit`` is not 28x28.
    """
    digit = np.asarray(digit)
    if digit.shape not in ((28, 28), (28, 28, 1)):
        raise ValueError(f"expected a 28x28 grayscale digit, got shape {digit.shape}")
    ink_alpha = digit.reshape(28, 28).astype(np.float32)
    if digit.dtype == np.uint8 or ink_alpha.max() > 1:
        ink_alpha = ink_alpha / 255.0

    width, height = int(rng.integers(240, 401)), int(rng.integers(300, 481))
    side = int(rng.integers(int(0.35 * width), int(0.8 * width) + 1))
    tile = Image.fromarray(ink_alpha, mode="F").resize((side, side), Image.Resampling.BICUBIC)
    alpha = np.zeros((height, width), dtype=np.float32)
    top, left = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
    alpha[top : top + side, left : left + side] = np.clip(np.asarray(tile), 0, 1)

    paper = paper_texture(height, width, rng)
    tint = np.array([1.0, rng.uniform(0.96, 1.0), rng.uniform(0.88, 0.98)], dtype=np.float32)
    ink = rng.uniform(0.05, 0.25) * np.array([1.0, 1.0, rng.uniform(1.0, 1.8)], dtype=np.float32)
    rgb = paper[..., None] * tint * (1 - alpha[..., None]) + ink * alpha[..., None]
    rgb += rng.normal(0, rng.uniform(0.005, 0.02), size=rgb.shape).astype(np.float32)
    photo = Image.fromarray(to_uint8(rgb))
    photo = photo.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 1.2))))
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=int(rng.integers(60, 91)))
    return buffer.getvalue()


def make_photo_like(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Return ``make_photo_jpeg(digit, rng)`` decoded: an RGB PIL image of the photo."""
    with Image.open(io.BytesIO(make_photo_jpeg(digit, rng))) as photo:
        photo.load()
        return photo.copy()


def paper_texture(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Return a (height, width) float32 array of paper brightness in about 0.6..1.

    A random base level, a linear lighting gradient in a random direction and a smooth,
    low-frequency unevenness; no pixel noise.
    """
    base = rng.uniform(0.78, 0.95)
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = (np.cos(angle) * xs / width + np.sin(angle) * ys / height) - 0.5
    coarse = rng.normal(0, 1, size=(4, 3)).astype(np.float32)
    uneven = np.asarray(
        Image.fromarray(coarse, mode="F").resize((width, height), Image.Resampling.BICUBIC)
    )
    paper = base + rng.uniform(0.05, 0.2) * ramp + 0.02 * uneven
    return np.clip(paper, 0, 1).astype(np.float32)


def jpeg_round_trip(image: Image.Image, quality: int = 85) -> Image.Image:
    """Return ``image`` after saving it as a JPEG of ``quality`` and reading it back."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as reloaded:
        reloaded.load()
        return reloaded.copy()
