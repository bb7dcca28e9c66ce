"""Distributed training, introduced in notebook 13: batch arithmetic, the loop, a local cluster.

The lesson code (global batch, learning-rate scaling and warm-up, the distributed dataset,
the ``strategy.run`` training step and loop) is written in notebook 13's cells and copied
into the generated block below. The rest is the cluster's plumbing:

- ``run_local_cluster(n_workers=2, ...)`` starts ``n_workers`` processes, each running
  ``python -m helpers.distribute worker ...`` (``helpers.worker.train_worker``) with its
  own ``TF_CONFIG`` naming the same loopback ports, waits for them (with a timeout) and
  returns what each one wrote;
- ``free_ports`` and ``tf_config`` are the two halves of a cluster's address book.

Notebook 13 also times steps under dtype policies, with ``helpers.precision``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from helpers import config, saving

TRAINERS = ("loop", "fit")  # "fit" fails with MultiWorkerMirroredStrategy in Keras 3.15
DEFAULT_TIMEOUT_S = 300.0
STDERR_TAIL_LINES = 15


class WorkerError(RuntimeError):
    """A worker of a local cluster failed; the message holds the end of its stderr."""


class ClusterTimeoutError(WorkerError):
    """The workers of a local cluster did not all finish within the timeout."""


# >>> notebooks/13_scaling.ipynb (generated: python -m helpers.maintainer.lessons)
BASE_BATCH_SIZE = 128  # the article's batch, at which Adam(learning_rate=1e-3) was tuned
BASE_LEARNING_RATE = 1e-3


def positive_int(name: str, value: int) -> int:
    """Return ``value`` as an int; raise ``ValueError`` naming ``name`` unless it is >= 1."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def global_batch_size(per_replica: int, replicas: int) -> int:
    """Return how many examples one optimizer step sees: ``per_replica`` on each replica.

    Raises ``ValueError`` unless both are positive integers.
    """
    return positive_int("per_replica", per_replica) * positive_int("replicas", replicas)


SCALING_RULES = ("linear", "sqrt")


def scaled_learning_rate(
    base: float, global_batch: int, base_batch: int = BASE_BATCH_SIZE, rule: str = "linear"
) -> float:
    """Return the learning rate for ``global_batch``, given ``base`` tuned at ``base_batch``.

    ``rule="linear"`` multiplies ``base`` by ``global_batch / base_batch``, ``"sqrt"`` by
    its square root. Raises ``ValueError`` for a non-positive rate or batch, or another rule.
    """
    if not base > 0:
        raise ValueError(f"base learning rate must be positive, got {base!r}")
    ratio = positive_int("global_batch", global_batch) / positive_int("base_batch", base_batch)
    if rule not in SCALING_RULES:
        raise ValueError(f"rule must be one of {SCALING_RULES}, got {rule!r}")
    return float(base * (ratio if rule == "linear" else ratio**0.5))


def warmup_cosine_schedule(
    start: float, peak: float, total_steps: int, warmup_steps: int
) -> keras.optimizers.schedules.LearningRateSchedule:
    """Return a schedule rising linearly from ``start`` to ``peak``, then a cosine to zero.

    The rise takes ``warmup_steps`` optimizer steps and the cosine reaches 0 at
    ``total_steps``; pass it as ``keras.optimizers.Adam(learning_rate=...)``. Raises
    ``ValueError`` unless both rates are positive and ``0 <= warmup_steps < total_steps``.
    """
    if not (start > 0 and peak > 0):
        raise ValueError(f"start and peak must be positive, got {start!r} and {peak!r}")
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(
            f"need 0 <= warmup_steps < total_steps, got {warmup_steps} and {total_steps}"
        )
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=start,
        decay_steps=total_steps - warmup_steps,
        warmup_target=peak,
        warmup_steps=warmup_steps,
    )


