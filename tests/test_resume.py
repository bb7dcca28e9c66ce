"""Training killed half-way resumes where it stopped, with the course's own callbacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from helpers import config, data, saving, training

SCRIPT = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import keras
    from helpers import config, data, models, training

    models_dir, crash_after = sys.argv[1], int(sys.argv[2])
    config.set_seed()
    (x_train, y_train), (x_val, y_val), _ = data.prepare_mnist(n_train=1_000, n_val=300)

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == crash_after:
                os._exit(3)  # like a killed kernel: no clean-up runs

    model = models.build_article_cnn()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = training.training_callbacks(models_dir, "net", patience=10) + [Crash()]
    model.fit(x_train, y_train, batch_size=128, epochs=4, validation_data=(x_val, y_val),
              callbacks=callbacks, verbose=0)
    path, history = training.finish_training(models_dir, "net")
    print(len(history["loss"]))
    """
)


def run(models_dir, crash_after):
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(models_dir), str(crash_after)],
        capture_output=True,
        text=True,
        cwd=config.REPO_ROOT,
        timeout=300,
    )


@pytest.mark.slow
def test_interrupted_training_resumes_and_ends_with_all_epochs(tmp_path):
    if not (config.REPO_ROOT / "data" / data.CACHE_NAME).exists():
        pytest.skip("data/mnist.npz is missing: run `python -m helpers.data` first")
    killed = run(tmp_path, crash_after=2)
    assert killed.returncode == 3, killed.stderr[-2000:]
    assert not (tmp_path / "net.keras").exists()  # no finished model after a crash
    assert (tmp_path / "net_backup").is_dir()
    assert len(training.history_from_csv(tmp_path / "net_history.csv")["loss"]) == 2

    resumed = run(tmp_path, crash_after=0)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert resumed.stdout.strip().splitlines()[-1] == "4"  # 2 before the crash + 2 after
    history = json.loads((tmp_path / "net_history.json").read_text())
    assert len(history["val_loss"]) == 4
    names = sorted(os.listdir(tmp_path))
    assert names == ["net.keras", "net_history.csv", "net_history.json"]  # no partial, no backup


def test_history_from_csv(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("epoch,accuracy,loss\n1,0.9,0.3\n0,0.8,0.5\n")
    assert training.history_from_csv(path) == {"accuracy": [0.8, 0.9], "loss": [0.5, 0.3]}
    path.write_text("epoch,loss\n")
    with pytest.raises(ValueError, match="no epochs"):
        training.history_from_csv(path)
    path.write_text("epoch,loss\n0,abc\n")
    with pytest.raises(ValueError, match="not a number"):
        training.history_from_csv(path)


def test_finish_training_without_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        training.finish_training(tmp_path, "net")


def test_fresh_run_discards_stale_files_but_resume_keeps_them(tmp_path):
    (tmp_path / "net.partial.keras").write_text("stale")
    (tmp_path / "net_history.csv").write_text("stale")
    training.training_callbacks(tmp_path, "net")
    assert not (tmp_path / "net.partial.keras").exists()
    assert not (tmp_path / "net_history.csv").exists()
    (tmp_path / "net_backup").mkdir()
    tiny = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    tiny.save_weights(tmp_path / "net_backup" / "latest.weights.h5")
    (tmp_path / "net_backup" / "training_metadata.json").write_text('{"epoch": 1, "batch": 0}')
    (tmp_path / "net_history.csv").write_text("epoch,loss\n0,1\n1,0.5\n")
    callbacks = training.training_callbacks(tmp_path, "net")
    assert (tmp_path / "net_history.csv").read_text() == "epoch,loss\n0,1\n"  # the epoch backed up
    assert [type(c).__name__ for c in callbacks] == [
        "EarlyStopping", "ModelCheckpoint", "CSVLogger", "BackupAndRestore",
    ]  # fmt: skip


# ------------------------------------- notebook 09: runs that finish across restarts


class Stop(Exception):
    """Stands in for a kernel that stops half-way through fit."""


class StopAfter(keras.callbacks.Callback):
    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epochs:
            raise Stop


def tiny_model() -> keras.Model:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def tiny_fit(model, callbacks, epochs=4):
    rng = np.random.default_rng(0)
    x = rng.random((64, 4), dtype=np.float32)
    return model.fit(x, (x.sum(axis=1) > 2).astype(int), epochs=epochs, verbose=0,
                     callbacks=callbacks)  # fmt: skip


def test_a_run_cut_off_resumes_and_its_record_covers_every_epoch(tmp_path, capsys):
    recipe = training.recipe_of({"epochs": 4}, tiny_model)
    assert training.finished_run(tmp_path, "net", recipe) is None
    with pytest.raises(Stop):
        tiny_fit(
            tiny_model(), training.resumable_callbacks(tmp_path, "net", recipe) + [StopAfter(2)]
        )
    assert (tmp_path / "net_backup").is_dir()
    assert training.finished_run(tmp_path, "net", recipe) is None  # cut off: nothing published

    model = tiny_model()
    history = tiny_fit(model, training.resumable_callbacks(tmp_path, "net", recipe))
    assert "net: resuming after epoch 2" in capsys.readouterr().out
    assert len(history.history["loss"]) == 2  # only the epochs left were trained
    record = training.finish_run(model, tmp_path, "net", recipe)
    assert record["epochs"] == 4 and len(record["history"]["seconds"]) == 4
    assert record["minutes"] == pytest.approx(sum(record["history"]["seconds"]) / 60)
    assert not (tmp_path / "net_backup").exists()

    loaded, again = training.finished_run(tmp_path, "net", recipe)
    assert again == record
    for mine, theirs in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert training.finished_run(tmp_path, "net", {**recipe, "epochs": 5}) is None


def test_a_back_up_of_another_recipe_is_set_aside_not_resumed(tmp_path):
    old, new = {"epochs": 4, "lr": 1}, {"epochs": 4, "lr": 2}
    with pytest.raises(Stop):
        tiny_fit(tiny_model(), training.resumable_callbacks(tmp_path, "net", old) + [StopAfter(1)])
    with pytest.warns(training.DamagedBackupWarning, match="another recipe"):
        callbacks = training.resumable_callbacks(tmp_path, "net", new)
    assert (tmp_path / "net_backup.other-recipe" / "latest.weights.h5").exists()
    assert len(tiny_fit(tiny_model(), callbacks).history["loss"]) == 4  # from epoch 1


def test_recipe_changes_with_the_code_and_the_settings():
    def build():
        return 1

    def build_other():
        return 2

    first = training.recipe_of({"seed": 0}, build)
    assert first == training.recipe_of({"seed": 0}, build)
    assert first != training.recipe_of({"seed": 0}, build_other)
    assert first != training.recipe_of({"seed": 1}, build)
    assert first["seed"] == 0 and len(first["code_sha256"]) == 64


def test_a_finished_run_whose_model_is_damaged_says_which_file(tmp_path):
    recipe = {"epochs": 1}
    model = tiny_model()
    tiny_fit(model, training.resumable_callbacks(tmp_path, "net", recipe), epochs=1)
    training.finish_run(model, tmp_path, "net", recipe)
    (tmp_path / "net.keras").write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(saving.ModelFileError, match="net.keras"):
        training.finished_run(tmp_path, "net", recipe)
