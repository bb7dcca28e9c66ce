"""Tests for helpers.maintainer.bench: the results file, the README table, and a tiny benchmark run.

Timings are never asserted: only that they are recorded and the bookkeeping is right.
"""

from __future__ import annotations

import functools
import json
import time

import keras
import numpy as np
import pytest

from helpers import architectures, environment, speed_run
from helpers.maintainer import bench


def fake_results(quick: bool = False) -> dict:
    run = {"seconds": 2.0, "test_accuracy": 0.99}
    summary = {"seeds": [0, 1], "per_seed": [run, run], **bench.summarise_runs([run, run])}
    return {
        "created": "2026-01-01T00:00:00+00:00",
        "quick": quick,
        "n_train": 54_000,
        "n_test": 10_000,
        "machine": {
            "cpu": "Test CPU",
            "cores": 2,
            "avx512_bf16": True,
            "python": "3.11",
            "tensorflow": "2.21.0",
            "keras": "3.15.1",
        },  # fmt: skip
        "architectures": {
            "epochs": 3,
            "batch_size": 128,
            "optimizer": "Adam, one-cycle",
            "rows": [
                {
                    "model": "article CNN",
                    "params": 693_962,
                    "seconds_per_epoch": 7.25,
                    "test_accuracy": 0.9876,
                },  # fmt: skip
                {
                    "model": "small ResNet",
                    "params": 310_570,
                    "seconds_per_epoch": 30.0,
                    "test_accuracy": 0.9921,
                },  # fmt: skip
            ],
        },
        "speed_run": {
            "target_accuracy": 0.99,
            "article_pipeline": {"seconds": 80.0, "test_accuracy": 0.988, "epochs": 10},
            "float32": summary,
            "mixed_bfloat16": summary,
            "speedup_float32": 40.0,
            "speedup_mixed_bfloat16": 40.0,
        },
        "total_seconds": 900.0,
    }


README = """# Title

Intro.

<!-- bench:start -->
old table
<!-- bench:end -->

## Next section
"""


# ------------------------------------------------------------------------ summaries


def test_summarise_runs_mean_and_spread():
    runs = [{"seconds": 1.0, "test_accuracy": 0.98}, {"seconds": 3.0, "test_accuracy": 0.99}]
    summary = bench.summarise_runs(runs)
    assert summary["runs"] == 2
    assert summary["mean_seconds"] == pytest.approx(2.0)
    assert summary["mean_test_accuracy"] == pytest.approx(0.985)
    assert summary["min_test_accuracy"] == 0.98 and summary["max_test_accuracy"] == 0.99


def test_summarise_runs_rejects_no_runs():
    with pytest.raises(ValueError, match="no runs"):
        bench.summarise_runs([])


def test_one_cycle_warms_up_then_decays_to_zero():
    schedule = architectures.one_cycle(1e-2, total_steps=100, warmup_fraction=0.2)
    values = [float(schedule(step)) for step in range(101)]
    assert values[0] == pytest.approx(1e-3)
    assert max(values) == pytest.approx(1e-2)
    assert int(np.argmax(values)) == 20
    assert values[-1] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("kwargs", [{"total_steps": 1}, {"warmup_fraction": 0.0}])
def test_one_cycle_rejects_bad_arguments(kwargs):
    arguments = {"peak_lr": 1e-3, "total_steps": 10, **kwargs}
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        architectures.one_cycle(**arguments)


def test_machine_info_names_the_machine():
    info = environment.machine_info()
    assert set(info) >= {"cpu", "cores", "avx512_bf16", "tensorflow", "keras"}
    assert isinstance(info["avx512_bf16"], bool) and info["cpu"]


def test_cpu_info_reads_the_name_and_flags_of_x86_and_arm(tmp_path):
    x86 = tmp_path / "x86"
    x86.write_text(
        "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512_bf16\n\n"
        "processor\t: 1\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512_bf16\n"
    )
    assert environment.cpu_info(x86) == environment.CpuInfo(
        "AMD EPYC", frozenset({"fpu", "avx2", "avx512_bf16"})
    )
    arm = tmp_path / "arm"
    arm.write_text("processor\t: 0\nFeatures\t: fp asimd bf16\n")
    assert environment.cpu_info(arm).flags == {"fp", "asimd", "bf16"}
    missing = environment.cpu_info(tmp_path / "missing")
    assert missing.flags == frozenset() and missing.name  # the name comes from platform


# --------------------------------------------------------------- results file


def test_write_then_read_results(tmp_path):
    path = bench.write_results(fake_results(), tmp_path / "results" / "bench.json")
    assert path.exists()
    assert bench.read_results(path) == fake_results()
    assert not list(path.parent.glob("*.tmp"))


