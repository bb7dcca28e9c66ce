"""nbval set-up: every notebook runs alone, with its own empty models folder.

Before the kernel of each notebook starts, ``COURSE_MODELS_DIR`` points at a fresh empty
folder, so a notebook that needs a model an earlier one trains must load it or train a
short one itself. This is how the course checks that no notebook depends on another.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_current = {"notebook": None, "folder": None}


def _leave_notebook() -> None:
    """Delete the current notebook's models folder and unset ``COURSE_MODELS_DIR``."""
    if _current["folder"]:
        shutil.rmtree(_current["folder"], ignore_errors=True)
        os.environ.pop("COURSE_MODELS_DIR", None)
    _current.update(notebook=None, folder=None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    notebook = item.parent
    if not str(getattr(notebook, "path", "")).endswith(".ipynb"):
        # a unit test after a notebook (pytest-xdist mixes them): the models folder as usual
        _leave_notebook()
        return
    if _current["notebook"] is not notebook:
        _leave_notebook()
        _current["notebook"] = notebook
        _current["folder"] = tempfile.mkdtemp(prefix=f"models-{notebook.path.stem}-")
        os.environ["COURSE_MODELS_DIR"] = _current["folder"]


def pytest_sessionfinish(session: pytest.Session) -> None:
    _leave_notebook()
