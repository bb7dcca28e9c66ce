"""Rerun the measurements of notebooks 08 and 10 and keep them in ``results/bench.json``.

``python -m helpers.maintainer.bench`` trains the six models of notebook 08 on equal terms, then the
speed run of notebook 10 against the article's pipeline, in one process, and writes the
figures to ``results/bench.json`` (about 8 minutes on 2 CPU cores). ``--quick`` does the
same on 6,000 training images and 1 epoch per model (about 2 minutes).
``python -m helpers.maintainer.bench --best-recipe-trial`` reruns the validation-split trial that chose
notebook 09's recipe into ``results/best_recipe_trial.json``: it trains two models, each for about
as long as one seed of notebook 09 (86 minutes in all on the 2-core Xeon of the committed record).
``python -m helpers.maintainer.bench --readme README.md`` rewrites the README's results table, between
``<!-- bench:start -->`` and ``<!-- bench:end -->``, from ``results/bench.json``.

Nothing here repeats a notebook: the loops are the functions notebooks 08, 09 and 10 save
into ``helpers.architectures``, ``helpers.best_model`` and ``helpers.speed_run``. Timings are what this machine measured, not claims: the
tests check the bookkeeping, never times.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from helpers import config, environment, saving
from helpers.maintainer import markers

RESULTS_PATH = config.REPO_ROOT / "results" / "bench.json"
START_MARKER = "<!-- bench:start -->"
END_MARKER = "<!-- bench:end -->"

# Notebook 08: same data, epochs, optimizer and schedule for every model.
COMPARE_EPOCHS = 3
COMPARE_BATCH_SIZE = 128
COMPARE_PEAK_LR = 2e-3

# Notebook 10: the article's pipeline (the README table states it), and the speed run, whose
# recipe is the defaults of notebook 10's time_speed_run.
ARTICLE_EPOCHS = 10
ARTICLE_BATCH_SIZE = 128
ARTICLE_LR = 1e-3
SPEED_SEEDS = (0, 1, 2, 3, 4)
SPEED_TARGET_ACCURACY = 0.99

# Notebook 09: the trial on the validation split that chose the best model's recipe.
BEST_BATCH_SIZE = 128
BEST_PEAK_LR = 3e-3
BEST_RECIPES = {  # name: keyword arguments of notebook 09's train_best_model
    "earlier recipe: no elastic distortion, 20 epochs": {"elastic": False, "epochs": 20},
    "elastic distortion, 19 epochs": {"elastic": True, "epochs": 19},
}
BEST_TRIAL_PATH = config.REPO_ROOT / "results" / "best_recipe_trial.json"

Data = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def set_cpu_threads() -> None:
    """Set TensorFlow's CPU threads as notebook 10 does, before TensorFlow runs anything.

    Raises ``RuntimeError`` if TensorFlow has already run an operation.
    """
    from helpers import speed_run as notebook_10

    notebook_10.set_cpu_threads()


def compare_architectures(
    data: Data,
    builders: Mapping[str, Callable[[], Any]] | None = None,
    epochs: int = COMPARE_EPOCHS,
    batch_size: int = COMPARE_BATCH_SIZE,
    peak_lr: float = COMPARE_PEAK_LR,
    seed: int = config.DEFAULT_SEED,
) -> list[dict[str, Any]]:
    """Train each model with notebook 08's ``compare_models`` (same data, epochs, one-cycle Adam).

    Returns one row per model: name, parameters, seconds per epoch, test accuracy.
    ``builders`` defaults to ``architectures.comparison_builders()``.
    """
    from helpers import architectures

    train, test = data
    builders = architectures.comparison_builders() if builders is None else builders
    rows, _ = architectures.compare_models(
        builders, train, {"test": test}, epochs, batch_size, peak_lr, seed
    )
    return [
        {
            "model": row["model"],
            "params": int(row["parameters"]),
            "seconds_per_epoch": row["seconds per epoch"],
            "test_accuracy": float(row["test accuracy"]),
        }
        for row in rows
    ]


def article_pipeline(
    data: Data, epochs: int = ARTICLE_EPOCHS, seed: int = config.DEFAULT_SEED
) -> dict[str, float]:
    """Time notebook 10's baseline, the article's CNN and recipe, with its ``time_article_pipeline``.

    Returns training seconds, test accuracy and epochs.
    """
    from helpers import speed_run as notebook_10

    (x_train, y_train), (x_test, y_test) = data
    config.set_seed(seed, deterministic=False)
    seconds, accuracy = notebook_10.time_article_pipeline(
        x_train, y_train, x_test, y_test, epochs, ARTICLE_BATCH_SIZE, ARTICLE_LR
    )
    return {"seconds": seconds, "test_accuracy": accuracy, "epochs": epochs}


def speed_run(data: Data, seed: int, precision: str = "float32", **recipe: Any) -> dict[str, float]:
    """Train notebook 10's speed CNN once on ``data`` with that notebook's ``time_speed_run``.

    ``precision`` is "float32" or "mixed_bfloat16"; ``recipe`` overrides the notebook's
    ``epochs``, ``batch_size`` or ``jit_compile``. Returns training seconds and test
    accuracy. Raises ``ValueError`` for another precision.
    """
    import tensorflow as tf

    from helpers import speed_run as notebook_10

    if precision not in {"float32", "mixed_bfloat16"}:
        raise ValueError(f"precision must be 'float32' or 'mixed_bfloat16', got {precision!r}")
    (x_train, y_train), (x_test, y_test) = data
    images, labels = tf.constant(x_train), tf.one_hot(y_train, 10)  # before the clock starts
    try:
        seconds, accuracy = notebook_10.time_speed_run(
            images, labels, x_test, np.asarray(y_test), seed, precision, **recipe
        )
    finally:
        del images, labels
        gc.collect()  # free this run's tensors and compiled step now, not some time later
    return {"seconds": seconds, "test_accuracy": accuracy}


def best_recipe_trial(
    seed: int = 0, n_train: int | None = None, epochs: int | None = None
) -> list[dict[str, Any]]:
    """Train notebook 09's candidate recipes once each, in turn; score them on validation images.

    Each recipe of ``BEST_RECIPES`` is trained by notebook 09's own ``train_best_model``
    (its augmentation, one-cycle Adam, label smoothing and batch), on the training split
    only (54,000 images, or the first ``n_train``), and scored on the 6,000 validation
    images, alone and with notebook 09's test-time shifts; the test set is not touched.
    ``epochs`` overrides every recipe's epochs (for tests). Returns one row per recipe:
    name, parameters, epochs, minutes, minutes relative to the first recipe, and
    validation accuracy and errors, without and with the shifts.
    """
    from helpers import best_model
    from helpers import data as mnist

    (x_train, y_train), (x_val, y_val), _ = mnist.prepare_mnist(n_train=n_train, scale=False)
    x_val = mnist.scale_images(x_val)
    rows = []
    for name, recipe in BEST_RECIPES.items():
        n_epochs = recipe["epochs"] if epochs is None else epochs
        start = time.perf_counter()
        model, _ = best_model.train_best_model(
            x_train,
            y_train,
            n_epochs,
            seed,
            batch_size=BEST_BATCH_SIZE,
            peak_lr=BEST_PEAK_LR,
            elastic=recipe["elastic"],
            verbose=0,
        )
        minutes = (time.perf_counter() - start) / 60
        row = {"recipe": name, "parameters": model.count_params(), "epochs": n_epochs}
        row["minutes"] = minutes
        row["time_ratio"] = minutes / rows[0]["minutes"] if rows else 1.0
        plain = model.predict(x_val, batch_size=1000, verbose=0).argmax(axis=1)
        shifted = best_model.predict_shifted(model, x_val).argmax(axis=1)
        for key, predictions in (("", plain), ("_shifted", shifted)):
            row[f"validation_accuracy{key}"] = float((predictions == y_val).mean())
            row[f"validation_errors{key}"] = int((predictions != y_val).sum())
        rows.append(row)
        print(
            f"09 trial: {name}: {minutes:.1f} min, validation accuracy "
            f"{row['validation_accuracy']:.2%} ({row['validation_accuracy_shifted']:.2%} shifted)",
            flush=True,
        )
        del model
        gc.collect()
    return rows


def summarise_runs(runs: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Return the mean and spread of seconds and test accuracy over ``runs``.

    Raises ``ValueError`` for no runs.
    """
    if not runs:
        raise ValueError("runs: got no runs to summarise")
    accuracies = [run["test_accuracy"] for run in runs]
    seconds = [run["seconds"] for run in runs]
    return {
        "runs": len(runs),
        "mean_test_accuracy": statistics.fmean(accuracies),
        "min_test_accuracy": min(accuracies),
        "max_test_accuracy": max(accuracies),
        "mean_seconds": statistics.fmean(seconds),
    }


