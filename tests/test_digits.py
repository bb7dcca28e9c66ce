"""Tests for helpers.digits: turning a photo of one digit into a 28x28 MNIST-style image."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import data, digits


@pytest.fixture(scope="module")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    """The first 40 MNIST test digits and their labels."""
    _, (x_test, y_test) = data.load_mnist()
    return x_test[:40], y_test[:40]


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


def bar_digit(height: int = 120, width: int = 90, stroke: int = 12) -> np.ndarray:
    """A light page (0.9) with a dark 'L' shape (0.1): a light-background test picture."""
    page = np.full((height, width), 0.9, dtype=np.float32)
    page[20:100, 30 : 30 + stroke] = 0.1
    page[100 - stroke : 100, 30:70] = 0.1
    return page


def on_paper(
    digit: np.ndarray,
    rng: np.random.Generator,
    canvas: tuple[int, int] = (260, 200),
    scale: int = 5,
    offset: tuple[int, int] = (90, 50),
) -> Image.Image:
    """Put an MNIST digit, inverted (dark ink), off-centre on noisy light paper; RGB JPEG."""
    height, width = canvas
    side = 28 * scale
    tile = Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC)
    alpha = np.zeros(canvas, dtype=np.float32)
    alpha[offset[0] : offset[0] + side, offset[1] : offset[1] + side] = np.asarray(tile) / 255
    paper = 0.85 + 0.1 * np.linspace(-1, 1, width)[None, :] + rng.normal(0, 0.02, canvas)
    gray = paper * (1 - alpha) + 0.15 * alpha
    rgb = np.dstack([gray, gray * 0.98, gray * 0.9])
    return digits.jpeg_round_trip(Image.fromarray(digits.to_uint8(rgb)), quality=75)


def save(image: Image.Image, path: Path, **options) -> Path:
    image.save(path, **options)
    return path


# ------------------------------------------------------------------------------ loading


@pytest.mark.parametrize("suffix", ["png", "jpg", "bmp", "gif"])
@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_every_format_and_mode_gives_the_same_digit(tmp_path, mnist_test, suffix, mode):
    x_test, _ = mnist_test
    photo = on_paper(x_test[0], np.random.default_rng(0)).convert(mode)
    if suffix in ("jpg", "bmp") and mode == "RGBA":
        photo = photo.convert("RGB")  # neither format stores transparency
    path = save(photo, tmp_path / f"digit.{suffix}")
    result = digits.to_mnist(path)
    assert result.shape == (28, 28) and result.dtype == np.uint8
    assert correlation(result, x_test[0]) > 0.85


@pytest.mark.parametrize(
    ("mode", "expected"), [("RGB", "L"), ("LA", "L"), ("P", "L"), ("I;16", "F"), ("F", "F")]
)
def test_to_luminance_gives_one_channel(mode, expected):
    assert digits.to_luminance(Image.new(mode, (4, 3))).mode == expected


def test_transparent_pixels_are_paper():
    rgba = np.zeros((60, 40, 4), dtype=np.uint8)  # fully transparent black
    rgba[10:50, 18:22] = (20, 20, 60, 255)  # an opaque dark stroke
    gray = digits.to_grayscale(Image.fromarray(rgba, mode="RGBA"))
    assert gray[0, 0] == pytest.approx(1.0)  # transparent black became white paper
    assert gray[30, 20] < 0.2
    assert digits.has_light_background(gray)


def test_palette_transparency_is_paper(tmp_path):
    image = Image.new("P", (40, 40), 0)
    image.putpalette([0, 0, 0, 30, 30, 30] + [0, 0, 0] * 254)
    image.paste(1, (15, 5, 25, 35))
    path = save(image, tmp_path / "digit.gif", transparency=0)
    gray = digits.to_grayscale(digits.load_image(path))
    assert gray[0, 0] == pytest.approx(1.0)
    assert gray[20, 20] == pytest.approx(30 / 255, abs=0.01)


def test_sixteen_bit_scans_are_not_clipped(tmp_path):
    values = np.full((50, 50), 60000, dtype=np.uint16)
    values[10:40, 20:30] = 6000
    path = save(Image.fromarray(values), tmp_path / "scan16.png")
    gray = digits.to_grayscale(digits.load_image(path))
    assert gray[0, 0] == pytest.approx(60000 / 65535, abs=1e-3)
    assert gray[20, 25] == pytest.approx(6000 / 65535, abs=1e-3)


def test_load_image_accepts_arrays_file_objects_and_pil_images(tmp_path):
    page = bar_digit()
    from_float = digits.load_image(page)
    from_uint8 = digits.load_image(digits.to_uint8(page))
    buffer = io.BytesIO()
    from_uint8.save(buffer, format="PNG")
    buffer.seek(0)
    from_file = digits.load_image(buffer)
    from_pil = digits.load_image(from_file)
    for image in (from_float, from_uint8, from_file, from_pil):
        assert image.size == (90, 120)
        np.testing.assert_array_equal(np.asarray(image), np.asarray(from_uint8))


def test_load_image_rejects_arrays_of_the_wrong_shape():
    with pytest.raises(digits.DigitImageError, match="expected shape"):
        digits.load_image(np.zeros((5, 5, 2), dtype=np.uint8))


def test_exif_orientation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view", as phones write it
    path = save(Image.new("RGB", (120, 80), "white"), tmp_path / "phone.jpg", exif=exif)
    assert digits.load_image(path).size == (80, 120)


def test_first_frame_of_an_animated_gif(tmp_path):
    frames = [Image.new("L", (30, 30), value) for value in (10, 200)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    assert np.asarray(digits.load_image(path).convert("L"))[0, 0] == 10


def test_missing_file_and_folder_are_named(tmp_path):
    with pytest.raises(digits.ImageNotFoundError, match="nope.png: no such file"):
        digits.load_image(tmp_path / "nope.png")
    with pytest.raises(digits.ImageNotFoundError, match=f"{tmp_path}: is a folder"):
        digits.load_image(tmp_path)


def test_not_an_image_is_named(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is text, not a picture\n")
    with pytest.raises(digits.NotAnImageError, match="notes.png: not an image"):
        digits.load_image(path)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "GIF"])
def test_truncated_files_are_named(tmp_path, fmt):
    noise = np.random.default_rng(0).integers(0, 256, (120, 160), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format=fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(digits.TruncatedImageError, match=f"cut.{fmt.lower()}: .*truncated"):
        digits.load_image(path)
    assert issubclass(digits.TruncatedImageError, ValueError)


def test_too_many_pixels_is_refused_before_decoding(tmp_path):
    path = save(Image.new("1", (8000, 6000), 1), tmp_path / "huge.png")  # 48 MP, a few KB
    with pytest.raises(digits.ImageTooLargeError, match="huge.png: 8000x6000 is 48.0 mega"):
        digits.load_image(path)
    with pytest.raises(digits.ImageTooLargeError, match="limit of 0.0001 megapixels"):
        digits.load_image(Image.new("L", (20, 10)), max_pixels=100)


@pytest.mark.parametrize("pillow_limit", [1_000, 4_000])  # error, then warning, in Pillow
def test_decompression_bomb_gives_our_error(tmp_path, monkeypatch, pillow_limit):
    path = save(Image.new("L", (60, 100), 255), tmp_path / "bomb.png")  # 6,000 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pillow_limit)
    with pytest.raises(digits.ImageTooLargeError, match="bomb.png: too many pixels"):
        digits.load_image(path)


# -------------------------------------------------------------------------------- steps


def test_to_grayscale_range_and_shrinking():
    rgb = np.zeros((3000, 1200, 3), dtype=np.uint8)
    rgb[:, 600:] = 255
    gray = digits.to_grayscale(Image.fromarray(rgb))
    assert gray.dtype == np.float32
    assert gray.shape == (digits.WORKING_SIDE, round(1200 * digits.WORKING_SIDE / 3000))
    assert gray.min() == 0.0 and gray.max() == 1.0
    small = digits.to_grayscale(Image.new("L", (28, 28), 128))
    assert small.shape == (28, 28) and small[0, 0] == pytest.approx(128 / 255)


def test_light_background_detected(mnist_test):
    x_test, _ = mnist_test
    mnist = x_test[0] / 255
    assert not digits.has_light_background(mnist)  # MNIST: white ink on black
    assert digits.has_light_background(1 - mnist)  # dark ink on light paper
    assert digits.has_light_background(bar_digit())
    assert not digits.has_light_background(1 - bar_digit())


def test_light_background_with_little_ink_and_a_gradient():
    page = np.linspace(0.55, 0.95, 400)[:, None] * np.ones((400, 300), dtype=np.float32)
    page[150:250, 200:203] = 0.1  # a thin short stroke: 0.25% of the pixels
    assert digits.has_light_background(page)
    assert not digits.has_light_background(1 - page)


def test_to_white_on_black_inverts_only_light_pages():
    page = bar_digit()
    inverted = digits.to_white_on_black(page)
    np.testing.assert_allclose(inverted, 1 - page)
    np.testing.assert_array_equal(digits.to_white_on_black(inverted), inverted)


def test_subtract_background_removes_a_lighting_gradient():
    ys, xs = np.mgrid[0:300, 0:400]
    image = (0.05 + 0.3 * xs / 400 + 0.1 * ys / 300).astype(np.float32)  # shadowed paper
    image[100:200, 150:160] += 0.6  # a stroke
    flat = digits.subtract_background(image)
    paper = np.ones_like(image, dtype=bool)
    paper[90:210, 140:170] = False
    assert np.abs(flat[paper]).max() < 0.05
    assert flat[100:200, 150:160].mean() > 0.55
    assert flat.min() >= 0


def test_subtract_background_small_images_use_one_level():
    image = np.full((28, 28), 0.2, dtype=np.float32)
    image[5:20, 10:14] = 0.9
    flat = digits.subtract_background(image)
    np.testing.assert_allclose(flat[0], 0, atol=1e-6)
    np.testing.assert_allclose(flat[10, 12], 0.7, atol=1e-6)


def test_otsu_threshold_separates_two_levels():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0.1, 0.02, 900), rng.normal(0.8, 0.02, 100)])
    assert 0.2 < digits.otsu_threshold(values) < 0.7
    assert digits.otsu_threshold(np.full(10, 0.3)) == pytest.approx(0.3)


def test_normalise_contrast_zeroes_paper_and_saturates_ink():
    rng = np.random.default_rng(0)
    image = np.abs(rng.normal(0, 0.03, (200, 200))).astype(np.float32)  # paper noise
    image[50:150, 90:110] = 0.5 + rng.normal(0, 0.02, (100, 20))  # grey-ish ink
    result = digits.normalise_contrast(image)
    assert result.min() == 0 and result.max() == 1
    assert (result[:, :80] == 0).all()  # no paper noise survives
    assert np.median(result[50:150, 90:110]) > 0.9


@pytest.mark.parametrize("noise", [0.0, 0.03])
def test_normalise_contrast_refuses_blank_pages(noise):
    page = np.abs(np.random.default_rng(1).normal(0, noise, (100, 80))).astype(np.float32)
    with pytest.raises(digits.BlankImageError, match="no ink found"):
        digits.normalise_contrast(page)


def test_crop_to_ink():
    image = np.zeros((50, 40), dtype=np.float32)
    image[10:30, 5:8] = 1
    image[29, 20] = 0.3
    cropped = digits.crop_to_ink(image)
    assert cropped.shape == (20, 16)
    assert cropped[0, 0] == 1 and cropped[-1, -1] == pytest.approx(0.3)
    with pytest.raises(digits.BlankImageError):
        digits.crop_to_ink(np.zeros((5, 5)))


def test_stroke_width_of_a_bar():
    image = np.zeros((100, 100), dtype=np.float32)
    image[:, 45:55] = 1  # a 10-pixel-wide stroke, 100 long
    assert digits.stroke_width(image) == pytest.approx(10 / 100, rel=0.15)
    assert digits.stroke_width(np.zeros((4, 4))) == 0.0


def test_dilate_grows_by_half_the_size_on_each_side():
    image = np.zeros((5, 5), dtype=np.float32)
    image[2, 2] = 1
    grown = digits.dilate(image, 3)
    assert grown.shape == (7, 7)
    assert grown.sum() == 9 and grown[2:5, 2:5].min() == 1


def test_thicken_strokes_widens_thin_strokes_only():
    thin = np.zeros((200, 60), dtype=np.float32)
    thin[:, 28:31] = 1  # 3 pixels wide: 0.015 of the height
    thick = digits.thicken_strokes(thin)
    assert digits.stroke_width(thick) >= digits.MIN_STROKE_WIDTH * 0.9
    assert thick.shape[0] == pytest.approx(200, abs=20)
    bold = np.zeros((100, 40), dtype=np.float32)
    bold[:, 10:25] = 1
    np.testing.assert_array_equal(digits.thicken_strokes(bold), bold)


@pytest.mark.parametrize(
    ("shape", "expected"), [((100, 40), (20, 8)), ((30, 90), (7, 20)), ((5, 5), (20, 20))]
)
def test_fit_in_box_keeps_the_aspect_ratio(shape, expected):
    image = np.random.default_rng(0).uniform(0.2, 0.8, shape).astype(np.float32)
    fitted = digits.fit_in_box(image)
    assert fitted.shape == expected
    assert fitted.max() == pytest.approx(1.0)
    assert fitted.min() >= 0


def test_centre_of_mass():
    image = np.zeros((10, 10))
    image[2, 3] = 1
    image[6, 7] = 3
    assert digits.centre_of_mass(image) == pytest.approx((5.0, 6.0))
    with pytest.raises(digits.BlankImageError):
        digits.centre_of_mass(np.zeros((3, 3)))


@pytest.mark.parametrize("seed", range(5))
def test_centre_by_mass_puts_the_mass_at_the_centre(seed):
    rng = np.random.default_rng(seed)
    shape = (20, int(rng.integers(6, 21)))
    image = rng.uniform(0, 1, shape).astype(np.float32) ** 4  # lopsided mass
    padded = digits.centre_by_mass(image)
    assert padded.shape == (28, 28)
    assert padded.sum() == pytest.approx(image.sum())
    row, col = digits.centre_of_mass(padded)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5


def test_centre_by_mass_never_cuts_ink_off():
    image = np.zeros((20, 20), dtype=np.float32)
    image[0, 0] = 1  # all the mass in a corner: a full shift would push the box out
    image[19, 19] = 0.01
    padded = digits.centre_by_mass(image)
    assert padded.sum() == pytest.approx(image.sum())
    with pytest.raises(ValueError, match="does not fit"):
        digits.centre_by_mass(np.ones((30, 10)))


def test_to_uint8_rounds_and_clips():
    result = digits.to_uint8(np.array([-0.5, 0, 0.5, 1, 2]))
    np.testing.assert_array_equal(result, [0, 0, 128, 255, 255])
    assert result.dtype == np.uint8


# ----------------------------------------------------------------------------- pipeline


def test_preprocess_steps_names_and_shapes(mnist_test):
    x_test, _ = mnist_test
    steps = digits.preprocess_steps(on_paper(x_test[0], np.random.default_rng(0)))
    assert list(steps) == [
        "original",
        "grayscale",
        "white_on_black",
        "background_removed",
        "contrast",
        "cropped",
        "thickened",
        "resized",
        "centred",
        "mnist",
    ]
    assert steps["original"].shape == (260, 200, 4)
    assert steps["grayscale"].shape == (260, 200)
    assert max(steps["resized"].shape) == digits.BOX_SIZE
    assert steps["mnist"].shape == (28, 28) and steps["mnist"].dtype == np.uint8
    np.testing.assert_array_equal(steps["mnist"], digits.to_uint8(steps["centred"]))


def test_blank_picture_error_names_the_file(tmp_path):
    path = save(Image.new("RGB", (300, 400), (230, 228, 220)), tmp_path / "blank.jpg")
    with pytest.raises(digits.BlankImageError, match="blank.jpg: no ink found"):
        digits.to_mnist(path)


def test_round_trip_on_paper_gives_back_the_mnist_digit(mnist_test):
    x_test, _ = mnist_test
    rng = np.random.default_rng(0)
    scores = []
    for index, digit in enumerate(x_test[:20]):
        scale = 4 + index % 3
        room = (260 - 28 * scale, 200 - 28 * scale)
        offset = (int(rng.integers(0, room[0] + 1)), int(rng.integers(0, room[1] + 1)))
        photo = on_paper(digit, rng, scale=scale, offset=offset)
        result = digits.to_mnist(photo)
        row, col = digits.centre_of_mass(result.astype(float))
        assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5
        scores.append(correlation(result, digit))
    assert np.median(scores) > 0.9
    assert min(scores) > 0.7


# ----------------------------------------------------------------------- photo-like


def test_make_photo_like_looks_like_a_photo(mnist_test):
    x_test, _ = mnist_test
    photo = digits.make_photo_like(x_test[0], np.random.default_rng(0))
    assert isinstance(photo, Image.Image) and photo.mode == "RGB"
    assert 240 <= photo.width <= 400 and 300 <= photo.height <= 480
    gray = digits.to_grayscale(photo)
    assert digits.has_light_background(gray)
    assert np.percentile(gray, 50) > 0.6  # mostly paper
    assert gray.min() < 0.35  # with dark ink


def test_make_photo_like_is_reproducible_and_varied(mnist_test):
    x_test, _ = mnist_test
    first = digits.make_photo_like(x_test[0], np.random.default_rng(7))
    again = digits.make_photo_like(x_test[0], np.random.default_rng(7))
    other = digits.make_photo_like(x_test[0], np.random.default_rng(8))
    np.testing.assert_array_equal(np.asarray(first), np.asarray(again))
    assert first.size != other.size or not np.array_equal(np.asarray(first), np.asarray(other))


def test_make_photo_jpeg_is_the_file_that_make_photo_like_decodes(mnist_test):
    x_test, _ = mnist_test
    jpeg = digits.make_photo_jpeg(x_test[0], np.random.default_rng(7))
    with Image.open(io.BytesIO(jpeg)) as photo:
        assert photo.format == "JPEG" and photo.mode == "RGB"
        decoded = np.asarray(photo)
    np.testing.assert_array_equal(
        decoded, np.asarray(digits.make_photo_like(x_test[0], np.random.default_rng(7)))
    )
    assert len(jpeg) < decoded.nbytes / 10  # the file is far smaller than its pixels


def test_make_photo_like_accepts_floats_and_refuses_other_shapes(mnist_test):
    x_test, _ = mnist_test
    as_float = (x_test[0] / 255).astype(np.float32)[..., None]
    photo = digits.make_photo_like(as_float, np.random.default_rng(0))
    assert correlation(digits.to_mnist(photo), x_test[0]) > 0.8
    with pytest.raises(ValueError, match="expected a 28x28 grayscale digit"):
        digits.make_photo_like(np.zeros((32, 32)), np.random.default_rng(0))


def test_make_photo_like_round_trip(mnist_test):
    x_test, _ = mnist_test
    rng = np.random.default_rng(0)
    scores = [correlation(digits.to_mnist(digits.make_photo_like(d, rng)), d) for d in x_test]
    assert np.median(scores) > 0.9
    assert min(scores) > 0.5
