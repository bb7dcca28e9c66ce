"""Training taught in notebook 04: its resumable callbacks, and saving and loading histories.

``training_callbacks`` is generated from notebook 04's ``# @save`` cell; the rest (safe
saving, reading the CSV log, publishing a finished run) is plumbing that 04 calls.
"""

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


# >>> notebooks/04_training.ipynb (generated: python -m helpers.maintainer.lessons)
def training_callbacks(
    models_dir: Path, name: str, patience: int = 3, monitor: str = "val_loss"
) -> list[keras.callbacks.Callback]:
    """Return the callbacks for a resumable ``fit`` of the model called ``name``.

    BackupAndRestore in ``<name>_backup/``, EarlyStopping on ``monitor`` (restoring the
    best weights), ModelCheckpoint of the best epoch to ``<name>.partial.keras`` (never the
    final name: ``finish_training`` renames it) and CSVLogger to ``<name>_history.csv``,
    appending when the run resumes from a backup.
    """
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    backup_dir = models_dir / f"{name}_backup"
    resuming = backup_dir.exists()
    if not resuming:  # a fresh run: never keep a checkpoint or log from an earlier run
        (models_dir / f"{name}.partial.keras").unlink(missing_ok=True)
        (models_dir / f"{name}_history.csv").unlink(missing_ok=True)
    return [
        keras.callbacks.BackupAndRestore(backup_dir=str(backup_dir)),
        keras.callbacks.EarlyStopping(
            monitor=monitor, patience=patience, restore_best_weights=True, verbose=1
        ),
        keras.callbacks.ModelCheckpoint(
            models_dir / f"{name}.partial.keras", monitor=monitor, save_best_only=True
        ),
        keras.callbacks.CSVLogger(models_dir / f"{name}_history.csv", append=resuming),
    ]


# <<< notebooks/04_training.ipynb


def history_from_csv(path: Path) -> History:
    """Read a ``CSVLogger`` file; return ``{metric: [value per epoch]}`` in epoch order.

    Raises ``ValueError`` naming the file if it has no rows or a value is not a number.
    """
    import csv

    path = Path(path)
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"{path} holds no epochs")
    rows.sort(key=lambda row: int(row["epoch"]))
    try:
        return {key: [float(row[key]) for row in rows] for key in rows[0] if key != "epoch"}
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: a value is not a number ({exc})") from exc


def finish_training(models_dir: Path, name: str) -> tuple[Path, History]:
    """Publish a finished run: rename ``<name>.partial.keras`` to ``<name>.keras``.

    Also writes ``<name>_history.json`` from the CSV log, which covers every epoch even
    when the run was resumed (the ``History`` of a resumed ``fit`` only has the last
    part). Returns ``(model_path, history)``. Raises ``FileNotFoundError`` if there is no
    checkpoint to publish.
    """
    models_dir = Path(models_dir)
    partial = models_dir / f"{name}.partial.keras"
    if not partial.exists():
        raise FileNotFoundError(f"no checkpoint at {partial}: has training run to the end?")
    history = history_from_csv(models_dir / f"{name}_history.csv")
    save_history(history, models_dir / f"{name}_history.json")
    final = models_dir / f"{name}.keras"
    os.replace(partial, final)
    return final, history
