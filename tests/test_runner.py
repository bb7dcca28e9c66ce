"""Tests for helpers.maintainer.runner: executing notebooks in place and the summary line."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import nbformat
import pytest

from helpers import config
from helpers.maintainer import runner


def write_notebook(path, *sources):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, path)
    return path


@pytest.mark.slow
def test_execute_notebook_in_place_with_mode(tmp_path):
    path = write_notebook(
        tmp_path / "a.ipynb",
        "import os\nprint(os.environ['COURSE_FAST'])",
        "x = 41\nx + 1",
    )
    start = time.perf_counter()
    run = runner.execute_notebook(path, fast=True)
    assert run.ok and run.error == "" and 0 < run.seconds <= time.perf_counter() - start
    cells = nbformat.read(path, as_version=4).cells
    assert [c.execution_count for c in cells] == [1, 2]
    assert cells[0].outputs[0]["text"].strip() == "1"
    assert cells[1].outputs[0]["data"]["text/plain"] == "42"


@pytest.mark.slow
def test_progress_shows_each_cell_and_the_lines_it_prints(tmp_path, capsys):
    path = write_notebook(
        tmp_path / "p.ipynb",
        "for epoch in (1, 2):\n    print(f'Epoch {epoch}/2')",
        "print('10/10 ━━━━ 3s\\r20/20 ━━━━ 5s - loss: 0.1')",
    )
    assert runner.execute_notebook(path, fast=True, progress=True).ok
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert lines[0].startswith("[0:0") and lines[0].endswith("cell 1/2: for epoch in (1, 2):")
    assert lines[1:3] == ["Epoch 1/2", "Epoch 2/2"]
    assert lines[3].endswith("cell 2/2: print('10/10 ━━━━ 3s\\r20/20 ━━━━ 5s - loss: 0.1')")
    assert lines[4:] == ["20/20 ━━━━ 5s - loss: 0.1"]  # a progress bar's last state


@pytest.mark.slow
def test_peak_memory_names_the_cell_that_peaked(tmp_path):
    path = write_notebook(
        tmp_path / "m.ipynb",
        "import time\nimport numpy as np",
        "big = np.ones(400 * 2**20, dtype=np.uint8)\ntime.sleep(2)\ndel big",
        "time.sleep(1)",
    )
    run = runner.execute_notebook(path, fast=True)
    assert run.ok and run.peak_cell == 2 and run.peak_memory_mb > 400


@pytest.mark.slow
def test_peak_memory_counts_the_kernel_not_other_children_of_the_runner(tmp_path):
    hog = subprocess.Popen(  # another child of this process, as a test's browser is
        [sys.executable, "-c", "import time; b = bytearray(b'x' * (300 * 2**20)); time.sleep(60)"]
    )
    try:
        time.sleep(2)  # let it fill its 300 MB
        path = write_notebook(tmp_path / "k.ipynb", "x = 1", "import time\ntime.sleep(1)")
        run = runner.execute_notebook(path, fast=True)
    finally:
        hog.kill()
        hog.wait()
    assert run.ok and run.peak_cell in (1, 2)
    assert 10 < run.peak_memory_mb < 250  # a bare kernel, without the 300 MB beside it


@pytest.mark.slow
def test_failed_notebook_is_not_overwritten(tmp_path):
    path = write_notebook(tmp_path / "b.ipynb", "1 / 0", "print('never')")
    before = path.read_text()
    run = runner.execute_notebook(path, fast=True, failed_dir=tmp_path / "failed")
    assert not run.ok and "ZeroDivisionError" in run.error
    assert path.read_text() == before
    failed = nbformat.read(tmp_path / "failed" / "b.ipynb", as_version=4)
    assert failed.cells[0].outputs[0]["output_type"] == "error"


def test_read_test_accuracy(tmp_path):
    assert runner.read_test_accuracy(tmp_path) is None
    (tmp_path / runner.EVALUATION_FILE).write_text("not json")
    assert runner.read_test_accuracy(tmp_path) is None
    (tmp_path / runner.EVALUATION_FILE).write_text(json.dumps({"test_accuracy": 0.9871}))
    assert runner.read_test_accuracy(tmp_path) == pytest.approx(0.9871)


def test_summary_line():
    runs = [
        runner.NotebookRun("00_setup.ipynb", 10.0, 300.0, True),
        runner.NotebookRun("05_evaluation.ipynb", 65.4, 900.0, True),
    ]
    line = runner.summary_line(runs, "full", 0.98712)
    assert line == (
        "2/2 notebooks executed in full mode; 05_evaluation test accuracy 98.71%; 1 min 15 s"
    )
    runs.append(runner.NotebookRun("06_x.ipynb", 1.0, 1.0, False, "boom"))
    assert runner.summary_line(runs, "fast", None).endswith("FAILED: 06_x.ipynb")
    assert "not measured" in runner.summary_line(runs, "fast", None)


@pytest.mark.slow
def test_main_writes_log_and_exit_code(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(config.MODELS_DIR_ENV, str(tmp_path / "models"))
    good = write_notebook(tmp_path / "01_good.ipynb", "print('hi')")
    bad = write_notebook(tmp_path / "02_bad.ipynb", "raise ValueError('nope')")
    assert runner.main(["--mode", "fast", str(good)]) == 0
    assert runner.main(["--mode", "fast", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "1/2 notebooks executed in fast mode" in out and "FAILED: 02_bad.ipynb" in out
    log = json.loads((tmp_path / "models" / "fast" / runner.RUN_LOG_FILE).read_text())
    assert {name: entry["run"]["ok"] for name, entry in log.items()} == {
        "01_good.ipynb": True,
        "02_bad.ipynb": False,
    }
    assert {entry["mode"] for entry in log.values()} == {"fast"}


def test_merge_run_log_keeps_the_latest_of_each_notebook(tmp_path):
    path = tmp_path / "log.json"
    path.write_text("not json")
    first = runner.NotebookRun("02_b.ipynb", 1.0, 10.0, True)
    log = runner.merge_run_log(path, [first], "full")
    assert list(log) == ["02_b.ipynb"]
    again = runner.NotebookRun("02_b.ipynb", 2.0, 20.0, True)
    other = runner.NotebookRun("01_a.ipynb", 3.0, 30.0, True)
    log = runner.merge_run_log(path, [again, other], "fast")
    assert list(log) == ["01_a.ipynb", "02_b.ipynb"]
    assert log["02_b.ipynb"] == {"mode": "fast", "run": runner.asdict(again)}


def test_results_markdown_and_update_readme(tmp_path):
    runs = [
        runner.NotebookRun("04_training.ipynb", 125.2, 1234.0, True),
        runner.NotebookRun("05_evaluation.ipynb", 30.0, 900.4, True),
    ]
    block = runner.results_markdown(runs, "full", 0.9871)
    assert "**98.71%**" in block
    assert "| 04_training | 2 min 05 s | 1,234 MB |" in block
    assert "2/2 notebooks executed in full mode" in block
    readme = tmp_path / "README.md"
    readme.write_text(f"# T\n{runner.README_START}\nold\n{runner.README_END}\nrest\n")
    runner.update_readme(readme, block)
    text = readme.read_text()
    assert "old" not in text and block in text and text.endswith("rest\n")
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="markers"):
        runner.update_readme(readme, block)


def test_readme_only_from_the_log(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(config.MODELS_DIR_ENV, str(tmp_path / "models"))
    monkeypatch.setenv(config.FAST_ENV, "0")
    readme = tmp_path / "README.md"
    readme.write_text(f"{runner.README_START}\n{runner.README_END}\n")
    with pytest.raises(SystemExit, match="no run log"):
        runner.main(["--readme", str(readme)])
    models = tmp_path / "models"
    models.mkdir(exist_ok=True)
    run = runner.NotebookRun("05_evaluation.ipynb", 12.0, 700.0, True)
    runner.merge_run_log(models / runner.RUN_LOG_FILE, [run], "full")
    (models / runner.EVALUATION_FILE).write_text(json.dumps({"test_accuracy": 0.987}))
    assert runner.main(["--readme", str(readme)]) == 0
    assert "| 05_evaluation | 0 min 12 s | 700 MB |" in readme.read_text()
    assert "**98.70%**" in readme.read_text()
