"""Do the tests bite? Ten one-line breaks of the plumbing, each of which a test must catch.

``python -m helpers.maintainer.mutants`` copies the repository's tracked files into a
temporary folder once per mutant, makes that one edit there, and runs the tests that cover
the module (``pytest -x -q``, in that copy). A mutant is *killed* when those tests fail. It
prints one line per mutant and the score; the exit code is 1 unless every mutant is killed.
First the same tests run on an unchanged copy (the baseline), which must pass. ``--list``
prints the mutants without running anything. ``make test`` runs these test files
too, so it catches each of these breaks.

Each mutant is a plausible bug, not a syntax error: a check turned off, a comparison
flipped, a size or an exit code changed, a write made non-atomic, a step skipped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from helpers import config


@dataclass(frozen=True)
class Mutant:
    """One edit: ``old`` (found exactly once in ``path``) becomes ``new``."""

    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    what: str


MUTANTS = (
    Mutant(
        "helpers/data.py",
        "        if (module, name) not in allowed:",
        "        if (module, name) not in allowed and module != 'posix':",
        ("tests/test_data.py",),
        "the unpickler lets os.system through",
    ),
    Mutant(
        "helpers/data.py",
        "        if digest != expected[name]:",
        "        if digest != expected[name] and False:",
        ("tests/test_data.py",),
        "arrays whose SHA-256 differs from the official files are accepted",
    ),
    Mutant(
        "helpers/data.py",
        "        with np.load(path, allow_pickle=False) as npz:",
        "        with np.load(path, allow_pickle=True) as npz:",
        ("tests/test_data.py",),
        "the cache is read with pickles allowed",
    ),
    Mutant(
        "helpers/saving.py",
        "    if not zipfile.is_zipfile(path):",
        "    if False:",
        ("tests/test_saving.py",),
        "a truncated .keras archive is not named as such",
    ),
    Mutant(
        "helpers/saving.py",
        "            tmp.write(text)\n        os.replace(tmp_name, path)",
        "            tmp.write(text[: len(text) // 2])\n        os.replace(tmp_name, path)",
        ("tests/test_saving.py",),
        "a JSON file is published half-written",
    ),
    Mutant(
        "helpers/predict.py",
        "EXIT_MODEL_ERROR = 2",
        "EXIT_MODEL_ERROR = 1",
        ("tests/test_predict.py",),
        "a bad model file exits like a bad picture",
    ),
    Mutant(
        "helpers/digits.py",
        "BOX_SIZE = 20  # the digit is fitted in a box this size, aspect ratio kept",
        "BOX_SIZE = 22  # the digit is fitted in a box this size, aspect ratio kept",
        ("tests/test_digits.py",),
        "digits are fitted in 22x22 instead of MNIST's 20x20",
    ),
    Mutant(
        "helpers/digits.py",
        "        float((image.sum(axis=1) * rows).sum() / total),",
        "        float((image.sum(axis=0) * rows).sum() / total),",
        ("tests/test_digits.py",),
        "the centre of mass mixes up rows and columns",
    ),
    Mutant(
        "helpers/training.py",
        'if line.endswith("\\n") and first.isdigit() and int(first) < epochs_done:',
        'if line.endswith("\\n") and first.isdigit() and int(first) <= epochs_done:',
        ("tests/test_resume.py", "tests/test_training.py"),
        "a resumed run keeps one CSV row too many",
    ),
    Mutant(
        "helpers/training.py",
        "    os.replace(backup_dir, aside)",
        "    shutil.rmtree(backup_dir)",
        ("tests/test_crash_safety.py", "tests/test_resume.py"),
        "a damaged back-up is deleted instead of set aside",
    ),
)


def tracked_copy(destination: Path, root: Path = config.REPO_ROOT) -> None:
    """Copy the files git tracks in ``root`` into ``destination``, and the data (a link)."""
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listing.split("\0")):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)
    if (root / "data").is_dir():  # MNIST, fetched once: read, never written by these tests
        (destination / "data").symlink_to(root / "data")


def apply(mutant: Mutant, root: Path) -> None:
    """Make ``mutant``'s edit in the copy at ``root``; raise ValueError if it is not unique."""
    path = root / mutant.path
    text = path.read_text(encoding="utf-8")
    if text.count(mutant.old) != 1:
        raise ValueError(f"{mutant.path}: {mutant.old!r} is not there exactly once")
    path.write_text(text.replace(mutant.old, mutant.new), encoding="utf-8")


def killed(mutant: Mutant | None, tests: Sequence[str] = ()) -> tuple[bool, float]:
    """Return whether ``mutant``'s tests fail in a mutated copy, and the seconds they took.

    With ``mutant=None`` the copy is left as it is and ``tests`` run: the baseline, which
    must pass for a killed mutant to mean anything.
    """
    with tempfile.TemporaryDirectory(prefix="mutant-") as folder:
        root = Path(folder)
        tracked_copy(root)
        if mutant is not None:
            apply(mutant, root)
            tests = mutant.tests
        env = {**os.environ, "PYTHONPATH": str(root), "COURSE_FAST": "1"}
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
            cwd=root,
            env=env,
            capture_output=True,
        )
        return done.returncode != 0, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    args = parser.parse_args(argv)
    if args.list:
        for mutant in MUTANTS:
            print(f"{mutant.path}: {mutant.what}")
        return 0
    baseline = sorted({test for mutant in MUTANTS for test in mutant.tests})
    failed, seconds = killed(None, baseline)
    print(f"{'FAILED' if failed else 'passed':8}  {seconds:5.0f} s  baseline: the unchanged copy")
    if failed:
        print("the tests fail without any mutant: fix that first", file=sys.stderr)
        return 2
    score = 0
    for mutant in MUTANTS:
        dead, seconds = killed(mutant)
        score += dead
        verdict = "killed" if dead else "SURVIVED"
        print(f"{verdict:8}  {seconds:5.0f} s  {mutant.path}: {mutant.what}", flush=True)
    print(f"score: {score}/{len(MUTANTS)} mutants killed")
    return 0 if score == len(MUTANTS) else 1


if __name__ == "__main__":
    sys.exit(main())