def run_benchmarks(quick: bool = False) -> dict[str, Any]:
    """Run notebook 08's comparison and notebook 10's speed run; return every figure."""
    from helpers import data as mnist

    n_train = 6_000 if quick else None
    (x_train, y_train), _, (x_test, y_test) = mnist.prepare_mnist(n_train=n_train)
    splits = ((x_train, y_train), (x_test, y_test))
    started = time.perf_counter()
    print(f"08: architectures ({'1 epoch' if quick else f'{COMPARE_EPOCHS} epochs'} each)")
    architectures_rows = compare_architectures(splits, epochs=1 if quick else COMPARE_EPOCHS)
    print("10: the article's pipeline")
    article = article_pipeline(splits)
    print(f"  {article['seconds']:.1f} s, test accuracy {article['test_accuracy']:.4f}")
    speed: dict[str, Any] = {}
    for precision in ("float32", "mixed_bfloat16"):
        runs = [speed_run(splits, seed, precision) for seed in SPEED_SEEDS]
        speed[precision] = {"seeds": list(SPEED_SEEDS), "per_seed": runs, **summarise_runs(runs)}
        summary = speed[precision]
        print(
            f"10: speed run {precision}: mean {summary['mean_test_accuracy']:.4f} over "
            f"{summary['runs']} seeds, {summary['mean_seconds']:.2f} s each, "
            f"{article['seconds'] / summary['mean_seconds']:.1f}x faster"
        )
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "n_train": len(x_train),
        "n_test": len(x_test),
        "machine": environment.machine_info(),
        "architectures": {
            "epochs": 1 if quick else COMPARE_EPOCHS,
            "batch_size": COMPARE_BATCH_SIZE,
            "optimizer": f"Adam, one-cycle schedule, peak learning rate {COMPARE_PEAK_LR}",
            "rows": architectures_rows,
        },
        "speed_run": {
            "target_accuracy": SPEED_TARGET_ACCURACY,
            "article_pipeline": article,
            **speed,
            "speedup_float32": article["seconds"] / speed["float32"]["mean_seconds"],
            "speedup_mixed_bfloat16": article["seconds"] / speed["mixed_bfloat16"]["mean_seconds"],
        },
        "total_seconds": time.perf_counter() - started,
    }


