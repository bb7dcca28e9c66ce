"""Get Fashion-MNIST for notebook 14, verified, without downloading when a copy exists.

``load_fashion_mnist()`` returns what ``keras.datasets.fashion_mnist.load_data()`` returns:
``(x_train, y_train), (x_test, y_test)``, uint8 arrays of shape (60000, 28, 28), (60000,),
(10000, 28, 28) and (10000,), labels 0-9 naming the ``CLASS_NAMES``.

Where the data comes from, in order:

1. the local cache, ``data/fashion_mnist.npz`` (or ``$MNIST_DATA_DIR/...``), read with
   ``allow_pickle=False``;
2. the four official IDX files (``.gz`` or not) in a folder: ``data/fashion-mnist/`` (put
   there by hand), Keras' own cache ``~/.keras/datasets/fashion-mnist/`` (from an earlier
   download), or ``/usr/share/datasets/fashion-mnist/`` (Debian/Ubuntu package
   ``dataset-fashion-mnist``);
3. Keras' download (needs the internet), only with ``download=True``.

Whatever the source, the four arrays are checked against the SHA-256 of the official
(uncompressed) IDX files before the cache is written atomically. Uses the IDX encoding
and hashing of ``helpers.data``, since the files have the same format as MNIST.

Run ``python -m helpers.fashion_mnist`` to fetch the data and print the source and hashes.
"""

from __future__ import annotations

import gzip
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from helpers import config, data
from helpers.data import FetchReport  # the same report as MNIST's fetch

CACHE_NAME = "fashion_mnist.npz"
BY_HAND_FOLDER = "fashion-mnist"  # inside the data folder
DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_PACKAGE = "dataset-fashion-mnist"
RAW_URL = "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip

