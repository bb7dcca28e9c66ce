"""Tests for helpers.distribute, .worker and .precision: batches, the loop, TF_CONFIG, clusters."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from helpers import config, distribute, precision, worker

REAL_CACHE = config.REPO_ROOT / "data" / "mnist.npz"
needs_mnist = pytest.mark.skipif(
    not REAL_CACHE.exists(), reason="data/mnist.npz is missing: run `python -m helpers.data`"
)


# ------------------------------------------------------------------ batch arithmetic


@pytest.mark.parametrize(
    "per_replica, replicas, expected", [(128, 1, 128), (64, 2, 128), (128, 8, 1024)]
)
def test_global_batch_size(per_replica, replicas, expected):
    assert distribute.global_batch_size(per_replica, replicas) == expected


@pytest.mark.parametrize("per_replica, replicas", [(0, 2), (64, 0), (-1, 2), (64, 1.5), (True, 2)])
def test_global_batch_size_rejects_bad_values(per_replica, replicas):
    with pytest.raises(ValueError, match="positive integer"):
        distribute.global_batch_size(per_replica, replicas)


def test_scaled_learning_rate_linear_and_sqrt():
    assert distribute.scaled_learning_rate(1e-3, 128) == pytest.approx(1e-3)
    assert distribute.scaled_learning_rate(1e-3, 1024) == pytest.approx(8e-3)
    assert distribute.scaled_learning_rate(1e-3, 64) == pytest.approx(5e-4)
    assert distribute.scaled_learning_rate(1e-3, 1024, rule="sqrt") == pytest.approx(
        1e-3 * math.sqrt(8)
    )
    assert distribute.scaled_learning_rate(0.1, 512, base_batch=256) == pytest.approx(0.2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"base": 0, "global_batch": 128}, "base learning rate"),
        ({"base": 1e-3, "global_batch": 0}, "global_batch"),
        ({"base": 1e-3, "global_batch": 128, "base_batch": 0}, "base_batch"),
        ({"base": 1e-3, "global_batch": 128, "rule": "cubic"}, "rule"),
    ],
)
def test_scaled_learning_rate_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        distribute.scaled_learning_rate(**kwargs)


def test_warmup_cosine_schedule_rises_then_decays():
    schedule = distribute.warmup_cosine_schedule(1e-3, 8e-3, total_steps=100, warmup_steps=10)
    rates = [float(schedule(step)) for step in (0, 5, 10, 55, 100)]
    assert rates[0] == pytest.approx(1e-3)
    assert rates[1] == pytest.approx(4.5e-3)
    assert rates[2] == pytest.approx(8e-3)
    assert rates[3] == pytest.approx(4e-3, rel=1e-3)  # half way down the cosine
    assert rates[4] == pytest.approx(0.0, abs=1e-9)
    flat = distribute.warmup_cosine_schedule(1e-3, 1e-3, total_steps=10, warmup_steps=0)
    assert float(flat(0)) == pytest.approx(1e-3)


@pytest.mark.parametrize(
    "args, message",
    [((0, 1e-3, 10, 1), "positive"), ((1e-3, 1e-3, 10, 10), "warmup_steps < total_steps")],
)
def test_warmup_cosine_schedule_rejects_bad_values(args, message):
    with pytest.raises(ValueError, match=message):
        distribute.warmup_cosine_schedule(*args)


# ---------------------------------------------------------------- mixed precision


def test_cpu_flags_reads_x86_and_arm_formats(tmp_path):
    x86 = tmp_path / "x86"
    x86.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512_bf16\n\nflags : other\n")
    assert precision.cpu_flags(x86) == {"fpu", "sse2", "avx2", "avx512_bf16"}
    arm = tmp_path / "arm"
    arm.write_text("processor : 0\nFeatures : fp asimd bf16\n")
    assert precision.cpu_flags(arm) == {"fp", "asimd", "bf16"}
    assert precision.cpu_flags(tmp_path / "missing") == set()


def test_seconds_per_step_times_and_restores_the_policy():
    rng = np.random.default_rng(0)
    images = rng.random((48, 28, 28, 1), dtype=np.float32)
    labels = rng.integers(0, 10, 48)
    keras.config.set_dtype_policy("float32")
    start = time.perf_counter()
    seconds = precision.seconds_per_step("mixed_bfloat16", images, labels, batch_size=16)
    assert 0 < seconds < (time.perf_counter() - start) / 2  # per step, of several steps
    assert keras.config.dtype_policy().name == "float32"
    with pytest.raises(ValueError):
        precision.seconds_per_step("no_such_policy", images, labels, batch_size=16)
    assert keras.config.dtype_policy().name == "float32"
    with pytest.raises(ValueError, match="at least 32 images"):
        precision.seconds_per_step("float32", images[:20], labels[:20], batch_size=16)


# ------------------------------------------------------------- the training loop


def tiny_digits(n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n)


def test_distributed_dataset_gives_each_replica_its_share_of_the_global_batch():
    import tensorflow as tf

    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    images, labels = tiny_digits(40)
    batches = iter(distribute.distributed_dataset(strategy, images, labels, global_batch=16))
    first_images, first_labels = next(batches)
    assert first_images.shape == (16, 28, 28, 1) and first_labels.shape == (16,)
    seen = np.concatenate([next(batches)[1].numpy() for _ in range(4)])  # endless: repeats
    assert len(seen) == 64 and set(seen) <= set(labels)


def test_train_with_loop_reports_the_mean_loss_and_accuracy_of_the_global_batch():
    import tensorflow as tf

    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    images, labels = tiny_digits(64)
    config.set_seed(0)
    with strategy.scope():  # no dropout, and a zero learning rate: the weights stay put
        model = keras.Sequential(
            [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")]
        )
        optimizer = keras.optimizers.SGD(learning_rate=0.0)
    lines = []
    history, steps = distribute.train_with_loop(
        strategy, model, optimizer, images, labels, global_batch=32, epochs=2, log=lines.append
    )
    probs = model(images, training=False).numpy()
    mean_loss = keras.losses.sparse_categorical_crossentropy(labels, probs).numpy().mean()
    assert steps == 2 and len(lines) == 2
    assert lines[1].startswith("epoch 2/2: 2 steps of 32 images (32 per replica), loss ")
    assert history["loss"] == pytest.approx([mean_loss] * 2, rel=1e-5)
    assert history["accuracy"] == pytest.approx([np.mean(probs.argmax(axis=1) == labels)] * 2)


# ---------------------------------------------------------------- cluster set-up


def test_free_ports_are_distinct_and_bindable():
    ports = distribute.free_ports(3)
    assert len(set(ports)) == 3 and all(1024 <= p <= 65535 for p in ports)
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
    with pytest.raises(ValueError, match="at least 1"):
        distribute.free_ports(0)


def test_tf_config_for_localhost_ports_and_hosts():
    assert distribute.tf_config([2222, 2223], 1) == {
        "cluster": {"worker": ["localhost:2222", "localhost:2223"]},
        "task": {"type": "worker", "index": 1},
    }
    hosts = ["10.0.0.1:12345", "10.0.0.2:12345"]
    assert distribute.tf_config(hosts, 0)["cluster"]["worker"] == hosts


@pytest.mark.parametrize(
    "workers, index, message",
    [
        ([], 0, "empty"),
        ([2222, 2222], 0, "duplicate"),
        (["10.0.0.1"], 0, "host:port"),
        ([2222, 2223], 2, "between 0 and 1"),
        ([2222, 2223], -1, "between 0 and 1"),
    ],
)
def test_tf_config_rejects_bad_clusters(workers, index, message):
    with pytest.raises(ValueError, match=message):
        distribute.tf_config(workers, index)


def test_tf_config_is_what_tensorflow_reads(monkeypatch):
    import tensorflow as tf

    monkeypatch.setenv("TF_CONFIG", json.dumps(distribute.tf_config([2222, 2223, 2224], 2)))
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    assert resolver.cluster_spec().num_tasks("worker") == 3
    assert (resolver.task_type, resolver.task_id) == ("worker", 2)


def test_one_line_keeps_first_and_last_lines():
    error = ValueError("Attempt to convert (PerReplica:{\n  0: tensor\n}) to a Tensor.")
    assert worker.one_line(error) == (
        "ValueError: Attempt to convert (PerReplica:{ ... }) to a Tensor."
    )


def test_run_local_cluster_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="n_workers"):
        distribute.run_local_cluster(0, workdir=tmp_path)
    with pytest.raises(ValueError, match="trainer"):
        distribute.run_local_cluster(2, workdir=tmp_path, trainer="keras")


# ------------------------------------------------------------------ real workers


@pytest.mark.slow
@needs_mnist
def test_two_workers_train_in_sync_and_the_chief_saves(tmp_path):
    results = distribute.run_local_cluster(2, workdir=tmp_path, n_train=1024, epochs=1)
    chief, other = results
    assert [r["index"] for r in results] == [0, 1]
    assert (chief["is_chief"], other["is_chief"]) == (True, False)
    for result in results:
        assert result["replicas"] == 2 and result["global_batch"] == 128
        assert result["steps_per_epoch"] == 8  # 1,024 images / 128 per step
        assert result["learning_rate"] == pytest.approx(1e-3)
        assert f"[worker {result['index']}] epoch 1/1" in result["log"]
        assert 0 < result["train_seconds"] < result["seconds"]
        assert result["peak_memory_mb"] > 100  # a process with TensorFlow loaded
    # Synchronous training: both copies end with the same weights, loss and accuracy.
    assert chief["weights_sha256"] == other["weights_sha256"]
    assert chief["history"] == other["history"]
    assert chief["test_accuracy"] == other["test_accuracy"] > 0.3
    assert other["model_path"] is None
    model = keras.saving.load_model(chief["model_path"])
    assert chief["model_path"] == str(tmp_path / "model.keras")
    from helpers import data

    (x_test, y_test) = data.prepare_mnist(n_train=1)[2]
    accuracy = np.mean(model.predict(x_test, verbose=0).argmax(axis=1) == y_test)
    assert accuracy == pytest.approx(chief["test_accuracy"], abs=1e-4)


@pytest.mark.slow
@needs_mnist
def test_failing_workers_raise_with_their_error(tmp_path):
    with pytest.raises(distribute.WorkerError) as info:
        distribute.run_local_cluster(2, workdir=tmp_path, n_train=16, per_replica_batch=64)
    message = str(info.value)
    assert "failed (ValueError: n_train=16 is less than one global batch (128))" in message
    assert "--- end of" in message and "worker-" in message


def test_timeout_stops_the_workers(tmp_path):
    with pytest.raises(distribute.ClusterTimeoutError, match="still running after 0.5 s"):
        distribute.run_local_cluster(2, workdir=tmp_path, timeout_s=0.5)


@pytest.mark.slow
@needs_mnist
def test_worker_without_tf_config_is_a_cluster_of_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(CUDA_VISIBLE_DEVICES="-1", TF_CPP_MIN_LOG_LEVEL="2")
    result_path = tmp_path / "result.json"
    command = [
        sys.executable, "-m", "helpers.distribute", "worker", "--result", str(result_path),
        "--n-train", "256", "--per-replica-batch", "32", "--save", str(tmp_path / "m.keras"),
    ]  # fmt: skip
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = json.loads(result_path.read_text())
    assert (result["replicas"], result["global_batch"], result["steps_per_epoch"]) == (1, 32, 8)
    assert result["learning_rate"] == pytest.approx(2.5e-4)  # 1e-3 * 32 / 128
    assert result["is_chief"] and (tmp_path / "m.keras").exists()
