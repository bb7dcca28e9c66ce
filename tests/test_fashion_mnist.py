"""Tests for helpers.fashion_mnist: the IDX parser, verification, the cache, the sources."""

from __future__ import annotations

import gzip
import hashlib
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from helpers import config, data, fashion_mnist

DEBIAN = fashion_mnist.DEBIAN_FOLDER
needs_debian = pytest.mark.skipif(
    not DEBIAN.is_dir(),
    reason=f"{DEBIAN} is missing: `apt-get install {fashion_mnist.DEBIAN_PACKAGE}` to test it",
)

TINY_SHAPES = {"x_train": (6, 28, 28), "y_train": (6,), "x_test": (2, 28, 28), "y_test": (2,)}


@pytest.fixture
def tiny(monkeypatch) -> data.Arrays:
    """Small stand-in arrays that this module accepts as official (shapes and hashes patched)."""
    rng = np.random.default_rng(0)
    arrays = {
        name: rng.integers(0, 256 if name.startswith("x") else 10, shape, dtype=np.uint8)
        for name, shape in TINY_SHAPES.items()
    }
    monkeypatch.setattr(fashion_mnist, "EXPECTED_SHAPES", TINY_SHAPES)
    monkeypatch.setattr(
        fashion_mnist, "OFFICIAL_SHA256", {k: data.idx_sha256(v) for k, v in arrays.items()}
    )
    return arrays


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv(config.DATA_DIR_ENV, str(folder))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FOLDER", tmp_path / "no-debian-package")
    return folder


def write_idx_folder(folder, arrays, compress=True):
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        raw = data.idx_bytes(array)
        base = fashion_mnist.FILE_NAMES[name]
        if compress:
            (folder / f"{base}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / base).write_bytes(raw)
    return folder


# ------------------------------------------------------------------------ IDX parser


def test_parse_idx_reads_images_and_labels():
    images = np.arange(2 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(2, 28, 28)
    labels = np.array([7, 2, 9], dtype=np.uint8)
    assert np.array_equal(fashion_mnist.parse_idx(data.idx_bytes(images)), images)
    parsed = fashion_mnist.parse_idx(data.idx_bytes(labels))
    assert parsed.dtype == np.uint8 and parsed.shape == (3,) and list(parsed) == [7, 2, 9]
    parsed[0] = 1  # a writable copy, like Keras' arrays after np.array
    assert fashion_mnist.parse_idx(bytes.fromhex("00000801 00000001 05"))[0] == 5


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "too short"),
        (bytes.fromhex("00000803 00000002 0000001c"), "truncated in the header"),
        (data.idx_bytes(np.zeros((2, 28, 28), np.uint8))[:-1], "truncated: the header says"),
        (data.idx_bytes(np.zeros(3, np.uint8)) + b"\0", "1 unexpected bytes"),
        (bytes.fromhex("00000903 00000001 00000001 00000001 00"), "magic number 0x00000903"),
        (bytes.fromhex("01000801 00000001 00"), "magic number"),
        (bytes.fromhex("00000800"), "magic number"),
        (bytes.fromhex("00000801 00000000"), "empty shape"),
        (b"\x1f\x8b\x08\x00" + b"\0" * 20, "magic number"),  # gzip bytes passed uncompressed
    ],
)
def test_parse_idx_rejects_bad_files(raw, message):
    with pytest.raises(fashion_mnist.IdxFormatError, match=message):
        fashion_mnist.parse_idx(raw, name="test.idx")


def test_read_idx_file_handles_gzip_plain_and_damage(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    plain = tmp_path / "labels"
    plain.write_bytes(data.idx_bytes(labels))
    packed = tmp_path / "labels.gz"
    packed.write_bytes(gzip.compress(data.idx_bytes(labels)))
    assert np.array_equal(fashion_mnist.read_idx_file(plain), labels)
    assert np.array_equal(fashion_mnist.read_idx_file(packed), labels)

    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(packed.read_bytes()[:-12])
    with pytest.raises(fashion_mnist.IdxFormatError, match="truncated.gz: not a readable gzip"):
        fashion_mnist.read_idx_file(truncated)
    garbage = tmp_path / "garbage.gz"
    garbage.write_bytes(b"\x1f\x8b" + b"not really gzip")
    with pytest.raises(fashion_mnist.IdxFormatError, match="gzip"):
        fashion_mnist.read_idx_file(garbage)
    short = tmp_path / "short.gz"
    short.write_bytes(gzip.compress(data.idx_bytes(labels)[:-3]))
    with pytest.raises(fashion_mnist.IdxFormatError, match="short.gz: truncated"):
        fashion_mnist.read_idx_file(short)


def test_read_idx_file_refuses_huge_files(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "MAX_IDX_BYTES", 100)
    path = tmp_path / "big.gz"
    path.write_bytes(gzip.compress(data.idx_bytes(np.zeros(200, np.uint8))))
    with pytest.raises(fashion_mnist.IdxFormatError, match="more than 100 bytes"):
        fashion_mnist.read_idx_file(path)


def test_find_idx_file_prefers_gz_and_names_what_is_missing(tmp_path):
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"")
    assert fashion_mnist.find_idx_file(tmp_path, "y_train").name == "train-labels-idx1-ubyte"
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(b"")
    assert fashion_mnist.find_idx_file(tmp_path, "y_train").name == "train-labels-idx1-ubyte.gz"
    with pytest.raises(FileNotFoundError, match="no t10k-images-idx3-ubyte.gz or t10k-images"):
        fashion_mnist.find_idx_file(tmp_path, "x_test")


