"""Run the course on Google Colab (every notebook's first cell): fetch the code, install what Colab lacks.

A notebook opened on Colab from GitHub arrives alone: no ``helpers`` package, no pins, no
``notebooks/`` folder. The first lines of each setup cell (``colab_setup_code()``) clone
the repository on Colab and call ``setup()``; anywhere else they do nothing at all.

``setup()`` installs the course package in editable mode and only the pinned packages
Colab does not have at all (it keeps Colab's own TensorFlow, so ``00_setup``'s version
check may report differences), turns on Colab's support for third-party widgets
(ipycanvas), puts the clone on ``sys.path`` and changes into its ``notebooks/`` folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from helpers import config, environment

COLAB_ENV = "COLAB_RELEASE_TAG"
CLONE_DIR = Path("/content") / config.REPOSITORY.split("/")[-1]
# Colab is its own notebook front end: JupyterLab is not worth installing there. (The tools
# that test the course are pinned in requirements-dev.txt, which Colab never reads.)
NOT_ON_COLAB = frozenset({"jupyterlab"})


def in_colab(
    modules: Mapping[str, object] | None = None, env: Mapping[str, str] | None = None
) -> bool:
    """Return True when running inside Google Colab (its module is loaded or its env var set)."""
    modules = sys.modules if modules is None else modules
    env = os.environ if env is None else env
    return "google.colab" in modules or bool(env.get(COLAB_ENV))


def missing_pins(requirements: Path) -> list[str]:
    """Return ``name==version`` for each pin in ``requirements`` that is not installed at all.

    Packages that are installed in another version are left alone, as are the
    packages in ``NOT_ON_COLAB``. Raises ``FileNotFoundError`` if the file is missing.
    """
    pins = environment.read_pins(requirements)
    checks = environment.check_versions(pins)
    return [
        f"{check.name}=={check.pinned}"
        for check in checks
        if check.installed is None and check.name not in NOT_ON_COLAB
    ]


def setup_commands(
    clone_dir: Path | str = CLONE_DIR, missing: list[str] | None = None
) -> list[list[str]]:
    """Return the commands that ``setup()`` runs, as argument lists, without running them.

    ``git clone`` only if ``clone_dir`` does not exist yet; then ``pip install -e`` of the
    clone, then ``pip install`` of the ``missing`` pins (if any).
    """
    commands = []
    if not Path(clone_dir).exists():
        url = config.repository_url()
        commands.append(["git", "clone", "--depth", "1", url, str(clone_dir)])
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    commands.append([*pip, "--no-deps", "-e", str(clone_dir)])
    if missing:
        commands.append([*pip, *missing])
    return commands


def setup(clone_dir: Path | str = CLONE_DIR, run: bool = True) -> list[list[str]]:
    """On Colab: clone, install, enable widgets, add to ``sys.path``, chdir to ``notebooks/``.

    Returns the commands it runs, or with ``run=False`` only would run (nothing else
    happens then). Off Colab it returns ``[]`` and does nothing at all. Raises
    ``subprocess.CalledProcessError`` if a command fails.
    """
    if not in_colab():
        return []
    clone_dir = Path(clone_dir)
    requirements = clone_dir / "requirements.txt"
    if not requirements.exists():  # not cloned yet: the pins are the same as this package's
        requirements = environment.REQUIREMENTS
    commands = setup_commands(clone_dir, missing_pins(requirements))
    if not run:
        return commands
    for command in commands:
        subprocess.run(command, check=True)
    try:  # Colab shows third-party widgets (ipycanvas) only after this call
        from google.colab import output

        output.enable_custom_widget_manager()
    except (ImportError, AttributeError):
        pass
    if str(clone_dir) not in sys.path:
        sys.path.insert(0, str(clone_dir))
    os.chdir(clone_dir / "notebooks")
    return commands


SETUP_CODE = """\
# @title Only on Colab: fetch the course, install what Colab lacks (elsewhere: nothing)
import sys

if "google.colab" in sys.modules:  # on Colab only: fetch the course, then set it up
    import os
    import subprocess

    course_dir = "{clone_dir}"
    if not os.path.isdir(course_dir):
        url = "{url}"
        subprocess.run(["git", "clone", "--depth", "1", url, course_dir], check=True)
    sys.path.insert(0, course_dir)
    from helpers import colab

    colab.setup(course_dir)
"""


def colab_setup_code(clone_dir: Path | str = CLONE_DIR) -> str:
    """Return the lines a notebook's setup cell starts with: on Colab they fetch the course.

    Off Colab they do nothing at all: the ``if`` is false, so nothing is imported or run.
    """
    return SETUP_CODE.format(clone_dir=clone_dir, url=config.repository_url())
