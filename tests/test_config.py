"""Tests for helpers.config: the mode switch, paths and seeding."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import config


@pytest.mark.parametrize(
    "value, fast",
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("", False)],
)
def test_fast_mode_reads_the_environment(monkeypatch, value, fast):
    monkeypatch.setenv(config.FAST_ENV, value)
    assert config.fast_mode() is fast
    assert config.mode_name() == ("fast" if fast else "full")
    assert config.describe_mode().startswith(f"Mode: {config.mode_name()}")


def test_full_mode_when_unset(monkeypatch):
    monkeypatch.delenv(config.FAST_ENV, raising=False)
    assert not config.fast_mode()
    assert config.describe_mode().startswith("Mode: full")


def test_data_dir_override(monkeypatch, tmp_path):
    monkeypatch.delenv(config.DATA_DIR_ENV, raising=False)
    assert config.data_dir() == config.REPO_ROOT / "data"
    monkeypatch.setenv(config.DATA_DIR_ENV, str(tmp_path))
    assert config.data_dir() == tmp_path


def test_models_dir_separates_fast_runs(monkeypatch, tmp_path):
    monkeypatch.setenv(config.MODELS_DIR_ENV, str(tmp_path / "m"))
    monkeypatch.setenv(config.FAST_ENV, "0")
    assert config.models_dir() == tmp_path / "m"
    monkeypatch.setenv(config.FAST_ENV, "1")
    assert config.models_dir() == tmp_path / "m" / "fast"
    assert (tmp_path / "m" / "fast").is_dir()
    assert config.models_dir(create=False) == tmp_path / "m" / "fast"


def test_set_seed_makes_numpy_and_tensorflow_repeatable():
    import keras

    config.set_seed(7)
    first = (np.random.rand(3), keras.random.uniform((3,)).numpy())
    config.set_seed(7)
    second = (np.random.rand(3), keras.random.uniform((3,)).numpy())
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    config.set_seed(8)
    assert not np.array_equal(first[0], np.random.rand(3))


def test_logs_dir_separates_fast_runs(monkeypatch, tmp_path):
    monkeypatch.setenv(config.LOGS_DIR_ENV, str(tmp_path / "l"))
    monkeypatch.setenv(config.FAST_ENV, "0")
    assert config.logs_dir() == tmp_path / "l"
    monkeypatch.setenv(config.FAST_ENV, "1")
    assert config.logs_dir() == tmp_path / "l" / "fast"
