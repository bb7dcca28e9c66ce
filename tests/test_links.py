"""Tests for helpers.maintainer.links: the Binder/Colab URLs and the tool that puts them in the notebooks."""

from __future__ import annotations

import json

import pytest

from helpers import config
from helpers.maintainer import links

HEADER = """\
# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
# ---
"""

SCRIPT = (
    HEADER
    + """
# %% [markdown]
# # 01 · Explore the data
#
# Look at MNIST before training anything: what the arrays hold,
# and what the digits look like.
#
# [Previous: 00 · Check your setup](00_setup.ipynb) · [Next: 02](02_preprocessing.ipynb)

# %% [markdown]
# ## What you will learn

# %%
print("[![Open in Binder] in code is not a links line")
"""
)

NOTEBOOK = "notebooks/01_data.ipynb"
COMMITTED = sorted((config.REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def write_script(tmp_path, text=SCRIPT, name="01_data.py"):
    folder = tmp_path / "notebooks"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_urls_for_a_notebook():
    from urllib.parse import parse_qs, urlsplit

    owner, name = links.REPOSITORY.split("/")
    binder = urlsplit(links.binder_url(NOTEBOOK))
    assert (binder.scheme, binder.netloc) == ("https", "mybinder.org")
    assert binder.path.split("/") == ["", "v2", "gh", owner, name, links.BRANCH]
    assert parse_qs(binder.query) == {"urlpath": ["lab/tree/" + NOTEBOOK]}
    colab = urlsplit(links.colab_url(NOTEBOOK))
    assert (colab.netloc, colab.query) == ("colab.research.google.com", "")
    assert colab.path.split("/")[:6] == ["", "github", owner, name, "blob", links.BRANCH]
    assert colab.path.endswith("/" + NOTEBOOK)
    assert urlsplit(links.repository_url()).path == f"/{owner}/{name}"


def test_urls_follow_the_repository_and_branch_arguments():
    assert links.binder_url("notebooks", "me/fork", "dev").endswith(
        "/v2/gh/me/fork/dev?urlpath=lab/tree/notebooks"
    )
    assert "/github/me/fork/blob/dev/notebooks/x.ipynb" in links.colab_url(
        "notebooks/x.ipynb", "me/fork", "dev"
    )


@pytest.mark.parametrize("bad", ["/abs/01.ipynb", "../01.ipynb", "notebooks/../../x.ipynb", ""])
def test_paths_outside_the_repository_are_refused(bad):
    with pytest.raises(ValueError, match="relative to the repository root"):
        links.binder_url(bad)


def test_colab_needs_a_notebook():
    with pytest.raises(ValueError, match="not an .ipynb"):
        links.colab_url("notebooks/01_data.py")


def test_badges_line_is_markdown_with_both_links():
    line = links.badges(NOTEBOOK)
    assert line.startswith(links.LINKS_PREFIX)
    assert f"]({links.binder_url(NOTEBOOK)})" in line
    assert f"[![Open in Colab]({links.COLAB_BADGE})]({links.colab_url(NOTEBOOK)})" in line
    assert "\n" not in line


def test_notebook_path_of_a_script(tmp_path):
    script = write_script(tmp_path)
    assert links.notebook_path(script, root=tmp_path) == NOTEBOOK
    with pytest.raises(ValueError, match="is not inside the repository"):
        links.notebook_path(script, root=tmp_path / "elsewhere")


def test_insert_after_the_title_paragraph():
    updated = links.update_links(SCRIPT, NOTEBOOK)
    lines = updated.splitlines()
    at = lines.index(f"# {links.badges(NOTEBOOK)}")
    assert lines[at - 2 : at] == ["# and what the digits look like.", "#"]
    assert lines[at + 1 : at + 3] == ["#", lines[at + 2]]
    assert lines[at + 2].startswith("# [Previous: 00")
    assert updated.count(links.LINKS_PREFIX) == 2  # ours, and the untouched code cell
    assert links.find_links(updated) == links.badges(NOTEBOOK)


def test_insert_is_idempotent_and_changes_nothing_else():
    once = links.update_links(SCRIPT, NOTEBOOK)
    assert links.update_links(once, NOTEBOOK) == once
    removed = [line for line in once.splitlines() if not line.startswith(f"# {links.LINKS_PREFIX}")]
    assert "\n".join(removed).replace("#\n#\n", "#\n") + "\n" == SCRIPT


def test_a_wrong_links_line_is_replaced_in_place():
    stale = links.update_links(SCRIPT, "notebooks/02_preprocessing.ipynb")
    fixed = links.update_links(stale, NOTEBOOK)
    assert fixed == links.update_links(SCRIPT, NOTEBOOK)
    assert "02_preprocessing.ipynb?" not in fixed


def test_title_only_cell_gets_the_line_after_the_title():
    text = HEADER + "\n# %% [markdown]\n# # Title\n\n# %%\nx = 1\n"
    updated = links.update_links(text, NOTEBOOK)
    assert f"# # Title\n#\n# {links.badges(NOTEBOOK)}\n\n# %%" in updated


@pytest.mark.parametrize(
    "text, message",
    [
        (HEADER + "\n# %%\nx = 1\n", "no '# %% \\[markdown\\]' cell"),
        (HEADER + "\n# %% [markdown]\n# ## Not a title\n", "must start with an H1 title"),
    ],
)
def test_scripts_without_a_title_cell_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        links.update_links(text, NOTEBOOK, name="broken.py")


@pytest.mark.parametrize(
    "found, expected",
    [
        (None, "no 'Open in Binder / Colab' links line"),
        (links.badges("notebooks/02_preprocessing.ipynb"), "another notebook"),
        (links.badges(NOTEBOOK, branch="dev"), "the wrong repository or branch"),
    ],
)
def test_check_links_names_the_problem(found, expected):
    assert expected in links.check_links(found, NOTEBOOK)


def test_check_links_accepts_the_right_line():
    assert links.check_links(links.badges(NOTEBOOK), NOTEBOOK) is None


def test_cli_inserts_then_check_passes(tmp_path, capsys):
    script = write_script(tmp_path)
    args = ["--root", str(tmp_path), str(script)]
    assert links.main(["--check", *args]) == 1
    assert "no 'Open in Binder / Colab' links line" in capsys.readouterr().err
    assert links.main(args) == 0
    assert f"updated {script}" in capsys.readouterr().out
    assert links.find_links(script.read_text()) == links.badges(NOTEBOOK)
    assert links.main(["--check", *args]) == 0
    before = script.read_text()
    assert links.main(args) == 0
    assert script.read_text() == before
    assert capsys.readouterr().out == ""


def test_cli_check_finds_links_copied_from_another_notebook(tmp_path, capsys):
    copied = links.update_links(SCRIPT, NOTEBOOK)
    script = write_script(tmp_path, copied, name="02_preprocessing.py")
    assert links.main(["--check", "--root", str(tmp_path), str(script)]) == 1
    err = capsys.readouterr().err
    assert "02_preprocessing.py: the links line points at another notebook" in err
    assert "fix: python -m helpers.maintainer.links" in err


def write_notebook(tmp_path, first_markdown):
    path = tmp_path / "notebooks" / "01_data.ipynb"
    path.parent.mkdir(exist_ok=True)
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": first_markdown},
        {"cell_type": "markdown", "metadata": {}, "source": [links.badges(NOTEBOOK)]},
    ]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4}))
    return path


