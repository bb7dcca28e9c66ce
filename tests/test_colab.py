"""Tests for helpers.colab: nothing happens off Colab; on Colab the right commands are built."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from helpers import colab, config, environment
from helpers.maintainer import links


@pytest.fixture
def off_colab(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.delenv(colab.COLAB_ENV, raising=False)


@pytest.fixture
def on_colab(monkeypatch):
    """Pretend to be on Colab; record widget-manager calls; refuse to run any command."""
    calls = []
    output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append("widgets"))
    fake = types.ModuleType("google.colab")
    fake.output = output
    monkeypatch.setitem(sys.modules, "google.colab", fake)
    monkeypatch.setitem(sys.modules, "google.colab.output", output)

    def refuse(*args, **kwargs):
        raise AssertionError(f"a command was run: {args}")

    monkeypatch.setattr(subprocess, "run", refuse)
    return calls


def test_in_colab_detection():
    assert colab.in_colab(modules={"google.colab": object()}, env={})
    assert colab.in_colab(modules={}, env={colab.COLAB_ENV: "release-colab_20260101"})
    assert not colab.in_colab(modules={"google": object()}, env={colab.COLAB_ENV: ""})


def test_in_colab_reads_this_process(off_colab, monkeypatch):
    assert not colab.in_colab()
    monkeypatch.setenv(colab.COLAB_ENV, "release")
    assert colab.in_colab()


def test_setup_off_colab_does_nothing_at_all(off_colab, monkeypatch, tmp_path):
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("ran a command"))
    monkeypatch.setattr(os, "chdir", lambda *a: pytest.fail("changed folder"))
    path_before = list(sys.path)
    assert colab.setup(tmp_path / "nowhere") == []
    assert sys.path == path_before
    assert not (tmp_path / "nowhere").exists()


def test_setup_commands_clone_install_and_missing_pins(tmp_path):
    clone = tmp_path / "course"
    commands = colab.setup_commands(clone, ["ipycanvas==0.14.3"])
    assert commands[0] == ["git", "clone", "--depth", "1", links.repository_url(), str(clone)]
    assert commands[1] == [
        *[sys.executable, "-m", "pip", "install", "--quiet"],
        *["--no-deps", "-e", str(clone)],
    ]
    assert commands[2] == [sys.executable, "-m", "pip", "install", "--quiet", "ipycanvas==0.14.3"]


def test_setup_commands_skip_the_clone_when_it_exists_and_no_pins_are_missing(tmp_path):
    commands = colab.setup_commands(tmp_path, [])
    assert [command[:4] for command in commands] == [[sys.executable, "-m", "pip", "install"]]


def test_missing_pins_lists_only_absent_packages(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "# comment\n"
        "numpy==0.0.1\n"  # installed in another version: Colab keeps its own
        "surely-not-installed-package==1.2.3\n"
        "ruff==9.9.9\n"  # a development tool: never installed on Colab
    )
    assert colab.missing_pins(requirements) == ["surely-not-installed-package==1.2.3"]


def test_missing_pins_of_the_course_are_none_here():
    # This environment was built from requirements.txt, so nothing is missing.
    assert colab.missing_pins(environment.REQUIREMENTS) == []


def test_setup_on_colab_without_running_returns_the_commands(on_colab, tmp_path):
    clone = tmp_path / "course"
    cwd = Path.cwd()
    commands = colab.setup(clone, run=False)
    assert commands == colab.setup_commands(clone, colab.missing_pins(environment.REQUIREMENTS))
    assert commands[0][:2] == ["git", "clone"]
    assert on_colab == [] and Path.cwd() == cwd


def test_setup_on_colab_runs_then_enables_widgets_and_changes_folder(
    on_colab, monkeypatch, tmp_path
):
    clone = tmp_path / "course"
    (clone / "notebooks").mkdir(parents=True)
    (clone / "requirements.txt").write_text("surely-not-installed-package==1.2.3\n")
    ran = []
    monkeypatch.setattr(subprocess, "run", lambda command, check: ran.append(command))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)
    commands = colab.setup(clone)
    assert ran == commands
    assert ran[-1][-1] == "surely-not-installed-package==1.2.3"
    assert not any(command[0] == "git" for command in ran)  # already cloned
    assert on_colab == ["widgets"]
    assert sys.path[0] == str(clone)
    assert Path.cwd() == clone / "notebooks"


def test_setup_code_names_the_repository_and_compiles():
    code = colab.colab_setup_code()
    assert links.repository_url() in code and str(colab.CLONE_DIR) in code
    compile(code, "<setup cell>", "exec")
    assert len(code.splitlines()) <= 15


def test_setup_code_off_colab_does_nothing(off_colab, monkeypatch):
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("ran a command"))
    path_before = list(sys.path)
    namespace = {}
    exec(colab.colab_setup_code(), namespace)  # noqa: S102 (our own snippet)
    assert sys.path == path_before
    assert set(namespace) == {"__builtins__", "sys"}


def test_setup_code_on_colab_clones_then_calls_setup(on_colab, monkeypatch, tmp_path):
    clone = tmp_path / "course"
    ran, setups = [], []
    monkeypatch.setattr(subprocess, "run", lambda command, check: ran.append(command))
    monkeypatch.setattr(colab, "setup", lambda folder: setups.append(folder))
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec(colab.colab_setup_code(clone), {})  # noqa: S102 (our own snippet)
    assert ran == [["git", "clone", "--depth", "1", links.repository_url(), str(clone)]]
    assert setups == [str(clone)]
    assert sys.path[0] == str(clone)


def test_setup_code_is_formatted_as_ruff_would(tmp_path):
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip(f"ruff is not installed next to {sys.executable}")
    script = tmp_path / "cell.py"
    script.write_text(colab.colab_setup_code())
    result = subprocess.run(
        [str(ruff), "format", "--check", "--diff", "--isolated", "--line-length=100", str(script)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "path",
    sorted(config.REPO_ROOT.glob("notebooks/[0-9][0-9]_*.ipynb")),
    ids=lambda p: p.stem,
)
def test_every_notebook_starts_its_setup_with_the_colab_cell(path):
    import jupytext

    code = [c.source for c in jupytext.read(path).cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code"
    assert code[0].strip() == colab.colab_setup_code().strip(), (
        f"{path.name}: the first code cell must be the Colab cell; print it with "
        "`python -c 'from helpers import colab; print(colab.colab_setup_code())'`"
    )