def write_results(results: Mapping[str, Any], path: Path = RESULTS_PATH) -> Path:
    """Write ``results`` to ``path`` as indented JSON, atomically; return the path."""
    return saving.write_json_atomically(results, path)


def read_results(path: Path = RESULTS_PATH) -> dict[str, Any]:
    """Read the results written by ``write_results``.

    Raises ``FileNotFoundError`` with the fix if the file is missing, and ``ValueError`` if it
    is not a benchmark file.
    """
    path = Path(path)
    fix = "run `python -m helpers.maintainer.bench`"
    results = saving.read_json(path, "benchmark results", fix)
    missing = {"architectures", "speed_run", "machine"} - set(results)
    if missing:
        raise ValueError(f"{path} is not a benchmark file: missing {sorted(missing)}")
    return results


def readme_table(results: Mapping[str, Any]) -> str:
    """Return the README's results section (Markdown tables) for ``results``."""
    machine = results["machine"]
    arch = results["architectures"]
    speed = results["speed_run"]
    article = speed["article_pipeline"]
    lines = [
        f"Measured by `python -m helpers.maintainer.bench{' --quick' if results.get('quick') else ''}` "
        f"on {machine['cpu']} ({machine['cores']} cores), TensorFlow {machine['tensorflow']}, "
        f"{results['created']}; {results['n_train']:,} training images, "
        f"{results['n_test']:,} test images.",
        "",
        f"Architectures (notebook 08): {arch['epochs']} epoch{'s' if arch['epochs'] != 1 else ''} "
        f"each, batch {arch['batch_size']}, "
        f"{arch['optimizer']}.",
        "",
        "| model | parameters | seconds per epoch | test accuracy |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in arch["rows"]:
        lines.append(
            f"| {row['model']} | {row['params']:,} | {row['seconds_per_epoch']:.1f} "
            f"| {row['test_accuracy']:.2%} |"
        )
    lines += [
        "",
        f"Speed run (notebook 10): target {speed['target_accuracy']:.1%} mean test accuracy.",
        "",
        "| pipeline | runs | training seconds | mean test accuracy | speed-up |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| article CNN, {article['epochs']} epochs, batch {ARTICLE_BATCH_SIZE}, Adam 1e-3 | 1 "
        f"| {article['seconds']:.1f} | {article['test_accuracy']:.2%} | 1x |",
    ]
    for precision in ("float32", "mixed_bfloat16"):
        summary = speed[precision]
        lines.append(
            f"| speed run, {precision} | {summary['runs']} | {summary['mean_seconds']:.2f} "
            f"| {summary['mean_test_accuracy']:.2%} "
            f"| {article['seconds'] / summary['mean_seconds']:.1f}x |"
        )
    return "\n".join(lines)


def replace_between_markers(text: str, body: str) -> str:
    """Return ``text`` with the bench table between its markers replaced by ``body``."""
    return markers.replace_between(text, START_MARKER, END_MARKER, body)


def update_readme(readme: Path, results_path: Path = RESULTS_PATH) -> Path:
    """Rewrite the table between the bench markers of ``readme`` from ``results_path``.

    Returns the README path. Raises ``FileNotFoundError`` for a missing file and
    ``ValueError`` (naming the README) if its markers are missing or out of order.
    """
    readme = Path(readme)
    if not readme.exists():
        raise FileNotFoundError(f"no README at {readme}")
    body = readme_table(read_results(results_path))
    return markers.rewrite_file(readme, START_MARKER, END_MARKER, body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6,000 images, 1 epoch per model")
    parser.add_argument("--output", type=Path, default=RESULTS_PATH, help="results JSON file")
    parser.add_argument(
        "--readme", type=Path, help="rewrite this README's table from the results file instead"
    )
    parser.add_argument(
        "--best-recipe-trial",
        action="store_true",
        help="instead: notebook 09's candidate recipes on the validation split, into "
        "results/best_recipe_trial.json (two models, each about as long as one seed of 09)",
    )
    args = parser.parse_args(argv)
    if args.best_recipe_trial:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        set_cpu_threads()
        rows = best_recipe_trial()
        record = {"machine": environment.machine_info(), "rows": rows}
        saving.write_json_atomically(record, BEST_TRIAL_PATH)
        print(json.dumps(record, indent=2))
        return 0
    if args.readme is not None:
        try:
            update_readme(args.readme, args.output)
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"updated the results table in {args.readme} from {args.output}")
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    set_cpu_threads()
    results = run_benchmarks(quick=args.quick)
    path = write_results(results, args.output)
    print(f"wrote {path} ({results['total_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
