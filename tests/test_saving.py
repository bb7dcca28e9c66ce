"""Tests for helpers.saving: only safe .keras files load; saves are atomic."""

from __future__ import annotations

import pickle

import keras
import numpy as np
import pytest

from helpers import saving


def tiny_model(with_lambda: bool = False) -> keras.Model:
    layers = [keras.Input(shape=(4,)), keras.layers.Dense(2, name="out")]
    if with_lambda:
        layers.insert(1, keras.layers.Lambda(lambda x: x * 2))
    return keras.Sequential(layers)


def test_save_and_load_round_trip(tmp_path):
    model = tiny_model()
    path = saving.save_model_atomically(model, tmp_path / "m.keras")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]  # no partial file left
    loaded = saving.load_keras_model(path)
    x = np.ones((3, 4), dtype=np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_refuses_other_suffixes(tmp_path):
    with pytest.raises(saving.ModelFileError, match=r"must end in \.keras"):
        saving.save_model_atomically(tiny_model(), tmp_path / "m.h5")


def test_failed_save_leaves_nothing(tmp_path, monkeypatch):
    model = tiny_model()

    def broken_save(path, *args, **kwargs):
        open(path, "wb").write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        saving.save_model_atomically(model, tmp_path / "m.keras")
    assert list(tmp_path.iterdir()) == []


def test_missing_file(tmp_path):
    with pytest.raises(saving.ModelFileError, match="no such model file"):
        saving.load_keras_model(tmp_path / "nope.keras")


@pytest.mark.parametrize("name", ["model.pkl", "model.h5", "model.txt"])
def test_other_formats_are_never_opened(tmp_path, name, monkeypatch):
    path = tmp_path / name
    path.write_bytes(pickle.dumps({"not": "a model"}))
    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **k: pytest.fail("opened"))
    with pytest.raises(saving.ModelFileError, match=r"not a \.keras file"):
        saving.load_keras_model(path)


def test_pickle_renamed_to_keras_is_refused(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(pickle.dumps({"not": "a model"}))
    with pytest.raises(saving.ModelFileError, match="not a Keras model"):
        saving.load_keras_model(path)


def test_lambda_layer_is_refused(tmp_path):
    path = tmp_path / "lambda.keras"
    tiny_model(with_lambda=True).save(path)
    with pytest.raises(saving.ModelFileError, match="Lambda"):
        saving.load_keras_model(path)


def test_damaged_archive(tmp_path):
    path = tmp_path / "m.keras"
    saving.save_model_atomically(tiny_model(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(saving.ModelFileError):
        saving.load_keras_model(path)


def test_find_course_model_prefers_the_best(tmp_path):
    assert saving.find_course_model(tmp_path) is None
    (tmp_path / "article_cnn.keras").write_bytes(b"x")
    assert saving.find_course_model(tmp_path)[0].name == "article_cnn.keras"
    (tmp_path / "best_model.keras").write_bytes(b"x")
    path, description = saving.find_course_model(tmp_path)
    assert path.name == "best_model.keras" and "09_best_model" in description


def test_load_course_model_loads_the_best_safely(tmp_path):
    assert saving.load_course_model(tmp_path) is None
    saving.save_model_atomically(tiny_model(), tmp_path / "article_cnn.keras")
    model, path, description = saving.load_course_model(tmp_path)
    assert path.name == "article_cnn.keras" and "04_training" in description
    assert model.output_shape == (None, 2)
    (tmp_path / "best_model.keras").write_bytes(b"not a model")
    with pytest.raises(saving.ModelFileError, match="best_model.keras"):
        saving.load_course_model(tmp_path)


def test_an_unreadable_good_model_is_not_called_damaged(tmp_path, monkeypatch):
    path = saving.save_model_atomically(tiny_model(), tmp_path / "good.keras")
    real_open = type(path).open

    def no_permission(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(type(path), "open", no_permission)  # as for a user without read rights
    with pytest.raises(saving.ModelFileError, match="permission denied") as info:
        saving.load_keras_model(path)
    assert "delete" not in str(info.value) and "save the model again" not in str(info.value)


def test_a_link_loop_a_dangling_link_and_a_folder_each_name_their_cause(tmp_path):
    loop = tmp_path / "loop.keras"
    loop.symlink_to(loop)
    with pytest.raises(saving.ModelFileError, match="loop of symbolic links"):
        saving.load_keras_model(loop)
    dangling = tmp_path / "dangling.keras"
    dangling.symlink_to(tmp_path / "gone.keras")
    with pytest.raises(saving.ModelFileError, match="link to a missing file"):
        saving.load_keras_model(dangling)
    folder = tmp_path / "folder.keras"
    folder.mkdir()
    with pytest.raises(saving.ModelFileError, match="not a regular file"):
        saving.load_keras_model(folder)


def test_a_truncated_archive_is_called_damaged(tmp_path):
    path = saving.save_model_atomically(tiny_model(), tmp_path / "m.keras")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(saving.ModelFileError, match="truncated or damaged"):
        saving.load_keras_model(path)


def test_json_is_written_atomically_and_nan_refused_unless_asked(tmp_path):
    path = saving.write_json_atomically({"accuracy": 0.99}, tmp_path / "r.json")
    assert path.read_text() == '{\n "accuracy": 0.99\n}\n'
    with pytest.raises(ValueError):
        saving.write_json_atomically({"accuracy": float("nan")}, path)
    assert path.read_text() == '{\n "accuracy": 0.99\n}\n'  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # and no temporary file left
    saving.write_json_atomically({"loss": [float("nan")]}, path, allow_nan=True)
    assert "NaN" in path.read_text()