def distributed_dataset(
    strategy: tf.distribute.Strategy,
    images: np.ndarray,
    labels: np.ndarray,
    global_batch: int,
    seed: int = config.DEFAULT_SEED,
) -> tf.distribute.DistributedDataset:
    """Return an endless, shuffled dataset that hands every replica its per-replica batches.

    Each worker keeps its own shard of the examples, so no two workers read the same one.
    """

    def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
        dataset = dataset.shard(context.num_input_pipelines, context.input_pipeline_id)
        dataset = dataset.shuffle(len(images), seed=seed).repeat()
        per_replica = context.get_per_replica_batch_size(global_batch)
        return dataset.batch(per_replica, drop_remainder=True)

    return strategy.distribute_datasets_from_function(dataset_fn)


def make_train_step(
    strategy: tf.distribute.Strategy,
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    global_batch: int,
) -> Callable:
    """Return a compiled step that trains every replica on its next batch.

    Called with an iterator over ``distributed_dataset``, the step returns the mean loss
    over the global batch and the number of correct predictions in it.
    """
    loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction=None)

    def replica_step(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as tape:
            probs = model(images, training=True)
            per_example = loss_fn(labels, probs)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        hits = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(probs, axis=1), labels), tf.float32))
        return loss, hits

    @tf.function
    def train_step(iterator) -> tuple[tf.Tensor, tf.Tensor]:
        loss, hits = strategy.run(replica_step, args=next(iterator))
        return strategy.reduce("SUM", loss, axis=None), strategy.reduce("SUM", hits, axis=None)

    return train_step


def train_with_loop(
    strategy: tf.distribute.Strategy,
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    images: np.ndarray,
    labels: np.ndarray,
    global_batch: int,
    epochs: int,
    seed: int = config.DEFAULT_SEED,
    log: Callable[[str], None] = print,
) -> tuple[dict[str, list[float]], int]:
    """Train ``model`` for ``epochs``; return its history and the number of steps per epoch.

    The history holds the mean loss and the accuracy of every epoch; ``log`` gets one line
    per epoch.
    """
    steps = len(images) // global_batch
    train_step = make_train_step(strategy, model, optimizer, global_batch)
    iterator = iter(distributed_dataset(strategy, images, labels, global_batch, seed))
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    for epoch in range(epochs):
        total_loss = total_hits = 0.0
        for _ in range(steps):
            loss, hits = train_step(iterator)
            total_loss += float(loss)
            total_hits += float(hits)
        history["loss"].append(total_loss / steps)
        history["accuracy"].append(total_hits / (steps * global_batch))
        log(
            f"epoch {epoch + 1}/{epochs}: {steps} steps of {global_batch} images "
            f"({global_batch // strategy.num_replicas_in_sync} per replica), "
            f"loss {history['loss'][-1]:.4f}, accuracy {history['accuracy'][-1]:.4f}"
        )
    return history, steps


# <<< notebooks/13_scaling.ipynb