def test_read_results_explains_a_missing_or_wrong_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m helpers.maintainer.bench"):
        bench.read_results(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        bench.read_results(bad)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"machine": {}}))
    with pytest.raises(ValueError, match="missing"):
        bench.read_results(other)


# ------------------------------------------------------------------ README table


def test_readme_table_lists_every_model_and_the_speed_up():
    table = bench.readme_table(fake_results())
    assert "| article CNN | 693,962 | 7.2 | 98.76% |" in table
    assert "| small ResNet | 310,570 | 30.0 | 99.21% |" in table
    assert "| speed run, float32 | 2 | 2.00 | 99.00% | 40.0x |" in table
    assert "Test CPU (2 cores)" in table
    assert "--quick" not in table
    assert "--quick" in bench.readme_table(fake_results(quick=True))


def test_replace_between_markers_keeps_the_rest():
    new = bench.replace_between_markers(README, "NEW TABLE")
    assert "old table" not in new
    assert "<!-- bench:start -->\nNEW TABLE\n<!-- bench:end -->" in new
    assert new.startswith("# Title\n\nIntro.\n\n") and new.endswith("\n\n## Next section\n")
    assert bench.replace_between_markers(new, "NEW TABLE") == new  # idempotent


@pytest.mark.parametrize(
    "text, message",
    [
        ("no markers at all", "expected one"),
        ("<!-- bench:start -->\n<!-- bench:start -->\n<!-- bench:end -->", "found 2 and 1"),
        ("<!-- bench:end -->\ntext\n<!-- bench:start -->", "comes before"),
    ],
)
def test_replace_between_markers_rejects_bad_markers(text, message):
    with pytest.raises(ValueError, match=message):
        bench.replace_between_markers(text, "table")


