"""Course-wide settings used by every notebook's setup cell: fast or full mode, folders, seeding.

Everything here is read from the environment when called, never at import time.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np

FAST_ENV = "COURSE_FAST"
DATA_DIR_ENV = "MNIST_DATA_DIR"
MODELS_DIR_ENV = "COURSE_MODELS_DIR"
LOGS_DIR_ENV = "COURSE_LOGS_DIR"
DEFAULT_SEED = 42

REPO_ROOT = Path(__file__).resolve().parent.parent

# The course's public repository, owner/name on GitHub, and its branch: the one place that
# names them (badges, Colab's clone URL and folder, README and docs are rewritten from
# them). The name is a placeholder until the course is published; a fork changes these two
# lines and runs `python -m helpers.maintainer.links`.
REPOSITORY = "mnist-cnn-course/mnist-cnn-course"
BRANCH = "main"


def repository_url(repository: str = REPOSITORY) -> str:
    """Return the repository's GitHub URL, ``https://github.com/<owner>/<name>``."""
    return f"https://github.com/{repository}"


def fast_mode() -> bool:
    """Return True when ``COURSE_FAST`` is set to a true value (1, true, yes, on)."""
    return os.environ.get(FAST_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def mode_name() -> str:
    """Return ``"fast"`` or ``"full"``."""
    return "fast" if fast_mode() else "full"


def describe_mode() -> str:
    """Return the one-line mode banner that every notebook's setup cell prints."""
    if fast_mode():
        return f"Mode: fast ({FAST_ENV}=1): small data and few epochs, for tests"
    return f"Mode: full: the real course (set {FAST_ENV}=1 for a quick run)"


def data_dir() -> Path:
    """Return the data folder: ``$MNIST_DATA_DIR`` if set, else ``<repo>/data``."""
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override).expanduser() if override else REPO_ROOT / "data"


def models_dir(create: bool = True) -> Path:
    """Return the folder for trained models, logs and histories.

    ``$COURSE_MODELS_DIR`` if set, else ``<repo>/models``. Fast mode uses a ``fast/``
    subfolder so a quick test run never overwrites the models of a full run.
    """
    return _mode_folder(MODELS_DIR_ENV, "models", create)


def logs_dir(create: bool = True) -> Path:
    """Return the folder for TensorBoard logs: ``<repo>/logs`` (``logs/fast`` in fast mode).

    ``$COURSE_LOGS_DIR`` overrides the base folder; git ignores ``logs/``.
    """
    return _mode_folder(LOGS_DIR_ENV, "logs", create)


def _mode_folder(env: str, default: str, create: bool) -> Path:
    """Return ``$env`` or ``<repo>/<default>``, with ``fast/`` below it in fast mode."""
    override = os.environ.get(env)
    base = Path(override).expanduser() if override else REPO_ROOT / default
    path = base / "fast" if fast_mode() else base
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def set_seed(seed: int = DEFAULT_SEED, deterministic: bool = True) -> int:
    """Seed Python, NumPy and TensorFlow; optionally make TensorFlow ops deterministic.

    Returns the seed, so a notebook can print it. Deterministic ops make two runs on the
    same machine give the same weights, at some cost in speed.
    """
    import keras
    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    return seed
