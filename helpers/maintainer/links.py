""" "Open in Binder" and "Open in Colab" links for the notebooks, and the tool that adds them.

``binder_url("notebooks/01_data.ipynb")`` and ``colab_url(...)`` return the two URLs;
``badges(...)`` returns the markdown line that every notebook shows under its title.

``python -m helpers.maintainer.links notebooks/*.py`` puts that line into each notebook *script*
(py:percent), in its first markdown cell, right after the title's first paragraph, or
updates it where it is already there; then ``jupytext --sync`` carries it into the
notebook. ``python -m helpers.maintainer.links --check notebooks/*.py notebooks/*.ipynb`` changes
nothing and exits with 1 if a file's links are missing or point at another notebook.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path, PurePosixPath

from helpers import config

REPOSITORY = "mnist-cnn-course/mnist-cnn-course"
BRANCH = "main"

BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
LINKS_PREFIX = "[![Open in Binder]"
CELL_MARKER = "# %%"
MARKDOWN_CELL = "# %% [markdown]"


def _relative(path: str | PurePosixPath) -> str:
    """Return ``path`` as a clean POSIX path inside the repository; raise ValueError if not."""
    text = str(path).replace("\\", "/")
    pure = PurePosixPath(text)
    if not text or pure.is_absolute() or ".." in pure.parts:
        raise ValueError(
            f"notebook path {text!r} must be relative to the repository root, "
            "like 'notebooks/01_data.ipynb'"
        )
    return pure.as_posix()


def repository_url(repository: str = REPOSITORY) -> str:
    """Return the repository's GitHub URL, ``https://github.com/<owner>/<name>``."""
    return f"https://github.com/{repository}"


def binder_url(path: str, repository: str = REPOSITORY, branch: str = BRANCH) -> str:
    """Return the mybinder.org URL that opens ``path`` (a file or folder) in JupyterLab.

    Raises ``ValueError`` if ``path`` is absolute or leaves the repository.
    """
    return f"https://mybinder.org/v2/gh/{repository}/{branch}?urlpath=lab/tree/{_relative(path)}"


def colab_url(path: str, repository: str = REPOSITORY, branch: str = BRANCH) -> str:
    """Return the Google Colab URL that opens the notebook ``path`` from GitHub.

    Raises ``ValueError`` if ``path`` is not a relative ``.ipynb`` path.
    """
    relative = _relative(path)
    if not relative.endswith(".ipynb"):
        raise ValueError(f"Colab opens notebooks only: {relative!r} is not an .ipynb file")
    return f"https://colab.research.google.com/github/{repository}/blob/{branch}/{relative}"


def badges(path: str, repository: str = REPOSITORY, branch: str = BRANCH) -> str:
    """Return the markdown line with the "Open in Binder" and "Open in Colab" badges."""
    binder = binder_url(path, repository, branch)
    colab = colab_url(path, repository, branch)
    return (
        f"[![Open in Binder]({BINDER_BADGE})]({binder}) [![Open in Colab]({COLAB_BADGE})]({colab})"
    )


def notebook_path(script: Path, root: Path = config.REPO_ROOT) -> str:
    """Return the repository path of the notebook paired with ``script`` (``.py`` -> ``.ipynb``).

    Raises ``ValueError`` if ``script`` is not inside ``root``.
    """
    script, root = Path(script).resolve(), Path(root).resolve()
    try:
        relative = script.relative_to(root)
    except ValueError:
        raise ValueError(f"{script} is not inside the repository {root}") from None
    return relative.with_suffix(".ipynb").as_posix()


def _first_markdown_cell(lines: list[str], name: str) -> tuple[int, int]:
    """Return (first, end) line indexes of the first markdown cell's body in a py:percent script."""
    for index, line in enumerate(lines):
        if line.strip() == MARKDOWN_CELL:
            end = next(
                (j for j in range(index + 1, len(lines)) if lines[j].startswith(CELL_MARKER)),
                len(lines),
            )
            return index + 1, end
    raise ValueError(f"{name}: no '{MARKDOWN_CELL}' cell; the notebook must start with its title")


