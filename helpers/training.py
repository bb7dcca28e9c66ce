"""Training taught in notebook 04: its resumable callbacks, and saving and loading histories.

``training_callbacks`` is generated from notebook 04's ``# @save`` cell; the rest (safe
saving, reading the CSV log, publishing a finished run) is plumbing that 04 calls. The
last part (``resumable_callbacks``, ``finish_run``, ``finished_run``) lets notebook 09's
hour-long trainings pick up where a restarted kernel left them.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
import shutil
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import keras

from helpers import saving

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
    return saving.write_json_atomically(clean, path, allow_nan=True)  # a diverged epoch


def load_history(path: Path) -> History:
    """Read a history written by ``save_history``; return ``{metric: [value per epoch]}``.

    Raises ``FileNotFoundError`` (with the fix) if it is missing, and ``ValueError`` if
    the file is not a history: not JSON, not a dict of equal-length lists of numbers.
    """
    path = Path(path)
    fix = "run notebooks/04_training.ipynb first"
    record = saving.read_json(path, "training history", fix)
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


class DamagedBackupWarning(UserWarning):
    """A back-up left by a killed run could not be read, so training starts again."""


def _readable_backup(backup_dir: Path) -> tuple[int | None, str]:
    """Return ``(epochs done, "")`` for a back-up BackupAndRestore can resume, else ``(None, why)``.

    Keras keeps the weights in ``latest.weights.h5`` and the epoch count in
    ``training_metadata.json``, with ``double_checkpoint`` the previous pair in ``.bkp``
    files. When the latest pair is damaged and the previous one is not, the previous pair
    is put back in its place, so that Keras resumes from it.
    """
    import h5py

    reason = "no weights in it"
    for suffix in ("", ".bkp"):
        weights = backup_dir / f"latest.weights.h5{suffix}"
        metadata = backup_dir / f"training_metadata.json{suffix}"
        if not weights.exists():
            continue
        try:
            with h5py.File(weights, "r") as file:
                file.visititems(
                    lambda _, item: item[()] if isinstance(item, h5py.Dataset) else None
                )
            epoch = json.loads(metadata.read_text())["epoch"] if metadata.exists() else 0
            if not isinstance(epoch, int) or epoch < 0:
                raise ValueError(f"epoch {epoch!r}")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            reason = f"{weights.name} or {metadata.name}: {exc}"
            continue
        if suffix:
            shutil.copyfile(weights, backup_dir / "latest.weights.h5")
            if metadata.exists():
                shutil.copyfile(metadata, backup_dir / "training_metadata.json")
            else:
                (backup_dir / "training_metadata.json").unlink(missing_ok=True)
        return epoch, ""
    return None, reason


def _repair_csv_log(path: Path, epochs_done: int) -> None:
    """Keep only the complete rows of the first ``epochs_done`` epochs in a CSVLogger file.

    A run killed after logging an epoch but before backing it up logs that epoch again
    when it resumes, and a kill during a write leaves half a line.
    """
    if not path.exists():
        return
    lines = path.read_text().splitlines(keepends=True)
    if not lines:
        return
    kept = [lines[0]]
    for line in lines[1:]:
        first = line.split(",", 1)[0]
        if line.endswith("\n") and first.isdigit() and int(first) < epochs_done:
            kept.append(line)
    if kept != lines:
        tmp = path.with_name(f".{path.name}.repair.tmp")
        tmp.write_text("".join(kept))
        os.replace(tmp, path)


def _set_aside(backup_dir: Path, suffix: str, why: str) -> None:
    """Move ``backup_dir`` to ``<backup_dir>.<suffix>`` and warn that training starts again.

    A back-up set aside earlier under the same suffix is replaced.
    """
    aside = backup_dir.with_name(f"{backup_dir.name}.{suffix}")
    shutil.rmtree(aside, ignore_errors=True)
    os.replace(backup_dir, aside)
    warnings.warn(
        f"{backup_dir} {why}; training starts again from epoch 1. It was moved to {aside}.",
        DamagedBackupWarning,
        stacklevel=3,
    )


def prepare_resume(models_dir: Path, name: str) -> bool:
    """Make ``models_dir`` safe to train ``name`` in; return True if a run will resume.

    Deletes the temporary files a killed run left. A back-up that BackupAndRestore cannot
    read (a kill while it was written) is moved to ``<name>_backup.damaged`` with a
    ``DamagedBackupWarning`` naming both folders, and training starts again. When
    resuming, the CSV log keeps only the epochs the back-up holds.
    """
    models_dir = Path(models_dir)
    for stale in models_dir.glob(f".{name}*.tmp"):
        stale.unlink(missing_ok=True)
    backup_dir = models_dir / f"{name}_backup"
    if not backup_dir.exists():
        return False
    epochs_done, reason = _readable_backup(backup_dir)
    if epochs_done is None:
        why = f"cannot be read ({reason}), most likely because a run was killed while writing it"
        _set_aside(backup_dir, "damaged", why)
        return False
    _repair_csv_log(models_dir / f"{name}_history.csv", epochs_done)
    return True


# >>> notebooks/04_training.ipynb (generated: python -m helpers.maintainer.lessons)
def training_callbacks(
    models_dir: Path, name: str, patience: int = 3, monitor: str = "val_loss"
) -> list[keras.callbacks.Callback]:
    """Return the callbacks for a resumable ``fit`` of the model called ``name``.

    EarlyStopping on ``monitor`` (restoring the best weights), ModelCheckpoint of the best
    epoch to ``<name>.partial.keras`` (never the final name: ``finish_training`` renames
    it), CSVLogger to ``<name>_history.csv`` (appending when the run resumes), and
    BackupAndRestore in ``<name>_backup/``.
    """
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    backup_dir = models_dir / f"{name}_backup"
    resuming = prepare_resume(models_dir, name)  # False if there is no readable back-up
    if not resuming:  # a fresh run: never keep a checkpoint or log from an earlier run
        (models_dir / f"{name}.partial.keras").unlink(missing_ok=True)
        (models_dir / f"{name}_history.csv").unlink(missing_ok=True)
    return [
        keras.callbacks.EarlyStopping(
            monitor=monitor, patience=patience, restore_best_weights=True, verbose=1
        ),
        keras.callbacks.ModelCheckpoint(
            models_dir / f"{name}.partial.keras", monitor=monitor, save_best_only=True
        ),
        keras.callbacks.CSVLogger(models_dir / f"{name}_history.csv", append=resuming),
        # Last, so an epoch is backed up only once its checkpoint and log row are written:
        keras.callbacks.BackupAndRestore(backup_dir=str(backup_dir), double_checkpoint=True),
    ]


# <<< notebooks/04_training.ipynb


def history_from_csv(path: Path) -> History:
    """Read a ``CSVLogger`` file; return ``{metric: [value per epoch]}`` in epoch order.

    Columns that are ``NA`` in every row (the validation columns ``CSVLogger`` adds when
    there is no validation data) are left out. Raises ``ValueError`` naming the file if it has no rows or a value is not a number.
    """
    import csv

    path = Path(path)
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"{path} holds no epochs")
    rows.sort(key=lambda row: int(row["epoch"]))
    # CSVLogger writes NA in the val_ columns it adds itself when fit has no validation data
    keys = [k for k in rows[0] if k != "epoch" and any(row[k] != "NA" for row in rows)]
    try:
        return {key: [float(row[key]) for row in rows] for key in keys}
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: a value is not a number ({exc})") from exc


def finish_training(models_dir: Path, name: str) -> tuple[Path, History]:
    """Publish a finished run: rename ``<name>.partial.keras`` to ``<name>.keras``.

    Also writes ``<name>_history.json`` from the CSV log, which covers every epoch even
    when the run was resumed (the ``History`` of a resumed ``fit`` only has the last
    part). Returns ``(model_path, history)``. Raises ``FileNotFoundError`` if there is no
    checkpoint to publish, and ``saving.ModelFileError`` naming it if it does not load.
    """
    models_dir = Path(models_dir)
    partial = models_dir / f"{name}.partial.keras"
    if not partial.exists():
        raise FileNotFoundError(f"no checkpoint at {partial}: has training run to the end?")
    saving.load_keras_model(partial, compile=False)  # never publish a damaged checkpoint
    history = history_from_csv(models_dir / f"{name}_history.csv")
    save_history(history, models_dir / f"{name}_history.json")
    final = models_dir / f"{name}.keras"
    os.replace(partial, final)
    return final, history


# ------------------------------------------------ long runs that survive a restart (09)


class EpochTimer(keras.callbacks.Callback):
    """Add each epoch's wall-clock time to its logs as ``seconds``.

    Put it before ``CSVLogger`` in the callbacks list, so the log records it: the minutes
    of a run resumed after a restart are then the sum over its epochs, in whichever run
    each epoch was trained.
    """

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["seconds"] = time.perf_counter() - self._start


def recipe_of(settings: dict, *functions: Callable) -> dict:
    """Return ``settings`` plus a SHA-256 of the source code of ``functions``.

    Two runs with equal recipes trained the same code on the same settings, so a finished
    run can stand in for a new one; any edit to one of the functions changes the recipe.
    """
    code = "\n".join(inspect.getsource(function) for function in functions)
    return {**settings, "code_sha256": hashlib.sha256(code.encode()).hexdigest()}


def _recipe_path(models_dir: Path, name: str) -> Path:
    return Path(models_dir) / f"{name}_recipe.json"


def resumable_callbacks(
    models_dir: Path, name: str, recipe: dict
) -> list[keras.callbacks.Callback]:
    """Return callbacks that let ``fit`` of run ``name`` resume after a kill or restart.

    ``EpochTimer``, ``CSVLogger`` to ``<name>_history.csv`` (appending when resuming) and
    ``BackupAndRestore`` in ``<name>_backup/``: re-running the same ``fit`` with a new
    list from this function continues from the last finished epoch. A back-up left by a
    different recipe is never resumed: it is moved to ``<name>_backup.other-recipe`` with a
    ``DamagedBackupWarning``, and training starts from epoch 1.
    """
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    backup_dir = models_dir / f"{name}_backup"
    recipe_path = _recipe_path(models_dir, name)
    if backup_dir.exists():
        try:
            previous = json.loads(recipe_path.read_text())
        except (OSError, ValueError):  # missing or unreadable: the recipe is unknown
            previous = None
        if previous != recipe:
            why = "was left by a run of another recipe (or of unknown recipe), so not resumed"
            _set_aside(backup_dir, "other-recipe", why)
    resuming = prepare_resume(models_dir, name)
    if resuming:
        done = len(history_from_csv(models_dir / f"{name}_history.csv")["loss"])
        print(f"{name}: resuming after epoch {done}, backed up by an earlier run")
    else:
        (models_dir / f"{name}_history.csv").unlink(missing_ok=True)
    saving.write_json_atomically(recipe, recipe_path)
    return [
        EpochTimer(),
        keras.callbacks.CSVLogger(models_dir / f"{name}_history.csv", append=resuming),
        keras.callbacks.BackupAndRestore(backup_dir=str(backup_dir), double_checkpoint=True),
    ]


def finish_run(model: keras.Model, models_dir: Path, name: str, recipe: dict) -> dict:
    """Publish run ``name``: save ``<name>.keras``, then ``<name>_run.json``; return the record.

    The record holds the recipe, the history of every epoch (from the CSV log, so a
    resumed run is complete), the training minutes summed over the epochs, and when it
    finished. The record is written last: it exists only once the model file is whole.
    """
    models_dir = Path(models_dir)
    saving.save_model_atomically(model, models_dir / f"{name}.keras")
    history = history_from_csv(models_dir / f"{name}_history.csv")
    record = {
        "recipe": recipe,
        "epochs": len(history["loss"]),
        "minutes": sum(history.get("seconds", [])) / 60,
        "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "history": history,
    }
    saving.write_json_atomically(record, models_dir / f"{name}_run.json")
    return record


def finished_run(models_dir: Path, name: str, recipe: dict) -> tuple[keras.Model, dict] | None:
    """Return ``(model, record)`` of a finished run ``name`` of this very ``recipe``, else None.

    None when there is no record, or when it is for another recipe (the caller trains
    again). Raises ``saving.ModelFileError`` naming the file if the record is there but
    its model does not load, and ``ValueError`` if the record is not JSON.
    """
    models_dir = Path(models_dir)
    record_path = models_dir / f"{name}_run.json"
    if not record_path.exists():
        return None
    record = saving.read_json(record_path, "training record", "train the model again")
    if not isinstance(record, dict) or record.get("recipe") != recipe:
        return None
    return saving.load_keras_model(models_dir / f"{name}.keras"), record
