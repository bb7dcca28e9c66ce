"""One worker of notebook 13's local cluster, started by ``distribute.run_local_cluster``.

``train_worker`` runs in each worker process (``python -m helpers.distribute worker``): it
creates a ``tf.distribute.MultiWorkerMirroredStrategy`` from ``$TF_CONFIG``, trains the
article CNN on its share of each batch with notebook 13's ``train_with_loop`` (Keras 3's
``model.fit`` does not work with that strategy, see ``distribute.TRAINERS``), and returns
its metrics; the chief (worker 0) also saves the model.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from helpers import config, data, distribute, models, saving


def _weights_sha256(model: Any) -> str:
    """Return the SHA-256 of all the model's weights: equal on workers that are in sync."""
    digest = hashlib.sha256()
    for weight in model.weights:
        digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    return digest.hexdigest()


def _peak_memory_mb() -> float | None:
    """Return this process's peak resident memory in MB; None where ``resource`` is missing."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, kB elsewhere
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _test_accuracy(model: Any, x_test: np.ndarray, y_test: np.ndarray) -> float:
    """Return the accuracy of this worker's copy of the model, computed locally.

    Batches of 250 keep the worker's peak memory low: each batch's activations are
    allocated afresh (this runs eagerly), and the first convolution's output for 1,000
    images alone is 86 MB.
    """
    predictions = [
        np.asarray(model(x_test[start : start + 250], training=False)).argmax(axis=1)
        for start in range(0, len(x_test), 250)
    ]
    return float(np.mean(np.concatenate(predictions) == y_test))


def _train_with_fit(
    model: Any,
    x_train: np.ndarray,
    y_train: np.ndarray,
    global_batch: int,
    epochs: int,
    seed: int,
    log: Callable[[str], None],
) -> tuple[dict[str, list[float]], int]:
    """Train with ``model.fit``; return the history and steps per epoch (fails in Keras 3.15)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(
        len(x_train), seed=seed
    )
    dataset = dataset.batch(global_batch, drop_remainder=True).with_options(options)
    steps = len(x_train) // global_batch
    fitted = model.fit(dataset, epochs=epochs, steps_per_epoch=steps, verbose=2)
    history = {key: [float(v) for v in fitted.history[key]] for key in ("loss", "accuracy")}
    log(f"model.fit done: loss {history['loss'][-1]:.4f}, accuracy {history['accuracy'][-1]:.4f}")
    return history, steps


def _task(strategy: tf.distribute.Strategy) -> tuple[str, int, bool]:
    """Return this process's task name ("worker 1"), index, and whether it is the chief."""
    resolver = strategy.cluster_resolver
    task_type, task_id = resolver.task_type or "worker", int(resolver.task_id or 0)
    is_chief = task_type == "chief" or (task_type == "worker" and task_id == 0)
    return f"{task_type} {task_id}", task_id, is_chief


def _train(
    trainer: str,
    strategy: tf.distribute.Strategy,
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    data_and_schedule: tuple[np.ndarray, np.ndarray, int, int, int],
    log: Callable[[str], None],
) -> tuple[dict[str, list[float]], int]:
    """Train with notebook 13's loop, or with ``fit``; return (history, steps per epoch).

    ``data_and_schedule`` is ``(images, labels, global_batch, epochs, seed)``.
    """
    if trainer == "loop":
        return distribute.train_with_loop(strategy, model, optimizer, *data_and_schedule, log)
    with strategy.scope():
        model.compile(
            optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
    return _train_with_fit(model, *data_and_schedule, log)


def train_worker(
    n_train: int = 1024,
    epochs: int = 1,
    per_replica_batch: int = 64,
    base_learning_rate: float = distribute.BASE_LEARNING_RATE,
    save_path: Path | None = None,
    trainer: str = "loop",
    seed: int = config.DEFAULT_SEED,
) -> dict[str, Any]:
    """Train the article CNN as one worker of the cluster described by ``$TF_CONFIG``.

    Without ``TF_CONFIG`` this process is a cluster of one. The learning rate is
    ``scaled_learning_rate(base_learning_rate, global batch)``. The chief (worker 0) saves
    the model to ``save_path`` if given. Returns a dict with the task, replicas, batch
    sizes, learning rate, per-epoch ``history``, ``test_accuracy`` of this worker's copy,
    ``weights_sha256`` (equal on all workers when training was synchronous), ``model_path``
    (None except on the chief), ``train_seconds`` (the training alone), ``seconds`` (all of
    this function) and ``peak_memory_mb`` (this process's peak resident memory, or None
    where the ``resource`` module is missing).
    Raises ``ValueError`` for an unknown ``trainer`` or too little data for one step.
    """
    if trainer not in distribute.TRAINERS:
        raise ValueError(f"trainer must be one of {distribute.TRAINERS}, got {trainer!r}")
    start = time.perf_counter()
    # The strategy must exist before any other TensorFlow op runs in this process.
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    name, task_id, is_chief = _task(strategy)

    def log(message: str) -> None:
        print(f"[{name}] {message}", flush=True)

    config.set_seed(seed)
    replicas = strategy.num_replicas_in_sync
    global_batch = distribute.global_batch_size(per_replica_batch, replicas)
    learning_rate = distribute.scaled_learning_rate(base_learning_rate, global_batch)
    log(
        f"{replicas} replicas in sync; global batch {global_batch}; learning rate {learning_rate:g}"
    )
    (x_train, y_train), _, (x_test, y_test) = data.prepare_mnist(n_train=n_train, seed=seed)
    if len(x_train) < global_batch:
        raise ValueError(f"n_train={len(x_train)} is less than one global batch ({global_batch})")
    with strategy.scope():  # variables created here are mirrored on every replica
        model = models.build_article_cnn()
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    train_start = time.perf_counter()
    schedule = (x_train, y_train, global_batch, epochs, seed)
    history, steps = _train(trainer, strategy, model, optimizer, schedule, log)
    train_seconds = time.perf_counter() - train_start
    test_accuracy, weights = _test_accuracy(model, x_test, y_test), _weights_sha256(model)
    log(f"test accuracy of this worker's copy {test_accuracy:.4f}; weights sha256 {weights[:16]}")
    model_path = None
    if is_chief and save_path is not None:
        model_path = str(saving.save_model_atomically(model, save_path))
        log(f"chief saved the model to {save_path}")
    return {
        "task": name, "index": task_id, "is_chief": is_chief, "trainer": trainer,
        "replicas": replicas, "per_replica_batch": per_replica_batch,
        "global_batch": global_batch, "learning_rate": learning_rate,
        "steps_per_epoch": steps, "history": history, "test_accuracy": test_accuracy,
        "weights_sha256": weights, "model_path": model_path, "train_seconds": train_seconds,
        "seconds": time.perf_counter() - start, "peak_memory_mb": _peak_memory_mb(),
    }  # fmt: skip


def one_line(exc: BaseException) -> str:
    """Return ``Type: first line ... last line`` of an exception message."""
    lines = [line for line in str(exc).strip().splitlines() if line.strip()] or [""]
    text = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1].strip()}"
    return f"{type(exc).__name__}: {text[:400]}"