# ---------------------------------------------------------------- cluster set-up


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """Return ``n`` different TCP ports that are free on ``host`` right now.

    The operating system picks them (bind to port 0); they are released before returning,
    so another program could take one in between: rare, and ``run_local_cluster`` then
    fails with a clear error. Raises ``ValueError`` if ``n`` < 1.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    with contextlib.ExitStack() as stack:
        sockets = []
        for _ in range(n):  # keep all open until the end so the ports differ
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]


def tf_config(workers: Sequence[int | str], index: int, task_type: str = "worker") -> dict:
    """Return the ``TF_CONFIG`` dict for task ``index`` of a cluster of ``workers``.

    ``workers`` lists every worker's address, the same list and order on every machine:
    ``"host:port"`` strings, or port numbers meaning ``localhost:port``. Put
    ``json.dumps(...)`` of the result in the ``TF_CONFIG`` environment variable of that
    worker's process before it creates the strategy. Worker 0 is the chief.
    Raises ``ValueError`` for an empty or duplicated list or an index out of range.
    """
    addresses = [f"localhost:{w}" if isinstance(w, int) else str(w) for w in workers]
    if not addresses:
        raise ValueError("workers is empty: list one address per worker")
    if len(set(addresses)) != len(addresses):
        raise ValueError(f"workers has duplicate addresses: {addresses}")
    bad = [a for a in addresses if not a.rpartition(":")[2].isdigit()]
    if bad:
        raise ValueError(f"worker addresses must look like host:port, got {bad}")
    if not 0 <= index < len(addresses):
        raise ValueError(f"index must be between 0 and {len(addresses) - 1}, got {index}")
    return {"cluster": {task_type: addresses}, "task": {"type": task_type, "index": index}}


# ------------------------------------------------------------------- the launcher


def _tail(path: Path, lines: int = STDERR_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no stderr file)"
    kept = [line[:300] for line in text.strip().splitlines()[-lines:]]
    return "\n".join(kept) or "(stderr is empty)"


def _stop(processes: Sequence[subprocess.Popen]) -> None:
    """Terminate, then kill, every process still running."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _start_workers(
    ports: list[int], paths: list[dict[str, Path]], worker_args: list[str]
) -> list[subprocess.Popen]:
    """Start one ``python -m helpers.distribute worker`` per entry of ``paths``."""
    processes = []
    for index, files in enumerate(paths):
        files["json"].unlink(missing_ok=True)
        env = dict(os.environ)
        env.update(
            TF_CONFIG=json.dumps(tf_config(ports, index)),
            TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
            CUDA_VISIBLE_DEVICES="-1",
            PYTHONUNBUFFERED="1",
        )
        command = [sys.executable, "-m", "helpers.distribute", "worker", *worker_args]
        command += ["--result", str(files["json"])]
        with open(files["log"], "w") as out, open(files["err"], "w") as err:
            processes.append(
                subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=config.REPO_ROOT)
            )
    return processes


def _wait_for_workers(
    processes: list[subprocess.Popen], paths: list[dict[str, Path]], ports: list[int],
    timeout_s: float,
) -> None:  # fmt: skip
    """Return when every worker has exited cleanly; raise as soon as one fails or time is up."""
    deadline = time.monotonic() + timeout_s
    while None in (codes := [process.poll() for process in processes]):
        for index, code in enumerate(codes):
            if code not in (None, 0):
                raise _worker_failed(index, code, paths[index], ports)
        if time.monotonic() > deadline:
            running = [i for i, p in enumerate(processes) if p.poll() is None]
            tails = "\n".join(
                f"--- end of {paths[i]['err']} ---\n{_tail(paths[i]['err'])}" for i in running
            )
            raise ClusterTimeoutError(
                f"workers {running} of {len(processes)} still running after {timeout_s:g} s "
                f"(ports {ports}); a worker waits for every peer, so one that never "
                f"started or cannot connect blocks them all. Raise timeout_s, or check "
                f"that nothing blocks connections to localhost.\n{tails}"
            )
        time.sleep(0.2)
    for index, process in enumerate(processes):
        if process.returncode != 0:
            raise _worker_failed(index, process.returncode, paths[index], ports)


def _read_results(paths: list[dict[str, Path]]) -> list[dict[str, Any]]:
    """Return each worker's result, with its ``log_path`` and ``log`` added."""
    results = []
    for index, files in enumerate(paths):
        try:
            result = json.loads(files["json"].read_text())
        except (OSError, ValueError) as exc:
            raise WorkerError(
                f"worker {index} exited cleanly but wrote no readable result to "
                f"{files['json']} ({exc})"
            ) from exc
        result["log_path"] = str(files["log"])
        result["log"] = files["log"].read_text(errors="replace")
        results.append(result)
    return results


