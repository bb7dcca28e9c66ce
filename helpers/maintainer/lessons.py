"""Write the notebooks' ``# @save`` cells into the helper modules, as d2l does.

A function that a lesson teaches is written in that notebook's cell, and a later notebook,
the benchmark or a test imports it from ``helpers``. So that there is one copy, the cell
starts with a marker line naming its module::

    # @save helpers.architectures
    def residual_block(x, filters): ...

and the module holds a block that this tool writes from the notebook's marked cells, in
notebook order::

    # >>> notebooks/08_architectures.ipynb (generated: python -m helpers.maintainer.lessons)
    def residual_block(x, filters): ...


    # <<< notebooks/08_architectures.ipynb

The block is never edited by hand: edit the notebook cell, then run
``python -m helpers.maintainer.lessons`` (``make format`` does). ``--check`` changes
nothing and exits 1 when a block and its cells differ; ``tests/test_lessons.py`` runs it.
Imports a block needs are written once at the top of the module, outside the block.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers import config

MARKER = re.compile(r"^# @save (helpers(?:\.\w+)+)\s*$")
BEGIN = "# >>> {notebook} (generated: python -m helpers.maintainer.lessons)"
END = "# <<< {notebook}"


class LessonSyncError(Exception):
    """A marked cell names a module, or a module a block, that does not fit."""


@dataclass(frozen=True)
class SavedCell:
    notebook: str  # relative to the repository, e.g. "notebooks/08_architectures.ipynb"
    module: str  # e.g. "helpers.architectures"
    source: str  # the cell without its marker line


def saved_cells(notebook: Path, root: Path = config.REPO_ROOT) -> list[SavedCell]:
    """Return the ``# @save`` code cells of one notebook, in order."""
    nb = nbformat.read(notebook, as_version=4)
    name = notebook.resolve().relative_to(root).as_posix()
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        first, _, rest = cell.source.partition("\n")
        match = MARKER.match(first)
        if match:
            cells.append(SavedCell(name, match.group(1), rest.strip("\n")))
    return cells


def module_path(module: str, root: Path = config.REPO_ROOT) -> Path:
    """Return the file of ``helpers.x.y``; raise ``LessonSyncError`` if there is none."""
    path = root.joinpath(*module.split(".")).with_suffix(".py")
    if not path.is_file():
        raise LessonSyncError(f"# @save names {module}, but {path} does not exist: create it")
    return path


def render_block(notebook: str, sources: list[str]) -> str:
    """Return the generated block for one notebook's cells, markers included."""
    body = "\n\n\n".join(sources)  # two blank lines between cells, and before the end
    return f"{BEGIN.format(notebook=notebook)}\n{body}\n\n\n{END.format(notebook=notebook)}"


def replace_block(text: str, notebook: str, block: str, path: Path) -> str:
    """Return ``text`` with the block for ``notebook`` replaced by ``block``."""
    begin = re.escape(BEGIN.format(notebook=notebook))
    end = re.escape(END.format(notebook=notebook))
    pattern = re.compile(rf"^{begin}\n.*?^{end}$", re.S | re.M)
    if not pattern.search(text):
        raise LessonSyncError(
            f"{path} has no block for {notebook}: add the two lines\n"
            f"{BEGIN.format(notebook=notebook)}\n{END.format(notebook=notebook)}\n"
            "where its code belongs, then run python -m helpers.maintainer.lessons"
        )
    return pattern.sub(lambda _: block, text, count=1)


def orphan_blocks(text: str, notebooks: set[str]) -> list[str]:
    """Return the notebooks a module has blocks for but that save nothing into it."""
    found = re.findall(r"^# >>> (\S+) \(generated", text, re.M)
    return [nb for nb in found if nb not in notebooks]


def sync(
    notebooks: list[Path], check: bool = False, complete: bool = True, root: Path = config.REPO_ROOT
) -> list[str]:
    """Write (or with ``check``, compare) every block; return the modules that differ.

    With ``complete`` (``notebooks`` is every notebook), a block whose notebook saves
    nothing into its module is an error too.
    """
    by_module: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for notebook in sorted(notebooks):
        for cell in saved_cells(notebook, root):
            by_module[cell.module][cell.notebook].append(cell.source)
    differ = []
    for module, blocks in sorted(by_module.items()):
        path = module_path(module, root)
        old = path.read_text()
        new = old
        for notebook, sources in blocks.items():
            new = replace_block(new, notebook, render_block(notebook, sources), path)
        orphans = orphan_blocks(new, set(blocks))
        if complete and orphans:
            raise LessonSyncError(f"{path} has blocks for {orphans}, which save nothing there")
        if new != old:
            differ.append(module)
            if not check:
                path.write_text(new)
    return differ


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.maintainer.lessons [--check] [NOTEBOOK...]``."""
    parser = argparse.ArgumentParser(prog="python -m helpers.maintainer.lessons")
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 on drift")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((config.REPO_ROOT / "notebooks").glob("[0-9]*.ipynb"))
    try:
        differ = sync(notebooks, check=args.check, complete=not args.notebooks)
    except LessonSyncError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for module in differ:
        verb = "differs from its notebook cells" if args.check else "rewritten from notebook cells"
        print(f"{module}: {verb}")
    if args.check and differ:
        print("fix: python -m helpers.maintainer.lessons", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
