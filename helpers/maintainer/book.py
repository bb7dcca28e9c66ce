"""The course as a website (maintainers): a Jupyter Book built from the executed notebooks.

``python -m helpers.maintainer.book`` (``make book``) writes a book source into
``_build/book/src`` and builds the HTML site into ``_build/book/html`` (both ignored by git):

- the home page is the README's introduction, quick start and notebook table; the results
  and benchmark tables, the errata and the rest of the README are pages of their own, and so
  is ``docs/binder.md`` (running the course elsewhere);
- every numbered notebook is a page, with the outputs and figures of its last ``make course``
  run (nothing is executed here), in the parts of the README's notebook table;
- the launch buttons (Binder, Colab) and the repository link come from
  ``helpers.config.REPOSITORY`` and ``BRANCH``, the setting the badges use;
- cells folded in JupyterLab (the Colab cell, solutions) are folded on the page too;
- links to files that are not pages go to the repository on GitHub.

Nothing here needs the internet: MathJax is served from the site (``sphinx-mathjax-offline``)
and widget outputs (12's drawing pad) show their text form, since the widget scripts would
come from a CDN.
"""

from __future__ import annotations

import argparse
import json
import posixpath
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from myst_parser.mdit_to_docutils.base import default_slugify as slug

from helpers import config
from helpers.maintainer import links

OUT = config.REPO_ROOT / "_build" / "book"
TITLE = "Handwritten digits with a CNN"
FIRST_PART = "The article's pipeline"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# README sections by heading: which page each goes to (the others go to REFERENCE)
INDEX, RESULTS, ERRATA, REFERENCE, ELSEWHERE = (
    "index",
    "results",
    "errata",
    "reference",
    "elsewhere",
)
PAGE_OF_SECTION = {
    "Quick start": INDEX,
    "The notebooks": INDEX,
    "Results": RESULTS,
    "Beyond the article: benchmark": RESULTS,
    "Errata: what the article gets wrong today": ERRATA,
    "Other machines: GPU, macOS, Windows": ELSEWHERE,
}
PAGE_TITLES = {
    RESULTS: "Results and benchmark",
    ELSEWHERE: "Running the course elsewhere",
    ERRATA: "Errata: what the article gets wrong today",
    REFERENCE: "Predict, reproduce, test",
}
LINK = re.compile(r"(!?\[[^\]]*\])\(([^)\s]+)\)")


@dataclass
class Readme:
    """The README cut into the book's pages, and where each of its anchors went."""

    pages: dict[str, list[str]] = field(default_factory=dict)
    anchors: dict[str, str] = field(default_factory=dict)  # anchor -> page
    parts: list[tuple[str, list[str]]] = field(default_factory=list)  # caption -> notebooks


def split_readme(text: str) -> Readme:
    """Return the README's sections grouped into pages, its anchors and its notebook parts."""
    readme = Readme()
    page = INDEX
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            page = PAGE_OF_SECTION.get(heading, REFERENCE)
        if line.startswith("#"):
            readme.anchors.setdefault(slug(line.lstrip("#").strip()), page)
        readme.pages.setdefault(page, []).append(line)
    caption, notebooks = FIRST_PART, []
    for row in re.findall(r"^\| (.+?) \|", text, flags=re.MULTILINE):
        bold = re.fullmatch(r"\*\*(.+)\*\*", row.strip())
        named = re.search(r"\(notebooks/(\d\d_\w+)\.ipynb\)", row)
        if bold:
            readme.parts.append((caption, notebooks))
            caption, notebooks = bold.group(1), []
        elif named:
            notebooks.append(named.group(1))
    readme.parts.append((caption, notebooks))
    return readme


def _github(path: str) -> str:
    kind = "tree" if (config.REPO_ROOT / path).is_dir() else "blob"
    return f"{links.repository_url()}/{kind}/{links.BRANCH}/{path}"


def rewrite_links(text: str, source: str, dest: str, staged: set[str], readme: Readme) -> str:
    """Return ``text`` with its relative links made to work from ``dest`` in the book.

    ``source`` is the file's path in the repository and ``dest`` its page's path in the book
    source; ``staged`` holds the repository paths that are in the book under the same path.
    A README anchor goes to the page that holds it; any other file goes to GitHub.
    """
    here = PurePosixPath(dest).parent

    def page_link(page: str, anchor: str) -> str:
        target = f"{page}.md"
        if source == "README.md" and PurePosixPath(dest).stem == page:
            return f"#{anchor}" if anchor else target
        relative = posixpath.relpath(target, here.as_posix())
        return relative + (f"#{anchor}" if anchor else "")

    def fix(match: re.Match[str]) -> str:
        label, target = match.groups()
        if re.match(r"^[a-z]+:", target):
            return match.group(0)
        path, _, anchor = target.partition("#")
        if not path:
            if source != "README.md":  # JupyterLab keeps a heading's case, MyST lowers it
                return f"{label}(#{anchor.lower()})"
            return f"{label}({page_link(readme.anchors.get(anchor, INDEX), anchor)})"
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
        if resolved == "README.md":
            return f"{label}({page_link(readme.anchors.get(anchor, INDEX), anchor)})"
        if resolved == "docs/binder.md":
            return f"{label}({page_link(ELSEWHERE, anchor)})"
        if resolved in staged:
            relative = posixpath.relpath(resolved, here.as_posix())
            return f"{label}({relative}{'#' + anchor if anchor else ''})"
        return f"{label}({_github(resolved)}{'#' + anchor if anchor else ''})"

    # the badges' pictures come from Binder's and Colab's sites: on the page, text links
    for name, badge in (("Binder", links.BINDER_BADGE), ("Colab", links.COLAB_BADGE)):
        text = text.replace(f"[![Open in {name}]({badge})]", f"[Open in {name}]")
    return LINK.sub(fix, text)


