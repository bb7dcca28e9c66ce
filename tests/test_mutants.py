"""The mutation check's list stays in step with the code it breaks."""

import pytest

from helpers import config
from helpers.maintainer.mutants import MUTANTS, Mutant, apply


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.what)
def test_each_mutant_applies_once_and_names_existing_tests(mutant: Mutant, tmp_path):
    source = config.REPO_ROOT / mutant.path
    target = tmp_path / mutant.path
    target.parent.mkdir(parents=True)
    target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    apply(mutant, tmp_path)  # raises unless its line is there exactly once
    assert target.read_text(encoding="utf-8") != source.read_text(encoding="utf-8")
    assert all((config.REPO_ROOT / test).is_file() for test in mutant.tests)


def test_there_are_ten_mutants_of_five_modules():
    assert len(MUTANTS) == 10
    assert {m.path for m in MUTANTS} == {
        "helpers/data.py",
        "helpers/saving.py",
        "helpers/predict.py",
        "helpers/digits.py",
        "helpers/training.py",
    }