def test_main_rewrites_a_readme_from_the_results(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    results = bench.write_results(fake_results(), tmp_path / "bench.json")
    assert bench.main(["--readme", str(readme), "--output", str(results)]) == 0
    text = readme.read_text()
    assert "| small ResNet | 310,570 |" in text and "old table" not in text
    assert text.endswith("## Next section\n")
    assert "updated the results table" in capsys.readouterr().out


def test_main_reports_a_readme_without_markers(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    results = bench.write_results(fake_results(), tmp_path / "bench.json")
    assert bench.main(["--readme", str(readme), "--output", str(results)]) == 1
    assert "README.md" in capsys.readouterr().err
    assert readme.read_text() == "# no markers\n"


# ------------------------------------------------------------- tiny real runs


@pytest.fixture(scope="module")
def tiny_data():
    rng = np.random.default_rng(0)
    x = rng.random((256, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 256)
    return (x[:192], y[:192]), (x[192:], y[192:])


@pytest.mark.slow
def test_compare_architectures_records_one_row_per_model(tiny_data):
    builders = {
        "two-block": architectures.build_two_block_cnn,
        "speed": speed_run.build_speed_cnn,
    }
    start = time.perf_counter()
    rows = bench.compare_architectures(tiny_data, builders=builders, epochs=1, batch_size=64)
    elapsed = time.perf_counter() - start
    assert [row["model"] for row in rows] == ["two-block", "speed"]
    assert rows[0]["params"] == 34_826
    assert 0 < sum(row["seconds_per_epoch"] for row in rows) <= elapsed
    n_test = len(tiny_data[1][1])
    for row in rows:  # scored on the 64 test images: a whole number of them right
        assert row["test_accuracy"] * n_test == pytest.approx(round(row["test_accuracy"] * n_test))


def test_compare_architectures_runs_notebook_08s_loop(monkeypatch, tiny_data):
    calls = {}

    def fake_compare_models(builders, train, scored, epochs, batch_size, peak_lr, seed):
        calls.update(builders=builders, n_train=len(train[0]), scored=list(scored), epochs=epochs)
        row = {"model": "m", "parameters": 10, "seconds per epoch": 2.0, "test accuracy": 0.5}
        return [row], {}

    monkeypatch.setattr(architectures, "compare_models", fake_compare_models)
    builders = {"m": architectures.build_two_block_cnn}
    rows = bench.compare_architectures(tiny_data, builders=builders, epochs=2)
    assert rows == [{"model": "m", "params": 10, "seconds_per_epoch": 2.0, "test_accuracy": 0.5}]
    assert calls == {"builders": builders, "n_train": 192, "scored": ["test"], "epochs": 2}


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_speed_run_trains_and_restores_the_policy(tiny_data, precision):
    start = time.perf_counter()
    result = bench.speed_run(tiny_data, seed=0, precision=precision, batch_size=64)
    assert 0 < result["seconds"] <= time.perf_counter() - start
    right = result["test_accuracy"] * len(tiny_data[1][1])  # of the 64 test images
    assert right == pytest.approx(round(right))
    assert keras.mixed_precision.global_policy().name == "float32"


def test_speed_run_rejects_an_unknown_precision(tiny_data):
    with pytest.raises(ValueError, match="precision"):
        bench.speed_run(tiny_data, seed=0, precision="float16")


def test_bench_times_notebook_10s_own_functions(monkeypatch, tiny_data):
    calls = {}

    def fake_speed_run(images, labels, x_test, y_test, seed, precision, **recipe):
        calls["speed"] = (images.shape, labels.shape, len(x_test), seed, precision, recipe)
        return 1.5, 0.99

    def fake_article(x_train, y_train, x_test, y_test, epochs, batch_size, learning_rate):
        calls["article"] = (len(x_train), epochs, batch_size, learning_rate)
        return 40.0, 0.98

    monkeypatch.setattr(speed_run, "time_speed_run", fake_speed_run)
    monkeypatch.setattr(speed_run, "time_article_pipeline", fake_article)
    result = bench.speed_run(tiny_data, seed=3, precision="mixed_bfloat16", batch_size=64)
    assert result == {"seconds": 1.5, "test_accuracy": 0.99}
    assert calls["speed"] == (
        (192, 28, 28, 1), (192, 10), 64, 3, "mixed_bfloat16", {"batch_size": 64}
    )  # fmt: skip
    article = bench.article_pipeline(tiny_data, epochs=2)
    assert article == {"seconds": 40.0, "test_accuracy": 0.98, "epochs": 2}
    assert calls["article"] == (192, 2, bench.ARTICLE_BATCH_SIZE, bench.ARTICLE_LR)


@pytest.mark.slow
def test_run_benchmarks_end_to_end_on_tiny_data(monkeypatch, tmp_path, tiny_data):
    (x_train, y_train), (x_test, y_test) = tiny_data
    split = ((x_train, y_train), (x_test[:32], y_test[:32]), (x_test, y_test))
    monkeypatch.setattr("helpers.data.prepare_mnist", lambda n_train=None: split)
    monkeypatch.setattr(
        architectures,
        "comparison_builders",
        lambda: {"two-block": architectures.build_two_block_cnn},
    )
    monkeypatch.setattr(bench, "SPEED_SEEDS", (0,))
    monkeypatch.setattr(bench, "speed_run", functools.partial(bench.speed_run, batch_size=64))
    results = bench.run_benchmarks(quick=True)
    assert results["quick"] is True and results["n_train"] == 192
    assert [row["model"] for row in results["architectures"]["rows"]] == ["two-block"]
    assert results["speed_run"]["float32"]["runs"] == 1
    speed = results["speed_run"]
    assert speed["speedup_float32"] == pytest.approx(
        speed["article_pipeline"]["seconds"] / speed["float32"]["mean_seconds"]
    )  # the article pipeline's time over the speed run's, both timed in this run
    assert speed["article_pipeline"]["seconds"] < results["total_seconds"]
    path = bench.write_results(results, tmp_path / "bench.json")
    readme = tmp_path / "README.md"
    readme.write_text(README)
    bench.update_readme(readme, path)
    assert "| two-block | 34,826 |" in readme.read_text()


@pytest.mark.slow
def test_best_recipe_trial_scores_each_recipe_on_validation_images(monkeypatch, tiny_data):
    (x_train, y_train), (x_val, y_val) = tiny_data
    as_bytes = (
        (np.asarray(x_train) * 255).astype(np.uint8),
        (np.asarray(x_val) * 255).astype(np.uint8),
    )
    split = ((as_bytes[0], y_train), (as_bytes[1][..., 0], y_val), (as_bytes[1][:0], y_val[:0]))
    monkeypatch.setattr("helpers.data.prepare_mnist", lambda n_train=None, scale=True: split)
    rows = bench.best_recipe_trial(epochs=1)
    assert [row["recipe"] for row in rows] == list(bench.BEST_RECIPES)
    assert [row["parameters"] for row in rows] == [341_162, 341_162]
    assert rows[0]["time_ratio"] == 1.0
    assert rows[1]["time_ratio"] == pytest.approx(rows[1]["minutes"] / rows[0]["minutes"])
    for row in rows:
        assert row["epochs"] == 1
        for key in ("", "_shifted"):
            accuracy, errors = row[f"validation_accuracy{key}"], row[f"validation_errors{key}"]
            assert errors == round((1 - accuracy) * len(y_val))
