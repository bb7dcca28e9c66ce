"""Same seed, same results: fast-mode training twice gives identical weights and metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from helpers import config, data

SCRIPT = textwrap.dedent(
    """
    import hashlib, json, os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import keras
    import numpy as np
    from helpers import config, data, models

    config.set_seed(int(os.environ.get("SEED", "42")))
    (x_train, y_train), (x_val, y_val), _ = data.prepare_mnist(n_train=2_000, n_val=500)
    model = models.build_article_cnn()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=128, epochs=1,
                        validation_data=(x_val, y_val), verbose=0)
    digest = hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest()
    print(json.dumps({"weights": digest, "history": history.history}))
    """
)


def train_in_parallel(*seeds: int) -> list[dict]:
    """Train once per seed, each in its own fresh Python, all at once; return their results."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=config.REPO_ROOT,
            env={**os.environ, "SEED": str(seed)},
        )
        for seed in seeds
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


@pytest.mark.slow
def test_training_twice_gives_identical_weights_and_metrics():
    if not (config.REPO_ROOT / "data" / data.CACHE_NAME).exists():
        pytest.skip("data/mnist.npz is missing: run `python -m helpers.data` first")
    first, second, other = train_in_parallel(42, 42, 7)
    assert first == second
    assert other["weights"] != first["weights"]