def run_local_cluster(
    n_workers: int = 2,
    workdir: Path | None = None,
    n_train: int = 1024,
    epochs: int = 1,
    per_replica_batch: int = 64,
    base_learning_rate: float = BASE_LEARNING_RATE,
    save_path: Path | None = None,
    trainer: str = "loop",
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[dict[str, Any]]:
    """Train on a cluster of ``n_workers`` processes on this machine; return their results.

    Picks free loopback ports, then starts ``python -m helpers.distribute worker`` once per
    worker with ``TF_CONFIG`` set (GPUs hidden, so the workers share the CPU). Each worker's
    stdout, stderr and result go to ``workdir`` (a new temporary folder if None) as
    ``worker-<i>.log``, ``worker-<i>.err`` and ``worker-<i>.json``; every result dict (see
    ``helpers.worker.train_worker``) also gets ``log_path`` and ``log``. The chief saves the
    model to ``save_path`` (default ``workdir/model.keras``). Returns the results in
    worker order.

    Raises ``WorkerError`` as soon as a worker fails (the others are stopped), naming it,
    its exit code, its error and the end of its stderr; ``ClusterTimeoutError`` if they
    have not all finished after ``timeout_s`` seconds; ``ValueError`` for bad arguments.
    """
    if n_workers < 1:
        raise ValueError(f"n_workers must be at least 1, got {n_workers}")
    if trainer not in TRAINERS:
        raise ValueError(f"trainer must be one of {TRAINERS}, got {trainer!r}")
    workdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="cluster-"))
    workdir.mkdir(parents=True, exist_ok=True)
    save_path = Path(save_path) if save_path is not None else workdir / "model.keras"
    ports = free_ports(n_workers)
    paths = [
        {kind: workdir / f"worker-{i}.{kind}" for kind in ("log", "err", "json")}
        for i in range(n_workers)
    ]
    worker_args = [
        "--n-train", str(n_train), "--epochs", str(epochs),
        "--per-replica-batch", str(per_replica_batch),
        "--base-learning-rate", repr(base_learning_rate),
        "--save", str(save_path), "--trainer", trainer,
    ]  # fmt: skip
    processes: list[subprocess.Popen] = []
    try:
        processes = _start_workers(ports, paths, worker_args)
        _wait_for_workers(processes, paths, ports, timeout_s)
    finally:
        _stop(processes)
    return _read_results(paths)


def _worker_failed(
    index: int, returncode: int, files: dict[str, Path], ports: list[int]
) -> WorkerError:
    stderr = files["err"].read_text(errors="replace") if files["err"].exists() else ""
    summary = next(
        (line for line in reversed(stderr.splitlines()) if line.startswith("worker failed: ")),
        f"exit code {returncode}",
    )
    hint = ""
    if "address already in use" in stderr.lower():
        hint = f" Port {ports} was taken between choosing it and starting the worker: run again."
    return WorkerError(
        f"worker {index} failed ({summary.removeprefix('worker failed: ')}).{hint}\n"
        f"--- end of {files['err']} ---\n{_tail(files['err'])}"
    )


# ----------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.distribute worker --result PATH [...]``: train as one worker."""
    from helpers import worker  # imported here: the worker module builds on this one

    parser = argparse.ArgumentParser(
        prog="python -m helpers.distribute", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("worker", help="train as the worker that $TF_CONFIG names")
    command.add_argument("--result", type=Path, required=True, help="where to write the result")
    command.add_argument("--n-train", type=int, default=1024)
    command.add_argument("--epochs", type=int, default=1)
    command.add_argument("--per-replica-batch", type=int, default=64)
    command.add_argument("--base-learning-rate", type=float, default=BASE_LEARNING_RATE)
    command.add_argument("--save", type=Path, default=None, help="where the chief saves the model")
    command.add_argument("--trainer", choices=TRAINERS, default="loop")
    args = parser.parse_args(argv)
    try:
        result = worker.train_worker(
            n_train=args.n_train,
            epochs=args.epochs,
            per_replica_batch=args.per_replica_batch,
            base_learning_rate=args.base_learning_rate,
            save_path=args.save,
            trainer=args.trainer,
        )
    except Exception as exc:  # report it in one line at the very end of stderr
        traceback.print_exc()
        print(f"worker failed: {worker.one_line(exc)}", file=sys.stderr, flush=True)
        return 1
    saving.write_json_atomically(result, args.result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