# ------------------------------------------------------------------- verification


def test_verify_arrays_accepts_official_and_rejects_tampered(tiny):
    assert fashion_mnist.verify_arrays(tiny) == fashion_mnist.OFFICIAL_SHA256
    tampered = {k: v.copy() for k, v in tiny.items()}
    tampered["x_test"][1, 14, 14] ^= 1  # one bit of one pixel
    with pytest.raises(fashion_mnist.FashionMnistVerificationError, match="x_test: SHA-256"):
        fashion_mnist.verify_arrays(tampered)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.pop("y_test"), "y_test: missing"),
        (lambda a: a.update(x_train=a["x_train"].astype(np.int16)), "dtype int16"),
        (lambda a: a.update(y_train=a["y_train"][:-1]), "y_train: shape"),
        (lambda a: a.update(y_train=(a["y_train"] + 1) % 10), "y_train: SHA-256"),
    ],
)
def test_verify_arrays_names_what_differs(tiny, change, message):
    arrays = {k: v.copy() for k, v in tiny.items()}
    change(arrays)
    with pytest.raises(fashion_mnist.FashionMnistVerificationError, match=message):
        fashion_mnist.verify_arrays(arrays)


def test_mnist_is_not_fashion_mnist():
    mnist_cache = config.REPO_ROOT / "data" / data.CACHE_NAME
    if not mnist_cache.exists():
        pytest.skip("data/mnist.npz is missing")
    with pytest.raises(fashion_mnist.FashionMnistVerificationError, match="x_train: SHA-256"):
        fashion_mnist.verify_arrays(data.read_cache(mnist_cache))


# ---------------------------------------------------------------- cache and sources


def test_folder_source_is_read_verified_and_cached(tiny, data_dir):
    write_idx_folder(data_dir / fashion_mnist.BY_HAND_FOLDER, tiny)
    report = fashion_mnist.fetch_fashion_mnist(download=False)
    assert report.source.startswith("files put by hand in")
    assert report.path == data_dir / fashion_mnist.CACHE_NAME
    assert sorted(p.name for p in data_dir.iterdir()) == [
        fashion_mnist.BY_HAND_FOLDER,
        fashion_mnist.CACHE_NAME,
    ]  # no temporary file left behind
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_fashion_mnist(download=False)
    assert np.array_equal(x_train, tiny["x_train"]) and np.array_equal(y_test, tiny["y_test"])
    assert fashion_mnist.fetch_fashion_mnist(download=False).source == "local cache"


def test_uncompressed_files_in_a_folder_work_too(tiny, tmp_path):
    folder = write_idx_folder(tmp_path / "raw", tiny, compress=False)
    arrays = fashion_mnist.arrays_from_idx_folder(folder)
    assert fashion_mnist.verify_arrays(arrays) == fashion_mnist.OFFICIAL_SHA256


def test_tampered_files_are_rejected_and_the_next_source_used(tiny, tmp_path):
    bad = {k: v.copy() for k, v in tiny.items()}
    bad["y_train"][0] = (bad["y_train"][0] + 1) % 10
    sources = [
        ("tampered", fashion_mnist.folder_source(write_idx_folder(tmp_path / "bad", bad))),
        ("good", fashion_mnist.folder_source(write_idx_folder(tmp_path / "good", tiny))),
    ]
    report = fashion_mnist.fetch_fashion_mnist(tmp_path / "cache.npz", sources=sources)
    assert report.source == "good"
    assert ("tampered", "FashionMnistVerificationError") == (
        report.failures[1][0],
        report.failures[1][1].split(":")[0],
    )
    assert "y_train: SHA-256" in report.failures[1][1]


