"""Tests for helpers.maintainer.make_sample_images and the sample pictures it wrote to images/samples."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from helpers import digits
from helpers.maintainer import make_sample_images as samples


def test_catmull_rom_passes_through_its_points():
    points = [(0.0, 0.0), (1.0, 0.5), (2.0, 0.0), (3.0, 1.0)]
    curve = samples.catmull_rom(points, steps=10)
    for point in points:
        assert np.hypot(*(curve - point).T).min() < 1e-9
    np.testing.assert_allclose(curve[0], points[0])
    np.testing.assert_allclose(curve[-1], points[-1])
    with pytest.raises(ValueError, match="at least 2 points"):
        samples.catmull_rom([(0.0, 0.0)])


def test_draw_strokes_stays_in_its_box():
    rng = np.random.default_rng(0)
    mask = samples.draw_strokes(samples.STROKES[1], (200, 300), (60, 50, 80, 200), 10, rng)
    assert mask.shape == (300, 200) and 0 <= mask.min() and mask.max() <= 1
    rows = np.flatnonzero(mask.max(axis=1) > 0.5)
    assert 30 <= rows[0] and rows[-1] <= 270  # the box is rows 50-250, plus jitter and pen


def test_sample_photo_formats():
    assert samples.sample_photo(samples.TRANSPARENT_DIGIT).mode == "RGBA"
    assert samples.sample_photo(samples.GRAYSCALE_DIGIT).mode == "L"
    assert samples.sample_photo(7).mode == "RGB"
    with pytest.raises(ValueError, match="digit must be 0-9"):
        samples.sample_photo(10)


def test_committed_samples_are_small_and_as_described():
    for digit in range(10):
        path = samples.SAMPLES_DIR / samples.sample_file_name(digit)
        assert path.exists(), f"{path} missing: run python -m helpers.maintainer.make_sample_images"
        assert path.stat().st_size < 60_000, path.name
        with Image.open(path) as image:
            expected = {samples.TRANSPARENT_DIGIT: "RGBA", samples.GRAYSCALE_DIGIT: "L"}
            assert image.mode == expected.get(digit, "RGB"), path.name
            assert image.format == ("PNG" if digit == samples.TRANSPARENT_DIGIT else "JPEG")
        assert digits.to_mnist(path).shape == (28, 28)


def test_committed_samples_match_the_script(tmp_path):
    """The pictures in the repository are what the script draws (JPEG aside)."""
    [written] = [p for p in samples.write_samples(tmp_path) if p.name == "digit_7.jpg"]
    fresh = np.asarray(Image.open(written), dtype=float)
    committed = np.asarray(Image.open(samples.SAMPLES_DIR / "digit_7.jpg"), dtype=float)
    assert np.abs(fresh - committed).mean() < 1.0
