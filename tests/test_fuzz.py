"""Fuzzing: whatever bytes arrive, only the course's own errors come out.

The image reader gets random bytes and mutated PNG, JPEG and GIF files; the model loader
gets mutated ``.keras`` archives. Anything but ``DigitImageError`` (images) or
``ModelFileError`` (models) escaping is a bug. Hypothesis runs a fixed number of examples,
derandomised, so ``make test`` takes the same bounded time every run.
"""

from __future__ import annotations

import io
import zipfile

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from helpers import digits, predict

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def sample_files() -> dict[str, bytes]:
    """A small digit saved as PNG, JPEG and GIF."""
    rng = np.random.default_rng(0)
    pixels = (rng.random((40, 30)) * 255).astype(np.uint8)
    files = {}
    for fmt in ("PNG", "JPEG", "GIF"):
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format=fmt)
        files[fmt] = buffer.getvalue()
    return files


SAMPLES = sample_files()


def mutated(blob: bytes) -> st.SearchStrategy[bytes]:
    """Bytes of ``blob`` with some overwritten, some cut off, or some inserted."""
    size = len(blob)
    flips = st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, 255)), max_size=12)
    return st.one_of(
        flips.map(lambda edits: _overwrite(blob, edits)),
        st.integers(0, size).map(lambda n: blob[:n]),
        st.tuples(st.integers(0, size), st.binary(max_size=64)).map(
            lambda cut: blob[: cut[0]] + cut[1] + blob[cut[0] :]
        ),
    )


def _overwrite(blob: bytes, edits: list[tuple[int, int]]) -> bytes:
    data = bytearray(blob)
    for index, value in edits:
        data[index] = value
    return bytes(data)


def read_digit(blob: bytes) -> None:
    try:
        digits.to_mnist(io.BytesIO(blob))
    except digits.DigitImageError:
        pass  # the course's own error: what bad input must give


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_give_only_digit_image_errors(blob):
    read_digit(blob)


@FUZZ
@given(st.sampled_from(sorted(SAMPLES)).flatmap(lambda fmt: mutated(SAMPLES[fmt])))
def test_mutated_png_jpeg_and_gif_give_only_digit_image_errors(blob):
    read_digit(blob)


@pytest.fixture(scope="module")
def keras_archive(tmp_path_factory) -> bytes:
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")]
    )
    path = tmp_path_factory.mktemp("model") / "m.keras"
    model.save(path)
    return path.read_bytes()


def archive_members(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_mutated_keras_archives_give_only_model_file_errors(data, keras_archive, tmp_path):
    members = archive_members(keras_archive)
    if data.draw(st.booleans(), label="mutate a member, else the archive's bytes"):
        name = data.draw(st.sampled_from(sorted(members)), label="member")
        members[name] = data.draw(mutated(members[name]), label="new bytes")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for member, content in members.items():
                archive.writestr(member, content)
        blob = buffer.getvalue()
    else:
        blob = data.draw(mutated(keras_archive), label="archive bytes")
    path = tmp_path / "fuzzed.keras"
    path.write_bytes(blob)
    try:
        predict.load_model(path)
    except predict.ModelFileError:
        pass
