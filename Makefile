# One entry point for the course. Every target creates .venv first if it is missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: help setup data course test test-py312 lab lint format book screenshots colab-check clean-models

help:
	@echo "make course   execute every notebook in full mode, in place (the real course)"
	@echo "make test     unit tests + nbval over every notebook in fast mode"
	@echo "make lab      open JupyterLab on the notebooks"
	@echo "make data     fetch and verify MNIST into data/"
	@echo "make book     the course as a website, from the executed notebooks, into _build/book/html"
	@echo "make screenshots  refresh images/screenshots/ (browser tests of JupyterLab and the book)"
	@echo "make colab-check  the Colab path in a fresh Python 3.12 venv (COLAB_PYTHON=...)"
	@echo "make test-py312   on Python 3.12 (.venv312): unit tests, one notebook, colab-check"
	@echo "make lint     ruff, jupytext pairing, links, # @save copies, figures in the prose"
	@echo "make format   ruff fix + format, links, re-sync notebooks, then copy # @save cells to helpers/"

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml etc/ipython_kernel_config.py
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11, 3.12 or 3.13, or run make PYTHON=/path/to/python3.12"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	mkdir -p $(VENV)/etc/ipython && cp etc/ipython_kernel_config.py $(VENV)/etc/ipython/
	touch $(STAMP)

setup: $(STAMP)

data: $(STAMP)
	$(BIN)/python -m helpers.data

course: $(STAMP)
	$(BIN)/python -m helpers.maintainer.runner --mode full --readme README.md notebooks/[0-9]*.ipynb

# Ends with its own wall time (the setup above it not counted). pytest-xdist runs
# TEST_WORKERS processes; --dist loadscope keeps each notebook's cells (and each test
# module) in one of them, in order. TEST_WORKERS=0 runs everything in this one process.
TEST_WORKERS ?= auto
test: $(STAMP)
	@start=$$(date +%s); \
	$(BIN)/python -m helpers.data && \
	COURSE_FAST=1 $(BIN)/python -m pytest tests notebooks --nbval-lax \
		--nbval-sanitize-with notebooks/nbval_sanitize.cfg --nbval-cell-timeout=600 \
		-n $(TEST_WORKERS) --dist loadscope; \
	status=$$?; \
	seconds=$$(( $$(date +%s) - start )); \
	echo "make test: $$((seconds / 60)) min $$((seconds % 60)) s of wall time, exit $$status"; \
	exit $$status

# Colab's Python: the unit tests (not the slow ones, nor the browser tests, which make test
# runs on 3.11), notebook 03 under nbval, and the Colab path, in their own .venv312.
# python3.12 on the PATH if it runs (a pyenv shim may not), else pyenv's own 3.12.
PY312 ?= $(shell for p in python3.12 $(HOME)/.pyenv/versions/3.12*/bin/python3.12; do \
	"$$p" -c "" 2>/dev/null && { echo "$$p"; break; }; done)
test-py312:
	@test -n "$(PY312)" || { echo "error: no Python 3.12 found; run make test-py312 PY312=/path/to/python3.12"; exit 1; }
	$(MAKE) setup PYTHON=$(PY312) VENV=.venv312
	COURSE_FAST=1 .venv312/bin/python -m pytest -q -m "not slow" tests \
		--ignore=tests/test_browser.py --ignore=tests/test_book.py -n $(TEST_WORKERS) --dist loadscope
	COURSE_FAST=1 .venv312/bin/python -m pytest -q notebooks/03_model.ipynb --nbval-lax \
		--nbval-sanitize-with notebooks/nbval_sanitize.cfg
	$(MAKE) colab-check COLAB_PYTHON=$(PY312)

# The website: built from the committed notebooks as they are (make course executes them).
book: $(STAMP)
	$(BIN)/python -m helpers.maintainer.book

# The README's pictures: the browser tests write their screenshots into images/screenshots/
# (under make test they go to temporary folders, and the working tree stays as it was).
screenshots: $(STAMP)
	COURSE_FAST=1 COURSE_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/test_browser.py tests/test_book.py

# "Open in Colab" reproduced here: a fresh Python 3.12 venv with TensorFlow, a stand-in
# google.colab, the clone served from a bundle of HEAD (commit first), then the first code
# cell as written, the setup cell and the data. A few minutes; not part of make test.
COLAB_PYTHON ?= $(PY312)
colab-check: $(STAMP)
	$(BIN)/python -m helpers.maintainer.colab_check --python $(COLAB_PYTHON)

# Rooted at the repository (as on Binder), opening the first notebook; .venv/bin on PATH
# so that the kernel finds `tensorboard` for the %tensorboard magic. The course's kernel is
# also registered for this user as "Python (mnist-cnn-course)", so that VS Code or another
# Jupyter can pick this venv, with TensorFlow, from its kernel list.
lab: $(STAMP)
	$(BIN)/python -m ipykernel install --user --name mnist-cnn-course \
		--display-name "Python (mnist-cnn-course)" >/dev/null
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab --ServerApp.root_dir=. notebooks/00_setup.ipynb

lint: $(STAMP)
	$(BIN)/ruff check helpers tests notebooks/*.py
	$(BIN)/ruff format --check helpers tests notebooks/*.py
	$(BIN)/python -m pytest -q tests/test_notebooks.py -k paired
	$(BIN)/python -m helpers.maintainer.links --check notebooks/[0-9]*.py notebooks/[0-9]*.ipynb
	$(BIN)/python -m helpers.maintainer.lessons --check
	$(BIN)/python -m helpers.maintainer.prose notebooks/[0-9]*.ipynb

# Sync first (keeps an edit made on either side), fix the scripts, then sync them back.
format: $(STAMP)
	$(BIN)/jupytext --sync notebooks/[0-9]*.ipynb
	$(BIN)/ruff check --fix helpers tests notebooks/*.py
	$(BIN)/ruff format helpers tests notebooks/*.py
	$(BIN)/python -m helpers.maintainer.links notebooks/[0-9]*.py
	$(BIN)/jupytext --sync notebooks/[0-9]*.ipynb
	$(BIN)/python -m helpers.maintainer.lessons

clean-models:
	rm -rf models/