@pytest.mark.parametrize("damage", ["garbage", "tampered", "pickled"])
def test_corrupt_cache_is_reported_and_rebuilt(tiny, tmp_path, damage):
    path = tmp_path / "cache.npz"
    fashion_mnist.write_cache(tiny, path)
    if damage == "garbage":
        path.write_bytes(b"not a zip file")
    elif damage == "tampered":
        arrays = {k: v.copy() for k, v in tiny.items()}
        arrays["x_train"][0, 0, 0] ^= 1
        np.savez(path, **arrays)
    else:
        np.savez(path, x_train=np.array([object()], dtype=object))
    with pytest.raises(fashion_mnist.CorruptCacheError, match=str(path)):
        fashion_mnist.read_cache(path)
    sources = [("good", fashion_mnist.folder_source(write_idx_folder(tmp_path / "good", tiny)))]
    with pytest.warns(data.CacheRebuiltWarning, match=str(path)):
        report = fashion_mnist.fetch_fashion_mnist(path, sources=sources)
    assert report.source == "good" and fashion_mnist.read_cache(path)


def test_write_cache_refuses_unverified_arrays(tiny, tmp_path):
    wrong = {k: np.zeros_like(v) for k, v in tiny.items()}
    with pytest.raises(fashion_mnist.FashionMnistVerificationError):
        fashion_mnist.write_cache(wrong, tmp_path / "cache.npz")
    assert list(tmp_path.iterdir()) == []


def test_no_source_error_lists_every_source_and_how_to_install(data_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is downloaded, nothing warns
        with pytest.raises(fashion_mnist.FashionMnistUnavailableError) as info:
            fashion_mnist.load_fashion_mnist(download=False)
    message = str(info.value)
    assert message.startswith("could not get Fashion-MNIST from any source:")
    assert "local cache: " in message and "does not exist yet" in message
    assert f"files put by hand in {data_dir / 'fashion-mnist'}" in message
    assert "Keras' download cache in " in message and "keras-home" in message
    assert "Debian package dataset-fashion-mnist in " in message
    assert message.count("FileNotFoundError") == 3
    assert "Keras download (keras" not in message  # download=False: never tried
    assert "sudo apt-get install dataset-fashion-mnist" in message
    assert fashion_mnist.RAW_URL in message and "train-images-idx3-ubyte.gz" in message
    assert not (data_dir / fashion_mnist.CACHE_NAME).exists()


def test_default_sources_only_download_when_asked():
    offline = [name for name, _ in fashion_mnist.default_sources(download=False)]
    online = [name for name, _ in fashion_mnist.default_sources(download=True)]
    assert len(offline) == 3 and online[:3] == offline
    assert online[3].startswith("Keras download")


def test_main_reports_failure_with_exit_code(data_dir, capsys):
    assert fashion_mnist.main([]) == 1
    assert "could not get Fashion-MNIST" in capsys.readouterr().err
    assert fashion_mnist.main(["--bogus"]) == 2


def test_confusion_matrix_figure_uses_class_names():
    y = np.arange(10)
    fig = fashion_mnist.confusion_matrix_figure(y, y)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(fashion_mnist.CLASS_NAMES)
    assert ax.get_ylabel() == "true class"


# ----------------------------------------------------------------- the real files


@needs_debian
def test_debian_files_are_the_official_fashion_mnist():
    arrays = fashion_mnist.arrays_from_idx_folder(DEBIAN)
    assert fashion_mnist.verify_arrays(arrays) == fashion_mnist.OFFICIAL_SHA256
    md5 = {k: hashlib.md5(data.idx_bytes(v)).hexdigest() for k, v in arrays.items()}
    assert md5 == fashion_mnist.UNCOMPRESSED_MD5
    assert np.bincount(arrays["y_train"]).tolist() == [6000] * 10
    assert np.bincount(arrays["y_test"]).tolist() == [1000] * 10


@needs_debian
def test_load_from_the_debian_package_matches_keras_layout(tmp_path, monkeypatch):
    monkeypatch.setenv(config.DATA_DIR_ENV, str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    report = fashion_mnist.fetch_fashion_mnist(download=False)
    assert report.source.startswith("Debian package")
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_fashion_mnist(download=False)
    assert (x_train.shape, y_train.shape) == ((60000, 28, 28), (60000,))
    assert (x_test.shape, y_test.shape) == ((10000, 28, 28), (10000,))
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
