"""Draw the course's sample "phone photos" of handwritten digits: images/samples/digit_N.*

We have no camera, so each digit is drawn as a few smooth pen strokes (Catmull-Rom curves
through jittered control points, with a pen whose width changes along the stroke), in
dark ink on light, unevenly lit, noisy paper, off-centre and slanted. These are not MNIST
digits: they test the preprocessing of ``helpers.digits`` on pictures it has never seen.

    python -m helpers.maintainer.make_sample_images            # writes images/samples/
    python -m helpers.maintainer.make_sample_images --out DIR

The same seed gives the same pictures. Formats: RGB JPEG, except ``digit_3.png`` (ink on
a transparent background, like a drawing app's export) and ``digit_8.jpg`` (a grayscale
scan).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from helpers import config, digits

SEED = 2024
SUPERSAMPLE = 3  # strokes are drawn this many times larger, then shrunk, for smooth edges
SAMPLES_DIR = config.REPO_ROOT / "images" / "samples"
TRANSPARENT_DIGIT = 3
GRAYSCALE_DIGIT = 8

Point = tuple[float, float]

# Control points (x right, y down, in a unit box) of each stroke of each digit. A sharp
# corner (the top of a 1, the corners of a 4) is where one stroke ends and the next starts.
STROKES: dict[int, list[list[Point]]] = {
    0: [
        [(0.55, 0.04), (0.25, 0.15), (0.15, 0.5), (0.28, 0.88), (0.55, 0.97), (0.8, 0.8)]
        + [(0.86, 0.45), (0.75, 0.12), (0.5, 0.05), (0.4, 0.1)]
    ],
    1: [[(0.32, 0.24), (0.45, 0.14), (0.58, 0.03)], [(0.58, 0.03), (0.56, 0.5), (0.55, 0.97)]],
    2: [
        [(0.18, 0.26), (0.35, 0.07), (0.62, 0.05), (0.8, 0.22), (0.74, 0.45), (0.48, 0.68)]
        + [(0.18, 0.95)],
        [(0.18, 0.95), (0.5, 0.92), (0.88, 0.94)],
    ],
    3: [
        [(0.2, 0.14), (0.45, 0.03), (0.74, 0.1), (0.76, 0.3), (0.45, 0.47)],
        [(0.45, 0.47), (0.78, 0.58), (0.82, 0.82), (0.52, 0.97), (0.16, 0.86)],
    ],
    4: [
        [(0.62, 0.04), (0.38, 0.35), (0.12, 0.66)],
        [(0.12, 0.66), (0.5, 0.66), (0.9, 0.64)],
        [(0.68, 0.3), (0.67, 0.65), (0.66, 0.98)],
    ],
    5: [
        [(0.8, 0.05), (0.55, 0.06), (0.3, 0.05)],
        [(0.3, 0.05), (0.28, 0.25), (0.25, 0.46)],
        [(0.25, 0.46), (0.5, 0.37), (0.77, 0.5), (0.8, 0.76), (0.55, 0.96), (0.18, 0.88)],
    ],
    6: [
        [(0.72, 0.04), (0.45, 0.2), (0.24, 0.5), (0.24, 0.8), (0.45, 0.96), (0.72, 0.86)]
        + [(0.76, 0.62), (0.52, 0.5), (0.26, 0.64)]
    ],
    7: [
        [(0.12, 0.07), (0.5, 0.06), (0.88, 0.07)],
        [(0.88, 0.07), (0.62, 0.5), (0.42, 0.97)],
    ],
    8: [
        [(0.55, 0.47), (0.26, 0.3), (0.34, 0.06), (0.66, 0.06), (0.74, 0.28), (0.46, 0.5)]
        + [(0.2, 0.74), (0.38, 0.96), (0.7, 0.93), (0.78, 0.7), (0.55, 0.47)]
    ],
    9: [
        [(0.74, 0.2), (0.5, 0.04), (0.24, 0.18), (0.27, 0.42), (0.52, 0.5), (0.74, 0.34)]
        + [(0.74, 0.2)],
        [(0.74, 0.2), (0.72, 0.6), (0.64, 0.97)],
    ],
}


def catmull_rom(points: Sequence[Point], steps: int = 24) -> np.ndarray:
    """Return an (n, 2) array of points on the smooth curve through ``points``.

    A uniform Catmull-Rom spline: it passes through every control point;
    the end points are repeated so the curve starts and stops on them.
    """
    p = np.asarray(points, dtype=np.float64)
    if len(p) < 2:
        raise ValueError(f"a stroke needs at least 2 points, got {len(p)}")
    p = np.vstack([p[0], p, p[-1]])
    t = np.linspace(0, 1, steps, endpoint=False)[:, None]
    pieces = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        pieces.append(
            0.5
            * (
                2 * p1
                + (p2 - p0) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                + (3 * p1 - p0 - 3 * p2 + p3) * t**3
            )
        )
    pieces.append(p[-2][None, :])
    return np.vstack(pieces)


def draw_strokes(
    strokes: Sequence[Sequence[Point]],
    size: tuple[int, int],
    box: tuple[float, float, float, float],
    pen_width: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Return a (height, width) float32 ink mask in [0, 1] with ``strokes`` drawn in ``box``.

    ``box`` is (left, top, width, height) in pixels; control points are jittered, the
    digit slanted, and the pen's width varies smoothly along each stroke and tapers at
    its ends; the result is slightly blurred, like a camera out of focus. ``pen_width`` is
    the widest line, in pixels.
    """
    width, height = size
    left, top, box_width, box_height = box
    slant = rng.uniform(-0.25, 0.1)  # x shift per unit of height: most people lean right
    canvas = Image.new("L", (width * SUPERSAMPLE, height * SUPERSAMPLE), 0)
    pen = ImageDraw.Draw(canvas)
    for stroke in strokes:
        jittered = np.asarray(stroke) + rng.normal(0, 0.025, size=(len(stroke), 2))
        curve = catmull_rom([tuple(point) for point in jittered])
        # resample at even spacing so the pen's dabs overlap the same everywhere
        xs = left + (curve[:, 0] + slant * (0.5 - curve[:, 1])) * box_width
        ys = top + curve[:, 1] * box_height
        lengths = np.concatenate([[0], np.cumsum(np.hypot(np.diff(xs), np.diff(ys)))])
        spacing = max(pen_width / 6, 0.3)
        at = np.linspace(0, lengths[-1], max(2, int(lengths[-1] / spacing)))
        xs, ys = np.interp(at, lengths, xs), np.interp(at, lengths, ys)
        pressure = smooth_noise(len(at), rng)
        taper = np.minimum(1, np.minimum(at, lengths[-1] - at) / (2 * pen_width) + 0.5)
        radii = 0.5 * pen_width * (0.7 + 0.3 * pressure) * taper * SUPERSAMPLE
        for x, y, r in zip(xs * SUPERSAMPLE, ys * SUPERSAMPLE, radii, strict=True):
            pen.ellipse((x - r, y - r, x + r, y + r), fill=255)
    mask = canvas.resize(size, Image.Resampling.BOX)
    mask = mask.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.0)))  # camera focus
    return np.asarray(mask, dtype=np.float32) / 255.0


