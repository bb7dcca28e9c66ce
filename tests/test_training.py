"""Tests for helpers.training: saving, loading and reading training histories."""

from __future__ import annotations

import json
import math

import keras
import pytest

from helpers import training

HISTORY = {
    "accuracy": [0.90, 0.95, 0.97],
    "loss": [0.30, 0.15, 0.10],
    "val_accuracy": [0.96, 0.98, 0.975],
    "val_loss": [0.12, 0.07, 0.08],
}


# ------------------------------------------------------------------ save / load


def test_save_then_load_round_trip(tmp_path):
    path = training.save_history(HISTORY, tmp_path / "history.json")
    assert path == tmp_path / "history.json"
    assert training.load_history(path) == HISTORY
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_save_accepts_a_keras_history_object(tmp_path):
    history = keras.callbacks.History()
    history.history = {"loss": [1, 0.5], "val_loss": [1.2, 0.7]}  # ints become floats
    path = training.save_history(history, tmp_path / "history.json")
    assert json.loads(path.read_text()) == {"loss": [1.0, 0.5], "val_loss": [1.2, 0.7]}


def test_save_creates_missing_folders(tmp_path):
    path = training.save_history(HISTORY, tmp_path / "a" / "b" / "history.json")
    assert path.exists()


def test_save_overwrites_an_existing_history(tmp_path):
    path = tmp_path / "history.json"
    training.save_history({"loss": [9.0]}, path)
    training.save_history(HISTORY, path)
    assert training.load_history(path) == HISTORY


def test_save_keeps_nan_and_load_reads_it_back(tmp_path):
    path = training.save_history({"loss": [0.5, float("nan")]}, tmp_path / "h.json")
    loaded = training.load_history(path)
    assert loaded["loss"][0] == 0.5 and math.isnan(loaded["loss"][1])


def test_save_rejects_non_numbers(tmp_path):
    with pytest.raises(ValueError, match="history\\['loss'\\] is not a list of numbers"):
        training.save_history({"loss": ["low", "lower"]}, tmp_path / "h.json")
    assert not (tmp_path / "h.json").exists()


def test_load_missing_file_names_it_and_the_fix(tmp_path):
    path = tmp_path / "article_cnn_history.json"
    with pytest.raises(FileNotFoundError) as info:
        training.load_history(path)
    assert str(path) in str(info.value)
    assert "04_training" in str(info.value)


def test_load_rejects_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "history.json"
    path.write_text("epoch,loss\n1,0.3\n")  # a CSV log, not the JSON history
    with pytest.raises(ValueError, match="not JSON, so not a training history"):
        training.load_history(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ([0.3, 0.2], "expected a dict of lists"),
        ({}, "expected a dict of lists"),
        ({"loss": 0.3}, "history\\['loss'\\] is not a list of numbers"),
        ({"loss": [0.3, "x"]}, "history\\['loss'\\] is not a list of numbers"),
    ],
)
def test_load_rejects_json_that_is_not_a_history(tmp_path, content, message):
    path = tmp_path / "history.json"
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=message):
        training.load_history(path)


def test_load_rejects_metrics_of_unequal_length(tmp_path):
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"loss": [0.3, 0.2, 0.1], "val_loss": [0.4, 0.3]}))
    with pytest.raises(ValueError, match=r"different numbers of epochs \[2, 3\]"):
        training.load_history(path)


# -------------------------------------------------------------------- best_epoch


def test_best_epoch_lowest_loss_is_one_based():
    assert training.best_epoch(HISTORY) == 2
    assert training.best_epoch(HISTORY, "loss") == 3


def test_best_epoch_highest_accuracy():
    assert training.best_epoch(HISTORY, "val_accuracy") == 2
    assert training.best_epoch(HISTORY, "accuracy") == 3


def test_best_epoch_first_of_ties():
    assert training.best_epoch({"val_loss": [0.2, 0.1, 0.1]}) == 2


def test_best_epoch_ignores_nan():
    assert training.best_epoch({"val_loss": [float("nan"), 0.3, 0.2]}) == 3
    assert training.best_epoch({"val_accuracy": [0.5, float("nan")]}, "val_accuracy") == 1


def test_best_epoch_missing_metric_lists_the_available_ones():
    with pytest.raises(KeyError, match="'val_acc' not in history; available: .*val_accuracy"):
        training.best_epoch(HISTORY, "val_acc")
