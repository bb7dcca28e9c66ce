"""Save and load training histories (the ``history.history`` dict of a Keras ``fit``)."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import keras

History = dict[str, list[float]]


def save_history(history: keras.callbacks.History | History, path: Path) -> Path:
    """Write a training history to ``path`` as JSON, atomically; return the path.

    Accepts the ``History`` object that ``model.fit`` returns, or its ``.history`` dict.
    Raises ``ValueError`` if a metric is not a list of finite-or-NaN numbers.
    """
    record = history.history if isinstance(history, keras.callbacks.History) else history
    clean: History = {}
    for key, values in record.items():
        try:
            clean[key] = [float(v) for v in values]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"history[{key!r}] is not a list of numbers") from exc
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as tmp:
        json.dump(clean, tmp, indent=1)
    os.replace(tmp.name, path)
    return path


def load_history(path: Path) -> History:
    """Read a history written by ``save_history``; return ``{metric: [value per epoch]}``.

    Raises ``FileNotFoundError`` (with the fix) if it is missing, and ``ValueError`` if
    the file is not a history: not JSON, not a dict of equal-length lists of numbers.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"no training history at {path}: run notebooks/04_training.ipynb first"
        )
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not a JSON training history ({exc})") from exc
    if not isinstance(record, dict) or not record:
        raise ValueError(f"{path} is not a training history: expected a dict of lists")
    lengths = set()
    for key, values in record.items():
        if not isinstance(values, list) or not all(isinstance(v, int | float) for v in values):
            raise ValueError(f"{path}: history[{key!r}] is not a list of numbers")
        lengths.add(len(values))
    if len(lengths) != 1:
        raise ValueError(f"{path}: metrics have different numbers of epochs {sorted(lengths)}")
    return {key: [float(v) for v in values] for key, values in record.items()}


def best_epoch(history: History, monitor: str = "val_loss") -> int:
    """Return the 1-based epoch where ``monitor`` was best (lowest loss, highest otherwise).

    Raises ``KeyError`` naming the available metrics if ``monitor`` is missing.
    """
    if monitor not in history:
        raise KeyError(f"{monitor!r} not in history; available: {sorted(history)}")
    lower_is_better = "loss" in monitor
    worst = math.inf if lower_is_better else -math.inf
    values = [worst if math.isnan(v) else v for v in history[monitor]]
    best = min(values) if lower_is_better else max(values)
    return values.index(best) + 1