def smooth_noise(n: int, rng: np.random.Generator, knots: int = 5) -> np.ndarray:
    """Return ``n`` values in [0, 1] that wander smoothly (interpolated random knots)."""
    values = rng.uniform(0, 1, size=knots)
    return np.interp(np.linspace(0, knots - 1, n), np.arange(knots), values)


def sample_photo(digit: int, seed: int = SEED) -> Image.Image:
    """Return the sample picture of ``digit`` (0-9): an RGB image, or RGBA / L for 3 and 8.

    Raises ``ValueError`` if ``digit`` is not 0-9.
    """
    if digit not in STROKES:
        raise ValueError(f"digit must be 0-9, got {digit!r}")
    rng = np.random.default_rng([seed, digit])
    width, height = (300, 400) if rng.uniform() < 0.7 else (400, 300)
    box_height = rng.uniform(0.35, 0.7) * height
    box_width = box_height * rng.uniform(0.5, 0.75)
    left = rng.uniform(0.08 * width, 0.92 * width - box_width)
    top = rng.uniform(0.06 * height, 0.94 * height - box_height)
    pen_width = rng.uniform(0.035, 0.11) * box_height
    box = (left, top, box_width, box_height)
    ink = draw_strokes(STROKES[digit], (width, height), box, pen_width, rng)
    ink_colour = np.array(
        [rng.uniform(0.05, 0.2), rng.uniform(0.05, 0.2), rng.uniform(0.15, 0.45)], np.float32
    )
    if digit == TRANSPARENT_DIGIT:
        rgba = np.dstack([np.broadcast_to(ink_colour, (*ink.shape, 3)), ink])
        return Image.fromarray(digits.to_uint8(rgba), mode="RGBA")
    paper = digits.paper_texture(height, width, rng)
    tint = np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.86, 0.97)], np.float32)
    alpha = (ink * rng.uniform(0.85, 1.0))[..., None]
    rgb = paper[..., None] * tint * (1 - alpha) + ink_colour * alpha
    rgb += rng.normal(0, 0.012, size=rgb.shape).astype(np.float32)
    photo = Image.fromarray(digits.to_uint8(rgb), mode="RGB")
    return photo.convert("L") if digit == GRAYSCALE_DIGIT else photo


def sample_file_name(digit: int) -> str:
    """Return the file name of ``digit``'s sample: ``digit_N.jpg``, or ``.png`` if transparent."""
    return f"digit_{digit}.png" if digit == TRANSPARENT_DIGIT else f"digit_{digit}.jpg"


def write_samples(out_dir: Path = SAMPLES_DIR, seed: int = SEED) -> list[Path]:
    """Write the ten sample pictures into ``out_dir`` (created if needed); return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for digit in sorted(STROKES):
        path = out_dir / sample_file_name(digit)
        photo = sample_photo(digit, seed=seed)
        if path.suffix == ".png":
            photo.save(path, optimize=True)
        else:
            photo.save(path, quality=85, optimize=True)
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Write the samples and print each file with its size; return 0."""
    parser = argparse.ArgumentParser(prog="python -m helpers.maintainer.make_sample_images")
    parser.add_argument("--out", type=Path, default=SAMPLES_DIR, help="folder to write into")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed (default %(default)s)")
    args = parser.parse_args(argv)
    for path in write_samples(args.out, args.seed):
        print(f"{path}: {path.stat().st_size / 1024:.1f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