def _markdown(line: str) -> str:
    """Return the markdown text of one ``# ``-commented script line."""
    if line.startswith("# "):
        return line[2:]
    return "" if line.strip() == "#" else line


def find_links(text: str, name: str = "script") -> str | None:
    """Return the links line (markdown) in a script's first markdown cell, or None."""
    lines = text.splitlines()
    first, end = _first_markdown_cell(lines, name)
    for line in lines[first:end]:
        if _markdown(line).startswith(LINKS_PREFIX):
            return _markdown(line)
    return None


def update_links(text: str, notebook: str, name: str = "script") -> str:
    """Return the py:percent ``text`` with the links line for ``notebook`` in its title cell.

    An existing links line is replaced where it is; otherwise the line goes after the first
    paragraph below the H1 title (or after the title itself), as its own paragraph.
    Raises ``ValueError`` (naming ``name``) if the first markdown cell has no H1 title.
    """
    lines = text.splitlines()
    first, end = _first_markdown_cell(lines, name)
    wanted = f"# {badges(notebook)}"
    for index in range(first, end):
        if _markdown(lines[index]).startswith(LINKS_PREFIX):
            lines[index] = wanted
            return "\n".join(lines) + "\n"
    body = [index for index in range(first, end) if _markdown(lines[index]).strip()]
    if not body or not _markdown(lines[body[0]]).startswith("# "):
        raise ValueError(f"{name}: the first markdown cell must start with an H1 title ('# # ...')")
    title = body[0]
    # The paragraph after the title: from the next non-blank line up to the next blank one.
    after = title
    following = [index for index in body if index > title]
    if following:
        after = following[0]
        while after + 1 < end and _markdown(lines[after + 1]).strip():
            after += 1
    lines[after + 1 : after + 1] = ["#", wanted]
    if after + 3 < end + 2 and _markdown(lines[after + 3]).strip():
        lines.insert(after + 3, "#")
    return "\n".join(lines) + "\n"


def notebook_links(path: Path) -> str | None:
    """Return the links line in the first markdown cell of the notebook ``path``, or None.

    Raises ``ValueError`` if the file is not a notebook with a markdown cell.
    """
    cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            source = cell["source"]
            source = "".join(source) if isinstance(source, list) else source
            return next(
                (line for line in source.splitlines() if line.startswith(LINKS_PREFIX)), None
            )
    raise ValueError(f"{path}: no markdown cell; the notebook must start with its title")


def check_links(found: str | None, notebook: str) -> str | None:
    """Return what is wrong with the links line ``found`` for ``notebook``, or None if it is right."""
    if found is None:
        return "no 'Open in Binder / Colab' links line in the first markdown cell"
    if found.strip() != badges(notebook):
        others = [part for part in found.split("(") if ".ipynb" in part and notebook not in part]
        where = "another notebook" if others else "the wrong repository or branch"
        return f"the links line points at {where}; expected links for {notebook}"
    return None


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.maintainer.links [--check] FILE...``: add/update the links, or check them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help="notebook scripts (.py) or notebooks")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if wrong")
    parser.add_argument("--root", type=Path, default=config.REPO_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    problems = []
    for path in args.files:
        try:
            notebook = notebook_path(path, args.root)
            if path.suffix == ".ipynb":
                if not args.check:
                    raise ValueError(
                        "edit the paired .py script instead, then run `jupytext --sync`"
                    )
                found = notebook_links(path)
            else:
                text = path.read_text(encoding="utf-8")
                if not args.check:
                    updated = update_links(text, notebook, name=str(path))
                    if updated != text:
                        path.write_text(updated, encoding="utf-8")
                        print(f"updated {path}")
                    continue
                found = find_links(text, name=str(path))
            problem = check_links(found, notebook)
        except (OSError, ValueError) as exc:
            problem = str(exc)
        if problem:
            problems.append(f"{path}: {problem}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems and args.check:
        print(
            "fix: python -m helpers.maintainer.links notebooks/[0-9]*.py && jupytext --sync notebooks/[0-9]*.py",
            file=sys.stderr,
        )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
