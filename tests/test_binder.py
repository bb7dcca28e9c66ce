"""Binder: repo2docker must pick the conda environment, install the course, then run postBuild.

The Dockerfile checks need repo2docker (not a course dependency): they use its Python API
when ``repo2docker`` is importable, else its command line when ``repo2docker`` is on PATH
(``repo2docker --no-build --debug .`` renders the Dockerfile without Docker), and are
skipped otherwise. To run them: ``python3.11 -m venv /tmp/r2d-venv &&
/tmp/r2d-venv/bin/pip install jupyter-repo2docker`` then
``PATH=/tmp/r2d-venv/bin:$PATH .venv/bin/pytest tests/test_binder.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from helpers import config

ROOT = config.REPO_ROOT
POST_BUILD = ROOT / "postBuild"


def render_with_api() -> str:
    from repo2docker.app import Repo2Docker

    app = Repo2Docker()
    for buildpack_class in app.buildpacks:
        buildpack = buildpack_class(base_image=app.base_image)
        if buildpack.detect():
            break
    else:
        pytest.fail("repo2docker found no environment specification in the repository")
    assert type(buildpack).__name__ == "CondaBuildPack", f"picked {type(buildpack).__name__}"
    assert buildpack.python_version == "3.11"
    buildpack.platform = "linux/amd64"
    return buildpack.render({"NB_USER": "jovyan", "NB_UID": "1000"})


def render_with_cli(executable: str) -> str:
    result = subprocess.run(
        [executable, "--no-build", "--debug", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Building conda environment for python=3.11" in output, output[:2000]
    return output


@pytest.fixture(scope="module")
def dockerfile() -> str:
    """The Dockerfile repo2docker would build for this repository (rendered, not built)."""
    cwd = os.getcwd()
    os.chdir(ROOT)  # repo2docker's build packs read the files of the current folder
    try:
        try:
            import repo2docker  # noqa: F401
        except ImportError:
            executable = shutil.which("repo2docker")
            if executable is None:
                pytest.skip(
                    "repo2docker is not installed (it is not a course dependency): "
                    "pip install jupyter-repo2docker into a separate venv and put its bin/ "
                    "on PATH to run the Binder checks"
                )
            return render_with_cli(executable)
        return render_with_api()
    finally:
        os.chdir(cwd)


def test_environment_is_installed_from_environment_yml(dockerfile):
    assert '--file "environment.yml"' in dockerfile
    assert "env update -p ${NB_PYTHON_PREFIX}" in dockerfile


def test_course_is_copied_before_the_environment_is_installed(dockerfile):
    # environment.yml ends with `-e .`, so repo2docker must copy the repository first.
    copy = dockerfile.index("src/ ${REPO_DIR}/")
    install = dockerfile.index('--file "environment.yml"')
    assert copy < install


def test_post_build_runs_last(dockerfile):
    assert "RUN ./postBuild" in dockerfile
    assert dockerfile.index("RUN ./postBuild") > dockerfile.index('--file "environment.yml"')


def test_post_build_script_is_executable_bash_that_fetches_the_data():
    assert POST_BUILD.exists(), "postBuild is missing"
    assert os.access(POST_BUILD, os.X_OK), "postBuild must be executable: chmod +x postBuild"
    text = POST_BUILD.read_text()
    assert text.startswith("#!/bin/bash\n")
    assert "python -m helpers.data" in text
    assert "cp etc/ipython_kernel_config.py" in text  # as `make setup` does for .venv
    bash = shutil.which("bash")
    if bash:
        result = subprocess.run([bash, "-n", str(POST_BUILD)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


def test_environment_yml_installs_the_course_package():
    lines = [line.strip() for line in (ROOT / "environment.yml").read_text().splitlines()]
    assert "- -e ." in lines
    assert "- python=3.11" in lines
