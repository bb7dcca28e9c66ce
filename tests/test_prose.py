"""Tests for helpers.maintainer.prose: figures in the prose must be shown by the outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from helpers import config
from helpers.maintainer import prose


def notebook(tmp_path: Path, markdown: str, printed: str, code: str = "print(result)") -> Path:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(code)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    nb.cells = [nbformat.v4.new_markdown_cell(markdown), cell]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def texts(path: Path) -> list[str]:
    return [problem.figure.text for problem in prose.unshown_figures(path)]


def test_a_figure_from_an_earlier_run_is_caught(tmp_path):
    path = notebook(tmp_path, "The model reaches 98.69% on the test set.", "test accuracy 98.74%")
    assert texts(path) == ["98.69%"]


def test_a_figure_the_output_shows_passes_rounded_or_as_a_fraction(tmp_path):
    markdown = "It reaches 98.7%, and 98.74% exactly; the ensemble 99.77%."
    path = notebook(tmp_path, markdown, "accuracy 98.74%\nensemble 0.9977")
    assert texts(path) == []


def test_a_speed_up_the_table_contradicts_is_caught(tmp_path):
    markdown = "VGG is about 5 times slower per epoch, and the ResNet 2.5x faster than it."
    path = notebook(tmp_path, markdown, "vgg 41.6 s\narticle 5.2 s\nratio 8.0x\nresnet 2.5x")
    assert texts(path) == ["5 times"]


def test_seconds_minutes_and_sizes_must_appear_as_written(tmp_path):
    markdown = "One epoch takes 1.80 s; the file is 2.6 MB; the whole run 12 minutes."
    path = notebook(tmp_path, markdown, "epoch: 1.81 s, file: 2.6 MB, run: 11.9")
    assert texts(path) == ["1.80 s", "12 minutes"]


def test_figures_with_a_named_source_targets_and_shapes_are_not_claims(tmp_path):
    markdown = (
        "The article reports 99.25% after 10 epochs. An et al. (2020) reach 99.91%.\n\n"
        "The target is 99.65%. Images are 28x28, filters 3x3, and 10 classes.\n\n"
        "Notebook 09 reached 99.7% in `12 minutes` with $p = 0.9$."
    )
    assert texts(notebook(tmp_path, markdown, "nothing")) == []


def test_a_setting_written_in_the_code_is_not_a_measurement(tmp_path):
    markdown = "The learning rate warms up over the first 20% of the steps."
    path = notebook(tmp_path, markdown, "done", code="schedule = one_cycle(warmup=0.2)")
    assert texts(path) == []


def test_the_command_line_exits_1_and_names_the_figure(tmp_path, capsys):
    path = notebook(tmp_path, "It reaches 97.1%.", "accuracy 98.0%")
    assert prose.main([str(path)]) == 1
    assert "'97.1%'" in capsys.readouterr().out


@pytest.mark.parametrize(
    "path", sorted(config.REPO_ROOT.glob("notebooks/[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem
)
def test_every_figure_in_the_prose_is_shown_by_the_notebook(path):
    problems = prose.unshown_figures(path)
    assert not problems, (
        f"{path.name}: figures that no output of this run shows (compute them in code, or "
        "name their source in the sentence):\n" + "\n".join(map(str, problems))
    )


def test_a_time_shown_only_as_a_bare_number_in_the_code_or_outputs_is_caught(tmp_path):
    markdown = "One epoch takes 10 s and the model file is 12 MB; the run took 3 minutes."
    path = notebook(tmp_path, markdown, "epochs: 10, batches: 12, seeds: 3", code="epochs = 10")
    assert texts(path) == ["10 s", "12 MB", "3 minutes"]
    shown = notebook(tmp_path, markdown, "epoch 1: 10 s\nsaved (12 MB)\ntotal 3 min")
    assert texts(shown) == []


def test_plural_digits_are_not_seconds(tmp_path):
    markdown = "Open-topped 9s read as 4s, and 1s with a flag as 7s; one step takes 0.29 s."
    assert texts(notebook(tmp_path, markdown, "one step: 0.31 s")) == ["0.29 s"]
