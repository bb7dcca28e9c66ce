"""Mixed precision, introduced in notebook 13: bfloat16 instructions and the cost of a step.

``cpu_flags`` says whether this CPU has the instructions that make ``mixed_bfloat16`` pay
(``BF16_CPU_FLAGS``); ``seconds_per_step`` times a training step of the article CNN under a
dtype policy, so a notebook can measure instead of guess.
"""

from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np

from helpers import environment, models

BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """Return the CPU feature flags listed in ``cpuinfo`` (Linux); an empty set elsewhere."""
    return set(environment.cpu_info(cpuinfo).flags)


def seconds_per_step(
    policy: str, images: np.ndarray, labels: np.ndarray, batch_size: int = 128
) -> float:
    """Return the median time of a training step of the article CNN under dtype ``policy``.

    Trains a fresh model on ``images`` (float32, (n, 28, 28, 1)) and ``labels`` in batches
    of ``batch_size`` (the article's 128); the first batch, which builds the graph, is not
    timed. Restores the previous global policy afterwards. Raises ``ValueError`` for an
    unknown policy or if there are fewer than two batches of data.
    """
    steps = len(images) // batch_size
    if steps < 2:
        raise ValueError(f"need at least {2 * batch_size} images to time steps, got {len(images)}")
    previous = keras.config.dtype_policy()
    try:
        keras.config.set_dtype_policy(policy)
        model = models.build_article_cnn()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        times = []
        for step in range(steps):
            batch = slice(step * batch_size, (step + 1) * batch_size)
            start = time.perf_counter()
            model.train_on_batch(images[batch], labels[batch])
            times.append(time.perf_counter() - start)
    finally:
        keras.config.set_dtype_policy(previous)
    return float(np.median(times[1:]))
