"""Execute notebooks top to bottom in a fresh kernel each, in place, and summarise.

``python -m helpers.maintainer.runner --mode full notebooks/[0-9]*.ipynb`` is what ``make course``
runs. Each notebook gets its own kernel, so none can depend on another's variables. A
notebook that fails is not overwritten: the failed copy is saved beside the models, and
the run stops with a non-zero exit code.

While a notebook runs, the terminal shows each code cell as it starts (its number of how
many, the time since the notebook started, its first line) and the lines the cell prints
(Keras' epoch lines among them); ``--quiet`` shows only each notebook's result.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from helpers import config
from helpers.maintainer import markers

EVALUATION_FILE = "article_cnn_evaluation.json"
RUN_LOG_FILE = "course_run.json"


@dataclass
class NotebookRun:
    """The outcome of executing one notebook."""

    notebook: str
    seconds: float
    peak_memory_mb: float
    ok: bool
    error: str = ""
    peak_cell: int | None = None  # the code cell (1, 2, ...) running at the peak


class _PeakMemory:
    """Sample the memory of the kernel and the processes it starts.

    Each process counts its proportional set size (PSS: shared pages split between the
    processes that share them), so the sum is close to what a container's memory limit
    (Binder's 2 GB) sees; where PSS is not available, resident memory (RSS). Sampling
    starts once the caller sets ``kernel_pid``; other children of this process (a browser
    that a test started, say) do not count.
    """

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.peak_bytes = 0
        self.cell: int | None = None  # set by the caller as each code cell starts
        self.kernel_pid: int | None = None  # set by the caller once the kernel runs
        self.peak_cell: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _processes(self) -> list:
        """Return the kernel and its descendants, or [] before the kernel is known."""
        import psutil

        if self.kernel_pid is None:
            return []
        try:
            kernel = psutil.Process(self.kernel_pid)
            return [kernel, *kernel.children(recursive=True)]
        except psutil.Error:  # the kernel has gone
            return []

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            for child in self._processes():
                try:
                    info = child.memory_full_info()
                    total += getattr(info, "pss", info.rss)
                except psutil.Error:
                    pass
            if total > self.peak_bytes:
                self.peak_bytes, self.peak_cell = total, self.cell
            self._stop.wait(self.interval)

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _elapsed(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


def _progress_client(
    notebook, start: float, memory: _PeakMemory, out=None, progress=True, **kwargs
):
    """Return an nbclient ``NotebookClient`` that tells ``memory`` which code cell runs.

    With ``progress`` it also reports each cell as it starts and the lines it prints.
    """
    from nbclient import NotebookClient

    out = sys.stdout if out is None else out
    code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]

    class ProgressClient(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            if progress and msg["msg_type"] == "stream":
                for line in msg["content"]["text"].split("\n"):  # not at "\r"
                    shown = line.split("\r")[-1].split("\b")[-1].strip()
                    if shown:
                        print(f"      {shown[:120]}", file=out, flush=True)
            return super().output(outs, msg, display_id, cell_index)

    def on_cell_start(cell, cell_index):
        if memory.kernel_pid is None:  # the kernel is running by the first cell
            memory.kernel_pid = getattr(client.km.provisioner, "pid", None)
        number = code.index(cell_index) + 1 if cell_index in code else None
        if number is not None:
            memory.cell = number
        if not progress:
            return
        lines = [line for line in cell.source.splitlines() if line.strip()]
        first = lines[0][:70] if lines else ""
        number = "?" if number is None else number
        when = _elapsed(time.perf_counter() - start)
        print(f"  [{when}] cell {number}/{len(code)}: {first}", file=out, flush=True)

    client = ProgressClient(notebook, on_cell_start=on_cell_start, **kwargs)
    return client


def execute_notebook(
    path: Path, fast: bool, failed_dir: Path | None = None, progress: bool = False
) -> NotebookRun:
    """Execute ``path`` in a fresh kernel with fast or full mode; write it back if it passed.

    Returns a ``NotebookRun``. On a cell error the notebook on disk is left untouched and
    the partly executed copy is written to ``failed_dir`` (if given). The kernel's own
    stderr goes to ``kernel-logs/<name>.log`` beside ``failed_dir`` (or the notebook).
    With ``progress``, each code cell and the lines it prints are shown as they come. The
    run's ``peak_cell`` is the code cell that was running when memory peaked.
    """
    import nbformat
    from nbclient.exceptions import CellExecutionError

    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    previous = os.environ.get(config.FAST_ENV)
    os.environ[config.FAST_ENV] = "1" if fast else "0"
    start = time.perf_counter()
    options = dict(
        timeout=None, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    memory = _PeakMemory()
    client = _progress_client(notebook, start, memory, progress=progress, **options)
    error = ""
    kernel_log = (failed_dir.parent if failed_dir else path.parent) / "kernel-logs"
    kernel_log.mkdir(parents=True, exist_ok=True)
    try:
        # The kernel's own stderr (TensorFlow's C++ log) goes to a file, not the terminal.
        with memory, open(kernel_log / f"{path.stem}.log", "w") as log:
            client.execute(stdout=log, stderr=log)
    except CellExecutionError as exc:
        error = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
    finally:
        if previous is None:
            os.environ.pop(config.FAST_ENV, None)
        else:
            os.environ[config.FAST_ENV] = previous
    seconds = time.perf_counter() - start
    if error:
        if failed_dir is not None:
            failed_dir.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, failed_dir / path.name)
    else:
        tmp = path.with_name(f".{path.name}.tmp")
        nbformat.write(notebook, tmp)
        os.replace(tmp, path)
    return NotebookRun(
        path.name, seconds, memory.peak_bytes / 2**20, not error, error, memory.peak_cell
    )


def merge_run_log(path: Path, runs: list[NotebookRun], mode: str) -> dict[str, dict]:
    """Record ``runs`` in the log at ``path`` (one entry per notebook, the latest wins).

    Returns the whole log, sorted by notebook: ``{notebook: {"mode": ..., "run": {...}}}``.
    An unreadable log is started afresh.
    """
    path = Path(path)
    try:
        log = json.loads(path.read_text())
        if not all(isinstance(v, dict) and "run" in v for v in log.values()):
            log = {}
    except (OSError, ValueError, AttributeError):
        log = {}
    for run in runs:
        log[run.notebook] = {"mode": mode, "run": asdict(run)}
    log = dict(sorted(log.items()))
    path.write_text(json.dumps(log, indent=1))
    return log


def read_test_accuracy(models_dir: Path) -> float | None:
    """Return the test accuracy that 05_evaluation wrote, or None if it is not there."""
    path = Path(models_dir) / EVALUATION_FILE
    try:
        return float(json.loads(path.read_text())["test_accuracy"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def summary_line(runs: list[NotebookRun], mode: str, accuracy: float | None) -> str:
    """Return the one-line summary: notebooks run, the test accuracy from 05, time taken."""
    passed = sum(run.ok for run in runs)
    minutes, seconds = divmod(round(sum(run.seconds for run in runs)), 60)
    acc = f"{accuracy:.2%}" if accuracy is not None else "not measured"
    failed = [run.notebook for run in runs if not run.ok]
    tail = f"; FAILED: {', '.join(failed)}" if failed else ""
    return (
        f"{passed}/{len(runs)} notebooks executed in {mode} mode; "
        f"05_evaluation test accuracy {acc}; {minutes} min {seconds:02d} s{tail}"
    )


README_START = "<!-- results:start -->"
README_END = "<!-- results:end -->"


def results_markdown(runs: list[NotebookRun], mode: str, accuracy: float | None) -> str:
    """Return the README's results block: the summary and a time and memory row per notebook."""
    import platform

    import tensorflow as tf

    acc = f"**{accuracy:.2%}**" if accuracy is not None else "not measured"
    lines = [
        f"The latest {mode}-mode run of each notebook ({os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, TensorFlow {tf.__version__}; `make course` "
        f"runs them all): {summary_line(runs, mode, accuracy)}.",
        "",
        f"The article's CNN, trained in `04_training`, scores {acc} on all 10,000 test "
        "images in `05_evaluation`. Peak memory is the proportional memory (PSS) of the "
        "kernel and the processes it starts; Binder gives 2 GB.",
        "",
        "| notebook | time | peak memory |",
        "| --- | ---: | ---: |",
    ]
    for run in runs:
        minutes, seconds = divmod(round(run.seconds), 60)
        status = "" if run.ok else " (failed)"
        lines.append(
            f"| {Path(run.notebook).stem}{status} | {minutes} min {seconds:02d} s "
            f"| {run.peak_memory_mb:,.0f} MB |"
        )
    return "\n".join(lines)


def update_readme(readme: Path, block: str) -> None:
    """Replace the text between the results markers of ``readme`` with ``block``.

    Raises ``ValueError`` if the markers are missing.
    """
    markers.rewrite_file(readme, README_START, README_END, block)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="none: only rewrite --readme from the log"
    )
    parser.add_argument("--mode", choices=["full", "fast"], default="full")
    parser.add_argument(
        "--readme", type=Path, help="write the results table into this README when all pass"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no per-cell progress, only each notebook's result"
    )
    args = parser.parse_args(argv)

    fast = args.mode == "fast"
    os.environ[config.FAST_ENV] = "1" if fast else "0"
    models_dir = config.models_dir()
    if not args.notebooks:
        if args.readme is None:
            parser.error("give notebooks to run, or --readme to rewrite its table from the log")
        write_readme_from_log(args.readme, models_dir)
        return 0
    runs = []
    for path in sorted(args.notebooks):
        print(f"running {path} ({args.mode} mode) ...", flush=True)
        run = execute_notebook(
            path, fast, failed_dir=models_dir / "failed", progress=not args.quiet
        )
        runs.append(run)
        status = "ok" if run.ok else f"FAILED: {run.error}"
        where = f" (in code cell {run.peak_cell})" if run.peak_cell else ""
        print(
            f"  {run.seconds:7.1f} s  peak {run.peak_memory_mb:6.0f} MB{where}  {status}",
            flush=True,
        )
        if not run.ok:
            print(f"  the executed copy is in {models_dir / 'failed' / path.name}")
            break
    merge_run_log(models_dir / RUN_LOG_FILE, runs, args.mode)
    evaluated = any(run.ok and run.notebook.startswith("05_") for run in runs)
    accuracy = read_test_accuracy(models_dir) if evaluated else None
    print(summary_line(runs, args.mode, accuracy))
    passed = bool(runs) and all(run.ok for run in runs) and len(runs) == len(args.notebooks)
    if passed and args.readme is not None:
        write_readme_from_log(args.readme, models_dir)
    return 0 if passed else 1


def write_readme_from_log(readme: Path, models_dir: Path) -> None:
    """Rewrite the README's results table from the latest full-mode run of each notebook."""
    try:
        log = json.loads((models_dir / RUN_LOG_FILE).read_text())
        latest = [NotebookRun(**entry["run"]) for entry in log.values() if entry["mode"] == "full"]
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise SystemExit(f"no run log in {models_dir}: run `make course` first ({exc})") from exc
    update_readme(readme, results_markdown(latest, "full", read_test_accuracy(models_dir)))
    print(f"results of the latest full run of {len(latest)} notebooks written to {readme}")


if __name__ == "__main__":
    sys.exit(main())
