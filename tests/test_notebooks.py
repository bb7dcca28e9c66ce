"""Checks on the committed notebooks: paired, executed top to bottom in full mode, clean.

These read the files only; nbval (``pytest --nbval-lax notebooks``) executes them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import pytest

from helpers import config

NOTEBOOK_DIR = config.REPO_ROOT / "notebooks"
README = config.REPO_ROOT / "README.md"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
SCRIPTS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))
WARNING_PATTERNS = re.compile(r"DeprecationWarning|FutureWarning|is deprecated|will be removed")

ids = [path.stem for path in NOTEBOOKS]


def cells_of(path: Path) -> list[tuple[str, str]]:
    notebook = jupytext.read(path)
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def code_cells(path: Path) -> list[dict]:
    notebook = json.loads(path.read_text())
    return [
        cell
        for cell in notebook["cells"]
        if cell["cell_type"] == "code" and "".join(cell["source"]).strip()
    ]


def output_text(cell: dict) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            parts.append("".join(output["text"]))
        for key in ("text/plain", "text/html"):
            if key in output.get("data", {}):
                parts.append("".join(output["data"][key]))
        if output.get("output_type") == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
    return "\n".join(parts)


def test_the_readme_lists_every_notebook_in_order():
    listed = re.findall(r"^\| \[(\d\d_\w+)\]\(notebooks/\1\.ipynb\)", README.read_text(), re.M)
    assert listed == [n.stem for n in NOTEBOOKS]


def test_every_script_has_a_notebook():
    assert [s.stem for s in SCRIPTS] == [n.stem for n in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_paired_script_in_sync(path):
    script = path.with_suffix(".py")
    assert script.exists(), f"{script.name} is missing: run `jupytext --sync {path.name}`"
    assert cells_of(script) == cells_of(path), (
        f"{path.name} and {script.name} differ: run `jupytext --sync notebooks/{path.name}`"
    )
    formats = json.loads(path.read_text())["metadata"].get("jupytext", {}).get("formats", "")
    assert formats == "ipynb,py:percent"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_executed_top_to_bottom_in_one_kernel(path):
    counts = [cell.get("execution_count") for cell in code_cells(path)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..n; run `make course`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_no_errors_or_deprecation_warnings(path):
    for number, cell in enumerate(code_cells(path), start=1):
        kinds = [output["output_type"] for output in cell.get("outputs", [])]
        assert "error" not in kinds, f"{path.name}: code cell {number} has an error output"
        match = WARNING_PATTERNS.search(output_text(cell))
        assert not match, f"{path.name}: code cell {number} shows a warning: {match.group(0)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_executed_in_full_mode(path):
    banners = [
        line
        for cell in code_cells(path)
        for line in output_text(cell).splitlines()
        if line.startswith("Mode: ")
    ]
    assert banners, f"{path.name}: the setup cell does not print the mode banner"
    assert all(b.startswith("Mode: full") for b in banners), (
        f"{path.name} was last executed in fast mode: run `make course`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_structure_follows_style_guide(path):
    cells = cells_of(path)
    assert cells[0][0] == "markdown" and cells[0][1].startswith("# "), "first cell: H1 title"
    headings = [
        line.strip()
        for kind, source in cells
        if kind == "markdown"
        for line in source.splitlines()
        if line.startswith("## ")
    ]
    for required in ["## What you will learn", "## Before you start", "## Setup", "## Summary"]:
        assert required in headings, f"{path.name}: missing section {required!r}"
    assert any(h.startswith("## Exercises") for h in headings), f"{path.name}: no Exercises"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_links_point_at_existing_notebooks(path):
    text = "\n".join(source for kind, source in cells_of(path) if kind == "markdown")
    for target in re.findall(r"\]\(([^)#\s]+\.ipynb)\)", text):
        if "://" in target:
            continue
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"
