"""Reproduce "Open in Colab" on this machine (maintainers): ``make colab-check``.

``python -m helpers.maintainer.colab_check [--python PYTHON] [--notebook PATH]``:

1. builds a fresh venv in ``_build/colab/venv`` with ``PYTHON`` (default ``python3.12``, as
   on Colab) holding only what stands for Colab's own image here: TensorFlow 2.21.0 and
   IPython (Colab's kernel);
2. serves the clone from a git bundle of this checkout's ``HEAD``: a throwaway git config
   redirects the repository's GitHub URL to the bundle, so the cell's ``git clone`` runs as
   written, without the internet;
3. puts a stand-in ``google.colab`` module (with ``output.enable_custom_widget_manager``)
   on the path, then runs in one process, in order: the notebook's first code cell as
   written (it clones into ``/content/<name>`` and calls ``helpers.colab.setup``, which
   installs the course and only the pins that are missing), the notebook's setup cell, and
   its first cell that loads MNIST.

``/content/<name>`` must not exist before (it is removed afterwards). The exit code is 0
when every step worked. What this cannot show: Colab's own package versions, its widgets,
its GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from helpers import colab, config, environment
from helpers.maintainer import links

OUT = config.REPO_ROOT / "_build" / "colab"
STAND_IN = '''\
"""Stand-in for Colab's google.colab package (helpers.maintainer.colab_check)."""
'''
STAND_IN_OUTPUT = '''\
"""Stand-in for google.colab.output: records that custom widgets were enabled."""
enabled = []


def enable_custom_widget_manager():
    enabled.append(True)
'''
DRIVER = textwrap.dedent(
    """
    import json, os, sys
    import google.colab  # the stand-in: the Colab cell sees "google.colab" in sys.modules
    from google.colab import output

    cells = json.loads(os.environ["COLAB_CHECK_CELLS"])
    namespace = {"__name__": "__main__"}
    for title, source in cells:
        print(f"--- {title}", flush=True)
        exec(compile(source, title, "exec"), namespace)
    assert output.enabled, "helpers.colab.setup did not enable Colab's custom widgets"
    assert os.getcwd().endswith("/notebooks"), os.getcwd()
    print("--- the data:", namespace["x_train"].shape, namespace["x_test"].shape)
    """
)


def run(command: list[str], **kwargs) -> None:
    print("$", " ".join(map(str, command)), flush=True)
    subprocess.run(command, check=True, **kwargs)


def notebook_cells(notebook: Path) -> list[tuple[str, str]]:
    """Return the Colab cell, the setup cell and the first cell that loads MNIST, titled."""
    code = [
        "".join(cell["source"])
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        if cell["cell_type"] == "code"
    ]
    loads = next(source for source in code if "data.load_mnist(" in source)
    return [("the Colab cell", code[0]), ("the setup cell", code[1]), ("loading MNIST", loads)]


def check(python: str, notebook: Path, out: Path = OUT) -> None:
    """Run the three steps above; raise ``subprocess.CalledProcessError`` if one fails."""
    clone = colab.CLONE_DIR
    if clone.exists():
        raise SystemExit(f"error: {clone} exists; move it away first (it is not touched)")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    venv = out / "venv"
    run([python, "-m", "venv", str(venv)])
    pins = environment.read_pins()
    image = [f"tensorflow=={pins['tensorflow']}", f"ipykernel=={pins['ipykernel']}"]
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *image])
    bundle = out / "course.bundle"
    run(["git", "bundle", "create", str(bundle), "HEAD"], cwd=config.REPO_ROOT)
    gitconfig = out / "gitconfig"
    gitconfig.write_text(f'[url "{bundle}"]\n\tinsteadOf = {links.repository_url()}\n')
    stand_in = out / "stand-in" / "google" / "colab"
    stand_in.mkdir(parents=True)
    # google/ stays a namespace package: protobuf's google.protobuf must still be found
    (stand_in / "__init__.py").write_text(STAND_IN)
    (stand_in / "output.py").write_text(STAND_IN_OUTPUT)
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": str(gitconfig),
        "PYTHONPATH": str(out / "stand-in"),
        "COLAB_CHECK_CELLS": json.dumps(notebook_cells(notebook)),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    env.pop(config.FAST_ENV, None)
    try:
        run([str(venv / "bin" / "python"), "-c", DRIVER], cwd=out, env=env)
    finally:
        shutil.rmtree(clone, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="python3.12", help="default: python3.12")
    parser.add_argument(
        "--notebook", type=Path, default=config.REPO_ROOT / "notebooks" / "01_data.ipynb"
    )
    args = parser.parse_args(argv)
    try:
        check(args.python, args.notebook)
    except subprocess.CalledProcessError as exc:
        print(f"colab check: FAILED ({exc})", file=sys.stderr)
        return 1
    print("colab check: the Colab cell, the setup cell and the data all worked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
