"""Tests for helpers.environment and for the agreement of requirements.txt and environment.yml."""

from __future__ import annotations

import re

import pytest

from helpers import config, environment


def environment_yml_pins() -> dict[str, str]:
    text = (config.REPO_ROOT / "environment.yml").read_text()
    pins = {}
    for line in text.splitlines():
        match = re.match(r"^\s+-\s+([A-Za-z0-9_.\-]+)==(\S+)\s*$", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_environment_yml_agrees_with_requirements():
    assert environment_yml_pins() == environment.read_pins()


def test_environment_yml_uses_python_311_from_conda_forge():
    text = (config.REPO_ROOT / "environment.yml").read_text()
    assert "conda-forge" in text and re.search(r"-\s+python=3\.11\b", text)


def test_core_packages_are_pinned():
    pins = environment.read_pins() | environment.read_pins(environment.REQUIREMENTS_DEV)
    for name in ["tensorflow", "keras", "jupyterlab", "nbval", "jupytext", "matplotlib",
                 "seaborn", "scikit-learn", "pandas", "pillow", "pytest", "ruff"]:  # fmt: skip
        assert name in pins, name
    assert pins["tensorflow"] == "2.21.0"


def test_learner_pins_leave_out_the_tools():
    pins = environment.read_pins()
    tools = environment.tool_packages()
    assert not tools & set(pins), "a package is pinned in both requirements files"
    assert environment.learner_pins() == pins
    assert {"tensorflow", "keras", "jupyterlab", "matplotlib", "ipycanvas"} <= set(pins)
    assert {"ruff", "pre-commit", "playwright", "pytest", "nbval", "jupyter-book"} <= tools


def test_learner_pins_of_a_file_that_pins_both_drop_the_tools(tmp_path):
    both = tmp_path / "requirements.txt"
    both.write_text("tensorflow==2.21.0\nruff==0.17.6\n")
    assert environment.learner_pins(both) == {"tensorflow": "2.21.0"}


def test_read_pins_ignores_comments(tmp_path):
    req = tmp_path / "r.txt"
    req.write_text("# a comment\nfoo==1.2 ; python_version>'3'\nBar==3.0\nbaz>=1\n\n")
    assert environment.read_pins(req) == {"foo": "1.2", "bar": "3.0"}


def test_check_versions_and_warnings():
    checks = environment.check_versions({"numpy": "0.0.1", "surely-not-installed-pkg": "1.0"})
    by_name = {c.name: c for c in checks}
    assert by_name["numpy"].installed and not by_name["numpy"].ok
    assert by_name["surely-not-installed-pkg"].installed is None
    messages = environment.version_warnings(checks)
    assert len(messages) == 2
    assert "pip install numpy==0.0.1" in messages[0]
    assert "not installed" in messages[1]


def test_installed_environment_matches_pins():
    problems = environment.version_warnings(environment.check_versions())
    if problems:
        pytest.fail("\n".join(problems))