# SHA-256 of the uncompressed official files, computed from the Debian package's copy and
# cross-checked twice: the same four SHA-256 values are checked by independent projects
# that download Zalando's own files, and the MD5s of these uncompressed files equal the
# ones torchvision used to list next to Zalando's .gz MD5s (UNCOMPRESSED_MD5 below).
# Debian recompressed the .gz files, so the .gz MD5s in Zalando's README (8d4fb7e6...,
# 25c81989..., bef4ecab..., bb300cfd...) do not match Debian's .gz files; the content does.
OFFICIAL_SHA256 = {
    "x_train": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "y_train": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "x_test": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "y_test": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
UNCOMPRESSED_MD5 = {
    "x_train": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "y_train": "9018921c3c673c538a1fc5bad174d6f9",
    "x_test": "8181f5470baa50b63fa0f6fddb340f0a",
    "y_test": "15d484375f8d13e6eb1aabb0c3f46965",
}
# The file names and shapes are those of MNIST.
FILE_NAMES = data.OFFICIAL_FILE_NAMES
EXPECTED_SHAPES = data.EXPECTED_SHAPES
ARRAY_NAMES = data.ARRAY_NAMES

IDX_UNSIGNED_BYTE = 0x08
MAX_IDX_BYTES = 64 * 2**20  # the largest file is 47 MB; refuse anything far bigger

Arrays = dict[str, np.ndarray]
Source = Callable[[Path], Arrays]

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class FashionMnistError(data.MnistError):
    """Base class for every Fashion-MNIST error this module raises."""


class IdxFormatError(FashionMnistError, ValueError):
    """A file is not a valid IDX file: wrong magic number, dimensions or size."""


class FashionMnistVerificationError(FashionMnistError):
    """The arrays are not the official Fashion-MNIST (wrong shape, dtype or SHA-256)."""


class CorruptCacheError(FashionMnistError):
    """The cache file cannot be read or does not hold the official Fashion-MNIST."""


class FashionMnistUnavailableError(FashionMnistError):
    """Every source failed; the message lists each one, why, and how to get the data."""


# ----------------------------------------------------------------------- IDX files


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Return the uint8 array stored in the bytes of an IDX file (the format of MNIST).

    The header is two zero bytes, the type code 0x08 (unsigned byte), the number of
    dimensions, then each dimension as a big-endian 32-bit integer; the data follows. The
    file must hold exactly as many bytes as the dimensions say. Raises ``IdxFormatError``
    naming ``name`` if the magic number, the dimensions or the size are wrong.
    """
    if len(raw) < 4:
        raise IdxFormatError(f"{name}: only {len(raw)} bytes, too short for an IDX header")
    if raw[:2] != b"\0\0" or raw[2] != IDX_UNSIGNED_BYTE or not 1 <= raw[3] <= 4:
        raise IdxFormatError(
            f"{name}: magic number 0x{raw[:4].hex()} is not that of an unsigned-byte IDX "
            "file (expected 0x000008 then 1 to 4 dimensions, e.g. 0x00000803 for images)"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxFormatError(f"{name}: truncated in the header ({len(raw)} of {header} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    if 0 in shape:
        raise IdxFormatError(f"{name}: the header gives an empty shape {shape}")
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(raw) < expected:
        raise IdxFormatError(
            f"{name}: truncated: the header says shape {shape}, {expected:,} bytes in all, "
            f"but there are only {len(raw):,}"
        )
    if len(raw) > expected:
        raise IdxFormatError(
            f"{name}: {len(raw) - expected:,} unexpected bytes after the data of shape {shape}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


def read_idx_file(path: Path) -> np.ndarray:
    """Read an IDX file, gzip-compressed (``.gz``) or not, and return its array.

    Raises ``FileNotFoundError`` if it is missing and ``IdxFormatError`` naming the file if
    it is a broken gzip stream, larger than ``MAX_IDX_BYTES``, or not a valid IDX file.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    try:
        opener = gzip.open if compressed else open
        with opener(path, "rb") as handle:
            raw = handle.read(MAX_IDX_BYTES + 1)
    except (OSError, EOFError) as exc:  # BadGzipFile is an OSError; truncated gzip: EOFError
        raise IdxFormatError(f"{path}: not a readable gzip file ({exc})") from exc
    if len(raw) > MAX_IDX_BYTES:
        raise IdxFormatError(f"{path}: more than {MAX_IDX_BYTES:,} bytes, not an MNIST-size file")
    return parse_idx(raw, name=str(path))


def find_idx_file(folder: Path, array_name: str) -> Path:
    """Return the path of ``array_name``'s official file in ``folder``, ``.gz`` or not.

    Raises ``FileNotFoundError`` naming both names it looked for.
    """
    base = FILE_NAMES[array_name]
    for candidate in (Path(folder) / f"{base}.gz", Path(folder) / base):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no {base}.gz or {base} in {folder}")


def arrays_from_idx_folder(folder: Path) -> Arrays:
    """Read the four official IDX files in ``folder``; return them by array name.

    Raises ``FileNotFoundError`` if the folder or a file is missing and ``IdxFormatError``
    if a file is damaged.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} does not exist")
    return {name: read_idx_file(find_idx_file(folder, name)) for name in ARRAY_NAMES}


# --------------------------------------------------------------------------- hashing


def verify_arrays(arrays: Arrays) -> dict[str, str]:
    """Check the four arrays are the official Fashion-MNIST; return their SHA-256 by name.

    Each array is hashed as the IDX file it came from (``helpers.data.verify_arrays``).
    Raises ``FashionMnistVerificationError`` naming every array that is missing or differs.
    """
    return data.verify_arrays(
        arrays, OFFICIAL_SHA256, "Fashion-MNIST", FashionMnistVerificationError, EXPECTED_SHAPES
    )


# ----------------------------------------------------------------------------- cache


def cache_path() -> Path:
    """Return where the verified cache lives: ``<data dir>/fashion_mnist.npz``."""
    return config.data_dir() / CACHE_NAME


def read_cache(path: Path) -> Arrays:
    """Read and verify the cache at ``path``; return the four arrays.

    Raises ``FileNotFoundError`` if it does not exist, and ``CorruptCacheError`` (naming
    the path) if it cannot be read or is not the official Fashion-MNIST.
    """
    return data.read_cache(path, verify_arrays, "Fashion-MNIST", CorruptCacheError)


def write_cache(arrays: Arrays, path: Path) -> None:
    """Verify ``arrays`` and write them to ``path`` atomically (temporary file + rename).

    Raises ``FashionMnistVerificationError`` if the arrays are not the official data
    (nothing is written) and ``helpers.data.DataDirError`` if the folder is not writable.
    """
    data.write_cache(arrays, path, verify_arrays, "Fashion-MNIST")


# --------------------------------------------------------------------------- sources


def keras_cache_folder() -> Path:
    """Return where ``keras.datasets.fashion_mnist.load_data()`` keeps its downloads."""
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home) / "datasets" / "fashion-mnist"


def from_keras_download(workdir: Path) -> Arrays:
    """Keras' own download of the four files (needs the internet)."""
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def folder_source(folder: Path) -> Source:
    """Return a source that reads the official IDX files from ``folder``."""
    return lambda workdir: arrays_from_idx_folder(folder)


def default_sources(download: bool = True) -> list[tuple[str, Source]]:
    """Return the sources tried after the cache, in order, as ``(description, source)``."""
    folders = [
        ("files put by hand", config.data_dir() / BY_HAND_FOLDER),
        ("Keras' download cache", keras_cache_folder()),
        (f"Debian package {DEBIAN_PACKAGE}", DEBIAN_FOLDER),
    ]
    sources = [(f"{label} in {folder}", folder_source(folder)) for label, folder in folders]
    if download:
        sources.append(("Keras download (keras.datasets.fashion_mnist)", from_keras_download))
    return sources


def how_to_get_it(path: Path) -> str:
    """Return the instructions printed when no source has the data."""
    by_hand = config.data_dir() / BY_HAND_FOLDER
    names = ", ".join(f"{FILE_NAMES[n]}.gz" for n in ARRAY_NAMES)
    return (
        "To get Fashion-MNIST, do one of these, then run `python -m helpers.fashion_mnist`:\n"
        f"  - on Debian or Ubuntu: `sudo apt-get install {DEBIAN_PACKAGE}` "
        f"(puts the files in {DEBIAN_FOLDER});\n"
        f"  - by hand: download {names} from {RAW_URL} into {by_hand};\n"
        "  - with the internet: run `python -m helpers.fashion_mnist --download` "
        f"(Keras' download). The verified copy is then cached in {path}."
    )


# ------------------------------------------------------------------------ public API


def fetch_fashion_mnist(
    path: Path | None = None,
    sources: Sequence[tuple[str, Source]] | None = None,
    download: bool = True,
) -> FetchReport:
    """Make sure a verified cache exists at ``path`` (default ``cache_path()``).

    Uses the existing cache if it is valid; a corrupt one is reported with
    ``helpers.data.CacheRebuiltWarning`` and rebuilt. Otherwise tries ``sources`` (default
    ``default_sources(download)``) in order and caches the first that verifies. Returns a
    ``FetchReport``. Raises ``FashionMnistUnavailableError`` listing every source tried and
    why it failed, with how to get the data, and ``DataDirError`` if the cache cannot be
    written.
    """
    path = Path(path) if path is not None else cache_path()
    sources = default_sources(download) if sources is None else sources
    failures: list[tuple[str, str]] = []
    try:
        return FetchReport("local cache", path, verify_arrays(read_cache(path)), failures)
    except FileNotFoundError:
        failures.append(("local cache", f"{path} does not exist yet"))
    except CorruptCacheError as exc:
        warnings.warn(f"{exc}; fetching it again", data.CacheRebuiltWarning, stacklevel=2)
        failures.append(("local cache", str(exc)))
    report = data.cache_first_verified(sources, verify_arrays, failures, path, write_cache)
    if report is not None:
        return report
    raise FashionMnistUnavailableError(
        data.no_source_worked("Fashion-MNIST", failures, how_to_get_it(path))
    )


def load_fashion_mnist(
    path: Path | None = None, download: bool = True
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Return ``(x_train, y_train), (x_test, y_test)`` of Fashion-MNIST, verified.

    The same uint8 arrays as ``keras.datasets.fashion_mnist.load_data()``. With
    ``download=False`` nothing is fetched from the internet. See ``fetch_fashion_mnist``
    for the sources and what it raises.
    """
    report = fetch_fashion_mnist(path, download=download)
    arrays = read_cache(report.path)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def confusion_matrix_figure(y_true: np.ndarray, y_pred: np.ndarray) -> Figure:
    """Return ``helpers.evaluation.confusion_matrix_figure`` labelled with the class names."""
    from helpers import evaluation

    fig = evaluation.confusion_matrix_figure(y_true, y_pred)
    ax = fig.axes[0]
    ticks = np.arange(len(CLASS_NAMES)) + 0.5
    ax.set_xticks(ticks, CLASS_NAMES, rotation=45, ha="right")
    ax.set_yticks(ticks, CLASS_NAMES, rotation=0)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return fig


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.fashion_mnist [--download]``: fetch, verify, print the hashes."""
    args = list(sys.argv[1:] if argv is None else argv)
    unknown = [a for a in args if a != "--download"]
    if unknown:
        print(f"usage: python -m helpers.fashion_mnist [--download] (unknown: {unknown})")
        return 2
    try:
        report = fetch_fashion_mnist(download="--download" in args)
    except FashionMnistError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    data.print_report(report, FILE_NAMES)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
