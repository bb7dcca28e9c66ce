"""The course's website: ``helpers.maintainer.book`` builds it, headless Chromium reads it.

The site is built once (about half a minute) from the committed notebooks into a temporary
folder, served on localhost, and every page is opened in Chromium (Debian's, through
Playwright; the browser part is skipped without them). Screenshots go to a temporary
folder, or to ``images/screenshots/`` under ``make screenshots`` (``COURSE_SCREENSHOTS=1``).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest

from helpers import config
from helpers.maintainer import book, links

ROOT = config.REPO_ROOT
CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

README = """\
# Title

Intro, see [the errata](#errata-what-the-article-gets-wrong-today) and [docs](docs/binder.md).

## The notebooks

| notebook | what you do |
| --- | --- |
| [00_setup](notebooks/00_setup.ipynb) | set up |
| **Beyond the article** | |
| [07_augmentation](notebooks/07_augmentation.ipynb) | augment |

## Results

Numbers, made by [the runner](helpers/maintainer/runner.py).

### Per notebook

## Errata: what the article gets wrong today

Back to [the results](#per-notebook).

## Layout

Files.
"""


def test_readme_is_cut_into_pages_with_their_anchors_and_parts() -> None:
    readme = book.split_readme(README)
    assert sorted(readme.pages) == ["errata", "index", "reference", "results"]
    assert readme.anchors["per-notebook"] == "results"
    assert readme.anchors["errata-what-the-article-gets-wrong-today"] == "errata"
    assert readme.anchors["layout"] == "reference"
    assert readme.parts == [
        ("The article's pipeline", ["00_setup"]),
        ("Beyond the article", ["07_augmentation"]),
    ]


def test_links_go_to_the_page_that_holds_them_or_to_github() -> None:
    readme = book.split_readme(README)
    staged = {"notebooks/00_setup.ipynb", "images/a.png"}
    index = book.rewrite_links(README, "README.md", "index.md", staged, readme)
    assert "[the errata](errata.md#errata-what-the-article-gets-wrong-today)" in index
    assert "[docs](elsewhere.md)" in index
    assert "[00_setup](notebooks/00_setup.ipynb)" in index
    runner = f"{links.repository_url()}/blob/{links.BRANCH}/helpers/maintainer/runner.py"
    assert f"[the runner]({runner})" in index
    errata = book.rewrite_links(README, "README.md", "errata.md", staged, readme)
    assert "[the results](results.md#per-notebook)" in errata
    cell = "See [02](02_preprocessing.ipynb), ![a](../images/a.png), [up](#A-Heading), [r](../README.md#layout)."
    fixed = book.rewrite_links(
        cell, "notebooks/01_data.ipynb", "notebooks/01_data.ipynb", staged, readme
    )
    assert "[02](" + links.repository_url() in fixed  # not staged: on GitHub
    assert "![a](../images/a.png)" in fixed
    assert "[up](#a-heading)" in fixed
    assert "[r](../reference.md#layout)" in fixed


def test_staged_book_has_every_notebook_in_the_readme_parts_and_folds_solutions(tmp_path) -> None:
    readme = book.stage(tmp_path)
    toc = (tmp_path / "_toc.yml").read_text()
    in_parts = [name for _, names in readme.parts for name in names]
    assert in_parts == NOTEBOOKS
    assert [caption for caption, _ in readme.parts] == [
        "The article's pipeline",
        "Beyond the article",
        "Use the model",
        "Grow",
    ]
    for name in NOTEBOOKS:
        assert f"file: notebooks/{name}\n" in toc
    config_text = (tmp_path / "_config.yml").read_text()
    assert f"url: {links.repository_url()}\n" in config_text
    cells = json.loads((tmp_path / "notebooks" / "00_setup.ipynb").read_text())["cells"]
    tags = {
        "".join(c["source"]).splitlines()[0]: c["metadata"].get("tags", [])
        for c in cells
        if c["cell_type"] == "code"
    }
    assert tags["# @title Solution"] == ["hide-cell"]
    assert "hide-input" in next(t for line, t in tags.items() if "Only on Colab" in line)


# --- the built site, in a browser -------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book")
    index = book.build(out)
    assert index.is_file()
    return index.parent


@contextlib.contextmanager
def served(folder: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest's output for failures
        pass


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (Debian: apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


def screenshot_folder(tmp_path: Path) -> Path:
    if os.environ.get("COURSE_SCREENSHOTS") == "1":
        return ROOT / "images" / "screenshots"
    return tmp_path


@pytest.mark.slow
def test_site_in_a_browser(site: Path, browser, tmp_path: Path) -> None:
    pages = sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if not p.relative_to(site).parts[0].startswith("_")  # the theme's templates
    )
    assert {f"notebooks/{name}.html" for name in NOTEBOOKS} <= set(pages)
    for page_name in ("index.html", "results.html", "errata.html", "elsewhere.html", "search.html"):
        assert page_name in pages
    with served(site) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        # A request cut short because the test moved on to the next page (the favicon,
        # often) is aborted, not missing; a missing file is a response of 404.
        page.on(
            "requestfailed",
            lambda r: (
                None if "ERR_ABORTED" in (r.failure or "") else errors.append(f"failed: {r.url}")
            ),
        )
        page.on(
            "response", lambda r: errors.append(f"{r.status}: {r.url}") if r.status >= 400 else None
        )
        anchors: dict[str, set[str]] = {}
        internal: set[tuple[str, str]] = set()
        for name in pages:
            page.goto(base + name, wait_until="load")
            assert errors == [], f"{name}: {errors}"
            anchors[name] = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
            for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                url, fragment = urldefrag(href)
                if url.startswith(base):
                    internal.add((url[len(base) :] or "index.html", fragment))
            if name.startswith("notebooks/"):
                widths = page.eval_on_selector_all(
                    "article img", "els => els.map(e => [e.src, e.complete && e.naturalWidth])"
                )
                assert [src for src, width in widths if not width] == [], name

        def resolves(target: str, fragment: str) -> bool:
            path = urlparse(target).path
            if path in anchors:
                return not fragment or fragment in anchors[path]
            return (site / path).is_file() and not fragment

        missing = [link for link in sorted(internal) if not resolves(*link)]
        assert missing == []
        assert any(target.startswith("notebooks/") for target, _ in internal)

        notebook = "notebooks/05_evaluation.ipynb"
        page.goto(base + notebook.replace(".ipynb", ".html"))
        launch = page.eval_on_selector_all(
            ".dropdown-launch-buttons a", "els => els.map(e => e.href)"
        )
        assert launch == [links.binder_url(notebook), links.colab_url(notebook)]
        download = page.get_attribute(".btn-download-source-button", "href")
        assert download == "../_sources/" + notebook
        assert (site / "_sources" / notebook).is_file()
        solution = page.locator(".tag_hide-cell details").first
        assert solution.count() == 1 and solution.get_attribute("open") is None
        assert not page.locator(".tag_hide-cell .cell_input").first.is_visible()
        folder = screenshot_folder(tmp_path)
        page.screenshot(path=str(folder / "book_05_evaluation.png"))

        page.goto(base + "search.html?q=confusion+matrix")
        results = page.locator("#search-results li a")
        results.first.wait_for(timeout=30_000)
        found = results.evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert any("05_evaluation" in href for href in found), found

        page.goto(base + "index.html")
        page.screenshot(path=str(folder / "book_home.png"))
        assert errors == []
        page.close()
