"""Training killed at any write, even half-way through one, ends in a complete model.

The process is "killed" in-process at every write that training makes, one write per run:
the write puts only the first half of its bytes on disk and then a ``Killed`` exception,
which nothing catches, ends the run (no ``finally``, no ``on_train_end``), as SIGKILL
would. The rerun must then finish with a model that loads in safe mode and a history
that covers every epoch and matches the model.
"""

from __future__ import annotations

import math
import os

import keras
import numpy as np
import pytest
from keras.src.utils import file_utils  # the module CSVLogger and BackupAndRestore write with

from helpers import saving, training

EPOCHS = 2
NAME = "net"


class Killed(BaseException):
    """Stands for SIGKILL: a BaseException, so no ``except Exception`` clean-up runs."""


class KillAtWrite:
    """Count the writes of a training run; cut the ``kill_at``-th one in half and stop."""

    def __init__(self, kill_at: int | None):
        self.kill_at = kill_at
        self.writes = 0

    def cut(self) -> bool:
        self.writes += 1
        return self.writes == self.kill_at


def half_written(path: str | os.PathLike, suffix: str, write) -> None:
    """Do ``write(tmp)``, then leave only the first half of its bytes at ``path``."""
    tmp = f"{os.fspath(path)}.whole{suffix}"
    write(tmp)
    with open(tmp, "rb") as source:
        blob = source.read()
    os.unlink(tmp)
    with open(path, "wb") as target:
        target.write(blob[: len(blob) // 2])


@pytest.fixture
def kills(monkeypatch):
    """Return a function that arms a ``KillAtWrite`` on every write training makes."""
    real_save, real_save_weights = keras.Model.save, keras.Model.save_weights
    real_file, real_replace = file_utils.File, os.replace

    def arm(kill_at: int | None) -> KillAtWrite:
        counter = KillAtWrite(kill_at)

        def save(self, filepath, *args, **kwargs):
            if counter.cut():
                half_written(filepath, ".keras", lambda tmp: real_save(self, tmp, **kwargs))
                raise Killed
            return real_save(self, filepath, *args, **kwargs)

        def save_weights(self, filepath, *args, **kwargs):
            if counter.cut():
                half_written(filepath, ".weights.h5", lambda tmp: real_save_weights(self, tmp))
                raise Killed
            return real_save_weights(self, filepath, *args, **kwargs)

        class CutFile:
            def __init__(self, name, mode="r"):
                self._file = real_file(name, mode)

            def write(self, text):
                if counter.cut():
                    self._file.write(text[: len(text) // 2])
                    self._file.flush()
                    raise Killed
                return self._file.write(text)

            def __getattr__(self, attr):
                return getattr(self._file, attr)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self._file.close()

        def replace(src, dst):
            if counter.cut():
                raise Killed  # dies just before the rename: the old name is still there
            return real_replace(src, dst)

        monkeypatch.setattr(keras.Model, "save", save)
        monkeypatch.setattr(keras.Model, "save_weights", save_weights)
        monkeypatch.setattr(file_utils, "File", CutFile)
        monkeypatch.setattr(training.os, "replace", replace)
        return counter

    yield arm
    monkeypatch.setattr(os, "replace", real_replace)


def tiny_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    return (x[:192], y[:192]), (x[192:], y[192:])


def train(models_dir):
    """One run of notebook 04's recipe on a tiny model; return ``finish_training``'s result."""
    (x, y), validation = tiny_data()
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    callbacks = training.training_callbacks(models_dir, NAME, patience=10)
    model.fit(
        x, y, epochs=EPOCHS, batch_size=64, validation_data=validation, callbacks=callbacks,
        verbose=0,
    )  # fmt: skip
    return training.finish_training(models_dir, NAME)


def check_published(models_dir):
    """The model loads, the history covers every epoch once, and the model is one of them."""
    model = saving.load_keras_model(models_dir / f"{NAME}.keras", compile=False)
    history = training.load_history(models_dir / f"{NAME}_history.json")
    assert len(history["loss"]) == EPOCHS, history
    _, (x_val, y_val) = tiny_data()
    logits = model.predict(x_val, verbose=0)
    val_loss = float(
        keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y_val, logits).numpy()
    )
    assert any(math.isclose(val_loss, v, rel_tol=1e-4) for v in history["val_loss"]), (
        val_loss,
        history["val_loss"],
    )
    leftovers = sorted(
        p.name
        for p in models_dir.iterdir()
        if p.name.endswith((".tmp", ".whole", ".partial.keras"))
    )
    assert leftovers == []


@pytest.mark.slow
def test_a_kill_at_any_write_is_followed_by_a_complete_model_and_history(tmp_path, kills):
    clean = kills(None)
    train(tmp_path / "clean")
    check_published(tmp_path / "clean")
    writes = clean.writes
    assert writes >= 4 * EPOCHS  # checkpoint, log row, back-up weights and epoch, per epoch
    for kill_at in range(1, writes + 1):
        models_dir = tmp_path / f"kill-{kill_at}"
        kills(kill_at)
        with pytest.raises(Killed):
            train(models_dir)
        assert not (models_dir / f"{NAME}.keras").exists(), f"published after kill {kill_at}"
        kills(None)
        train(models_dir)
        check_published(models_dir)


@pytest.mark.slow
def test_a_back_up_no_one_can_read_is_set_aside_with_a_warning_and_training_restarts(tmp_path):
    backup = tmp_path / f"{NAME}_backup"
    backup.mkdir(parents=True)
    (backup / "latest.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n truncated")
    with pytest.warns(training.DamagedBackupWarning, match=str(backup)):
        train(tmp_path)
    assert (tmp_path / f"{NAME}_backup.damaged" / "latest.weights.h5").exists()
    check_published(tmp_path)


def test_a_damaged_checkpoint_is_never_published(tmp_path):
    (tmp_path / f"{NAME}.partial.keras").write_bytes(b"PK\x03\x04 half a zip")
    (tmp_path / f"{NAME}_history.csv").write_text("epoch,loss\n0,1.0\n")
    with pytest.raises(saving.ModelFileError, match="partial.keras"):
        training.finish_training(tmp_path, NAME)
    assert not (tmp_path / f"{NAME}.keras").exists()