def _promote(lines: list[str], title: str | None) -> str:
    """Return a README page's markdown: its ``##`` headings one level up, a title first."""
    body = [line[1:] if line.startswith("##") else line for line in lines]
    if title:
        body = [f"# {title}", ""] + body
    return "\n".join(body).strip() + "\n"


def stage_notebook(source: Path, dest: Path, staged: set[str], readme: Readme) -> None:
    """Copy one executed notebook into the book: folds tagged, links fixed, widgets as text."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    notebook["metadata"].pop("widgets", None)
    repo_path = source.relative_to(config.REPO_ROOT).as_posix()
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            cell["source"] = rewrite_links(text, repo_path, repo_path, staged, readme)
            continue
        if cell["cell_type"] != "code":
            continue
        if cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"):
            tag = "hide-cell" if text.startswith("# @title Solution") else "hide-input"
            cell["metadata"].setdefault("tags", []).append(tag)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and len(data) > 1:
                del data[WIDGET_VIEW]
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def book_config() -> str:
    """Return the book's ``_config.yml``: offline, no execution, launch buttons from links."""
    return f"""\
title: "{TITLE}"
author: the course's contributors
copyright: ""
only_build_toc_files: true
execute:
  execute_notebooks: "off"
repository:
  url: {links.repository_url()}
  branch: {links.BRANCH}
  path_to_book: ""
launch_buttons:
  notebook_interface: jupyterlab
  binderhub_url: https://mybinder.org
  colab_url: https://colab.research.google.com
html:
  favicon: images/samples/digit_3.png  # without one, browsers ask for a missing /favicon.ico
  use_repository_button: true
  use_download_button: true
sphinx:
  extra_extensions:
    - sphinx-mathjax-offline
  config:
    myst_heading_anchors: 3
    html_show_copyright: false
    html_last_updated_fmt: ""
    html_context:
      default_mode: auto  # else a first visit logs "Got invalid theme mode" in the console
"""


def book_toc(readme: Readme) -> str:
    """Return the book's ``_toc.yml``: home page, the README's parts, then the reference pages."""
    lines = ["format: jb-book", f"root: {INDEX}", "parts:"]
    for caption, notebooks in readme.parts:
        lines += [f'  - caption: "{caption}"', "    chapters:"]
        lines += [f"      - file: notebooks/{name}" for name in notebooks]
    lines += ['  - caption: "About the course"', "    chapters:"]
    lines += [f"      - file: {page}" for page in (RESULTS, ERRATA, ELSEWHERE, REFERENCE)]
    return "\n".join(lines) + "\n"


def stage(src: Path, root: Path = config.REPO_ROOT) -> Readme:
    """Write the book's source into ``src`` (emptied first); return the README's split."""
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    readme = split_readme((root / "README.md").read_text(encoding="utf-8"))
    notebooks = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    shutil.copytree(root / "images", src / "images")
    staged = {p.relative_to(root).as_posix() for p in (root / "images").rglob("*") if p.is_file()}
    staged |= {p.relative_to(root).as_posix() for p in notebooks}
    for notebook in notebooks:
        stage_notebook(notebook, src / "notebooks" / notebook.name, staged, readme)
    pages = {}
    for page, lines in readme.pages.items():
        text = _promote(lines, PAGE_TITLES.get(page)) if page != INDEX else "\n".join(lines) + "\n"
        pages[page] = rewrite_links(text, "README.md", f"{page}.md", staged, readme)
    # docs/binder.md follows the README's section on other machines, a level down
    binder = (root / "docs" / "binder.md").read_text(encoding="utf-8")
    binder = re.sub(r"^#", "##", binder, flags=re.MULTILINE)
    binder = rewrite_links(binder, "docs/binder.md", f"{ELSEWHERE}.md", staged, readme)
    pages[ELSEWHERE] = pages.get(ELSEWHERE, f"# {PAGE_TITLES[ELSEWHERE]}\n") + "\n" + binder
    for page, text in pages.items():
        (src / f"{page}.md").write_text(text, encoding="utf-8")
    (src / "_config.yml").write_text(book_config(), encoding="utf-8")
    (src / "_toc.yml").write_text(book_toc(readme), encoding="utf-8")
    return readme


def build(out: Path = OUT) -> Path:
    """Stage the book into ``out/src`` and build it into ``out/html``; return the index page.

    Raises ``RuntimeError`` with Sphinx's output if the build fails.
    """
    src, html = out / "src", out / "html"
    stage(src)
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "jupyter-book"), "config", "sphinx", str(src)],
        check=True,
        capture_output=True,
    )
    # Thebe (live code on the page) is not used, and its script is declared twice per page
    conf = src / "conf.py"
    conf.write_text(conf.read_text(encoding="utf-8").replace("'sphinx_thebe', ", ""))
    if html.exists():
        shutil.rmtree(html)
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", str(src), str(html)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the book did not build:\n{done.stdout}\n{done.stderr}")
    if done.stderr.strip():
        print(done.stderr.strip(), file=sys.stderr)
    return html / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="default: _build/book")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        index = build(args.out)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"book: {index} ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
