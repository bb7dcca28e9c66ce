"""Tests for helpers.maintainer.lessons: one copy of each function a notebook teaches."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from helpers import config
from helpers.maintainer import lessons


def write_notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A lesson")]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "shapes.py").write_text(
        '"""Shapes (notebook 01)."""\n\nimport math\n\n\n'
        "# >>> notebooks/01_shapes.ipynb (generated: python -m helpers.maintainer.lessons)\n"
        "# <<< notebooks/01_shapes.ipynb\n"
    )
    write_notebook(
        tmp_path / "notebooks" / "01_shapes.ipynb",
        "# @save helpers.shapes\ndef area(r):\n    return math.pi * r**2",
        "area(2.0)",
        "# @save helpers.shapes\ndef side(a):\n    return math.sqrt(a)",
    )
    return tmp_path


def test_marked_cells_are_written_into_their_block_in_order(repo: Path) -> None:
    notebooks = [repo / "notebooks" / "01_shapes.ipynb"]
    assert lessons.sync(notebooks, root=repo) == ["helpers.shapes"]
    text = (repo / "helpers" / "shapes.py").read_text()
    assert "def area(r):\n    return math.pi * r**2\n\n\ndef side(a):" in text
    assert "area(2.0)" not in text  # unmarked cells stay in the notebook
    assert lessons.sync(notebooks, check=True, root=repo) == []  # now in step


def test_check_reports_a_helper_edited_by_hand_and_changes_nothing(repo: Path) -> None:
    notebooks = [repo / "notebooks" / "01_shapes.ipynb"]
    lessons.sync(notebooks, root=repo)
    module = repo / "helpers" / "shapes.py"
    drifted = module.read_text().replace("math.pi * r**2", "3.14 * r**2")
    module.write_text(drifted)
    assert lessons.sync(notebooks, check=True, root=repo) == ["helpers.shapes"]
    assert module.read_text() == drifted


def test_a_module_without_the_block_is_an_error_that_names_the_fix(repo: Path) -> None:
    (repo / "helpers" / "shapes.py").write_text('"""No block."""\n')
    with pytest.raises(lessons.LessonSyncError, match="# >>> notebooks/01_shapes.ipynb"):
        lessons.sync([repo / "notebooks" / "01_shapes.ipynb"], root=repo)


def test_a_marker_naming_a_missing_module_is_an_error(repo: Path) -> None:
    nb = write_notebook(repo / "notebooks" / "02_x.ipynb", "# @save helpers.nowhere\nx = 1")
    with pytest.raises(lessons.LessonSyncError, match="helpers.nowhere"):
        lessons.sync([nb], root=repo)


def test_every_helper_block_matches_its_notebook_cells() -> None:
    notebooks = sorted((config.REPO_ROOT / "notebooks").glob("[0-9]*.ipynb"))
    differ = lessons.sync(notebooks, check=True)
    assert differ == [], (
        f"{differ} differ from their # @save cells: run python -m helpers.maintainer.lessons"
    )


def test_every_learner_facing_module_names_its_notebook_in_its_first_line() -> None:
    for path in sorted((config.REPO_ROOT / "helpers").glob("*.py")):
        if path.name == "__init__.py":
            continue
        first = path.read_text().split("\n", 1)[0]
        assert "notebook" in first, f"{path.name}: its first line should name its notebook"


def test_no_learner_facing_module_imports_a_maintainer_tool() -> None:
    import ast

    for path in sorted((config.REPO_ROOT / "helpers").glob("*.py")):
        tree = ast.parse(path.read_text())
        imported = [
            alias.name if isinstance(node, ast.Import) else f"{node.module}.{alias.name}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        ]
        assert not [name for name in imported if "maintainer" in name], path.name