def test_cli_checks_notebooks_too(tmp_path):
    good = write_notebook(tmp_path, ["# Title\n", "\n", links.badges(NOTEBOOK) + "\n"])
    assert links.notebook_links(good) == links.badges(NOTEBOOK)
    assert links.main(["--check", "--root", str(tmp_path), str(good)]) == 0
    # Links further down (not in the first markdown cell) do not count.
    bad = write_notebook(tmp_path, "# Title\n")
    assert links.notebook_links(bad) is None
    assert links.main(["--check", "--root", str(tmp_path), str(bad)]) == 1


def test_cli_refuses_to_edit_a_notebook(tmp_path, capsys):
    path = write_notebook(tmp_path, "# Title\n")
    assert links.main(["--root", str(tmp_path), str(path)]) == 1
    assert "edit the paired .py script instead" in capsys.readouterr().err


def test_cli_reports_a_missing_file(tmp_path, capsys):
    missing = tmp_path / "notebooks" / "99_missing.py"
    assert links.main(["--check", "--root", str(tmp_path), str(missing)]) == 1
    assert "99_missing.py" in capsys.readouterr().err


def test_there_are_committed_notebooks_to_check():
    assert COMMITTED, "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("path", COMMITTED, ids=[path.stem for path in COMMITTED])
def test_committed_notebook_links_to_itself_on_binder_and_colab(path):
    notebook = path.relative_to(config.REPO_ROOT).as_posix()
    found = links.notebook_links(path) or ""
    script = f"notebooks/{path.stem}.py"
    fix = f"run `python -m helpers.maintainer.links {script} && jupytext --sync {script}`"
    assert links.binder_url(notebook) in found, f"{path.name}: no Binder link to itself; {fix}"
    assert links.colab_url(notebook) in found, f"{path.name}: no Colab link to itself; {fix}"


@pytest.mark.slow
def test_a_fork_is_one_edit_and_one_command(tmp_path):
    """Change REPOSITORY and BRANCH in a copy of the repository, run the tool: no old name left."""
    import subprocess
    import sys

    from helpers.maintainer.mutants import tracked_copy

    copy = tmp_path / "fork"
    tracked_copy(copy)
    setting = copy / "helpers" / "config.py"
    text = setting.read_text()
    old = [f'REPOSITORY = "{links.REPOSITORY}"', f'BRANCH = "{links.BRANCH}"']
    assert all(line in text for line in old)
    text = text.replace(old[0], 'REPOSITORY = "someone/digit-lessons"')
    setting.write_text(text.replace(old[1], 'BRANCH = "trunk"'))

    env = {**__import__("os").environ, "PYTHONPATH": str(copy)}
    done = subprocess.run(
        [sys.executable, "-m", "helpers.maintainer.links"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    name = links.REPOSITORY.split("/")[-1]
    traces = [
        str(path.relative_to(copy))
        for path in sorted(copy.rglob("*"))
        if path.is_file()
        and path.suffix in {".py", ".ipynb", ".md", ".yml", ".toml", ".txt", ".cfg", ""}
        and (
            links.REPOSITORY in (content := path.read_text(errors="replace"))
            or f"/content/{name}" in content
            or f"/{links.BRANCH}/notebooks" in content
        )
    ]
    assert traces == []
    for notebook in sorted((copy / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        source = notebook.read_text()
        assert "/github/someone/digit-lessons/blob/trunk/notebooks/" in source, notebook.name
        assert "https://github.com/someone/digit-lessons" in source, notebook.name
        assert "/content/digit-lessons" in source, notebook.name
    check = subprocess.run(
        [sys.executable, "-m", "helpers.maintainer.links", "--check"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
