"""Save and load Keras models safely (notebook 04 saves; 05 onwards load).

Only Keras 3 ``.keras`` archives are loaded, always with ``safe_mode=True``: a pickle, an
``.h5`` file from elsewhere, or a model with a ``Lambda`` layer (arbitrary Python code) is
refused with a message that says why and what to do. Saving goes to a temporary name
first and is renamed when complete, so a half-written file never sits where a finished
model is expected.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from helpers import config

if TYPE_CHECKING:  # keras is imported when a model is loaded, not with this module
    import keras

# The saved models that later notebooks look for, best first: the best model from
# 09_best_model, then the article's CNN from 04_training.
COURSE_MODELS = (
    ("best_model.keras", "the best model from 09_best_model"),
    ("article_cnn.keras", "the article's CNN from 04_training"),
)


class ModelFileError(ValueError):
    """A model file is missing, not a Keras 3 ``.keras`` archive, or unsafe to load."""


def load_keras_model(path: str | os.PathLike, compile: bool = True) -> keras.Model:
    """Load the ``.keras`` model at ``path`` with ``safe_mode=True``; return it.

    Raises ``ModelFileError`` with a one-line reason and the fix if the file is missing,
    is not a ``.keras`` zip archive (``.h5`` and pickle files are never opened), holds a
    ``Lambda`` layer or other code that safe mode refuses, or cannot be read.
    """
    path = Path(path)
    _check_model_file(path)
    import keras

    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a damaged or unsafe archive
        text = str(exc).strip()
        if "Lambda" in text or "safe_mode" in text:
            raise ModelFileError(
                f"{path}: refused: the model contains a Lambda layer or other Python code, "
                "which could run anything when loaded. Rebuild it without Lambda layers "
                "(use a built-in or a registered custom layer) and save it again"
            ) from exc
        reason = text.splitlines()[0] if text else type(exc).__name__
        raise ModelFileError(f"{path}: cannot load the Keras model ({reason})") from exc


def _check_model_file(path: Path) -> None:
    """Raise ``ModelFileError`` naming the true cause if ``path`` cannot be a model to load.

    Missing, a dangling link, a link loop, not a regular file, unreadable (permissions),
    not ``.keras``, or not a zip archive: each gets its own message, and only a file that
    is truly damaged gets the advice to save the model again.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise ModelFileError(f"{path}: a symbolic link to a missing file") from None
        raise ModelFileError(
            f"{path}: no such model file; save one with model.save('x.keras')"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ModelFileError(f"{path}: a loop of symbolic links; fix the link") from None
        raise ModelFileError(f"{path}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ModelFileError(f"{path}: not a regular file (a folder, pipe or device)")
    if path.suffix != ".keras":
        raise ModelFileError(
            f"{path}: not a .keras file; only the Keras 3 format is loaded, because .h5 and "
            "pickle files can run code; re-save the model with model.save('model.keras')"
        )
    try:
        with path.open("rb") as file:
            head = file.read(4)
    except PermissionError:
        raise ModelFileError(
            f"{path}: permission denied; the file may be fine, but this user cannot read "
            "it: check its permissions (ls -l)"
        ) from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot be read ({exc.strerror})") from None
    if head != b"PK\x03\x04":
        raise ModelFileError(
            f"{path}: not a Keras model (a .keras file is a zip archive, this is not); "
            "if it should be one, save the model again with model.save()"
        )
    if not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"{path}: a zip archive that is truncated or damaged; save the model again"
        )


def write_json_atomically(record: object, path: str | os.PathLike, allow_nan: bool = False) -> Path:
    """Write ``record`` to ``path`` as indented JSON via a temporary file and a rename.

    Readers see the old file or the new one, never half of one; a kill leaves at most a
    ``.<name>.*.tmp`` file beside it. NaN and infinity are refused (``ValueError``) unless
    ``allow_nan``, because strict JSON readers reject them. Returns the path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=1, allow_nan=allow_nan) + "\n"
    tmp_name = None
    try:
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as tmp:
            tmp_name = tmp.name
            tmp.write(text)
        os.replace(tmp_name, path)
        tmp_name = None
    finally:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)
    return path


def read_json(path: str | os.PathLike, what: str, fix: str) -> object:
    """Return the JSON record at ``path``, which should hold ``what`` (said in errors).

    Raises ``FileNotFoundError`` naming ``fix`` if the file is missing, and ``ValueError``
    if it is not JSON.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no {what} at {path}: {fix}")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not JSON, so not a {what} ({exc})") from exc


def save_model_atomically(model: keras.Model, path: str | os.PathLike) -> Path:
    """Save ``model`` to ``path`` (a ``.keras`` file) via a temporary name and a rename.

    Returns the path. Raises ``ModelFileError`` if ``path`` does not end in ``.keras``.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelFileError(f"{path}: model files must end in .keras")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial.keras")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_course_model(models_dir: Path | None = None) -> tuple[keras.Model, Path, str] | None:
    """Load the best saved course model (see ``find_course_model``) with the safe loader.

    Returns ``(model, path, description)``, or None if no course model has been saved.
    Raises ``ModelFileError`` if the file exists but cannot be loaded safely.
    """
    found = find_course_model(models_dir)
    if found is None:
        return None
    path, description = found
    return load_keras_model(path), path, description


def find_course_model(models_dir: Path | None = None) -> tuple[Path, str] | None:
    """Return ``(path, description)`` of the best saved course model, or None if none exists.

    Looks in ``models_dir`` (default ``config.models_dir()``) for the files in
    ``COURSE_MODELS``, best first.
    """
    folder = Path(models_dir) if models_dir is not None else config.models_dir()
    for name, description in COURSE_MODELS:
        if (folder / name).exists():
            return folder / name, description
    return None
