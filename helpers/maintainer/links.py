""" "Open in Binder" and "Open in Colab" links for the notebooks, and the tool that adds them.

``binder_url("notebooks/01_data.ipynb")`` and ``colab_url(...)`` return the two URLs;
``badges(...)`` returns the markdown line that every notebook shows under its title.

``python -m helpers.maintainer.links`` (no files) rewrites everything that names the
repository from ``REPOSITORY`` and ``BRANCH``: every notebook script's badges and Colab cell
(the clone URL and folder), the badges of the README and docs/binder.md, then ``jupytext --sync`` carries them into
the notebooks, outputs kept. That is how a fork is published (CONTRIBUTING says how).

``python -m helpers.maintainer.links notebooks/*.py`` puts the badges line into each given
notebook *script* (py:percent), in its first markdown cell, right after the title's first
paragraph, or updates it where it is already there. ``--check`` changes nothing and exits
with 1 if a file's links are missing or point at another notebook or repository.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path, PurePosixPath

from helpers import config
from helpers.config import BRANCH, REPOSITORY, repository_url  # noqa: F401 (set there, once)

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


def update_colab_cell(text: str, name: str = "script") -> str:
    """Return the py:percent ``text`` with its Colab cell's code as ``colab_setup_code()``.

    The cell is the one whose code starts with the Colab cell's ``# @title`` line; its
    header line (with the folding metadata) is kept. Raises ``ValueError`` without one.
    """
    from helpers import colab  # colab imports this module

    wanted = colab.colab_setup_code().rstrip("\n").splitlines()
    lines = text.splitlines()
    try:
        first = lines.index(wanted[0])
    except ValueError:
        raise ValueError(f"{name}: no Colab cell (a code cell starting {wanted[0]!r})") from None
    end = next((j for j in range(first, len(lines)) if lines[j].startswith(CELL_MARKER)), None)
    end = len(lines) if end is None else end
    while end > first and not lines[end - 1].strip():
        end -= 1
    lines[first:end] = wanted
    return "\n".join(lines) + "\n"


def update_badges(text: str) -> str:
    """Return a markdown page's ``text`` with its badges lines pointing at the first notebook."""
    wanted = badges("notebooks/00_setup.ipynb")
    lines = [wanted if line.startswith(LINKS_PREFIX) else line for line in text.splitlines()]
    return "\n".join(lines) + "\n"


def rewrite_all(root: Path = config.REPO_ROOT) -> list[Path]:
    """Rewrite the badges and Colab cells of every notebook, and the README; return the changed.

    The notebooks follow their scripts through ``jupytext --sync`` (outputs kept).
    """
    changed = []
    scripts = sorted((root / "notebooks").glob("[0-9][0-9]_*.py"))
    for script in scripts:
        text = script.read_text(encoding="utf-8")
        updated = update_links(text, notebook_path(script, root), name=str(script))
        updated = update_colab_cell(updated, name=str(script))
        if updated != text:
            script.write_text(updated, encoding="utf-8")
            changed.append(script)
    for page in (root / "README.md", root / "docs" / "binder.md"):
        text = page.read_text(encoding="utf-8") if page.exists() else ""
        if update_badges(text) != text:
            page.write_text(update_badges(text), encoding="utf-8")
            changed.append(page)
    if any(path.suffix == ".py" for path in changed):
        jupytext = [sys.executable, "-m", "jupytext", "--quiet", "--sync"]
        subprocess.run([*jupytext, *map(str, scripts)], check=True, cwd=root)
    return changed


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.maintainer.links [--check] FILE...``: add/update the links, or check them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        help="notebook scripts (.py) or notebooks; none: rewrite the scripts, notebooks and README",
    )
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if wrong")
    parser.add_argument("--root", type=Path, default=config.REPO_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.files and not args.check:
        for path in rewrite_all(args.root):
            print(f"updated {path}")
        return 0
    if not args.files:
        args.files = sorted((args.root / "notebooks").glob("[0-9][0-9]_*.ipynb"))

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
