# The two README commands, `make lab` and `make test`, and their parts.
# Each does its own setup: system packages (Debian/Ubuntu as root), a virtual
# environment, a running Docker engine, and the lab's images.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
LAB_IP ?= 127.0.0.1
LAB_PORT ?= 8888
# NO_BROWSER=1 for servers and remote machines; LAB_TOKEN to choose the access token.
NO_BROWSER ?=
LAB_TOKEN ?=
PYTEST_ARGS ?=
# The machine's pip configuration may name local indexes that do not exist: not our noise.
PIP_QUIET := 2>&1 | grep -v "is ignored: it is neither a file nor a directory" ; exit $${PIPESTATUS[0]}

.PHONY: setup system venv engine images test lab doctor clean help

help:
	@echo "make lab    set up, then serve JupyterLab on the notebooks (LAB_IP, LAB_PORT, NO_BROWSER=1)"
	@echo "make test   set up, then run every test and validate every notebook against the engine"
	@echo "parts: system venv engine images doctor clean"

setup: system venv engine images

system:
	@bash scripts/setup-system.sh

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "venv: installing labhelpers and its test tools into $(VENV)"
	@$(PY) -m pip install -q -e '.[test]' $(PIP_QUIET)
	@touch $@

venv: $(VENV)/.installed

engine: venv
	@$(PY) -m labhelpers engine start

images: engine
	@$(PY) -m labhelpers prepare

doctor: venv
	@$(PY) -m labhelpers doctor

clean: venv
	@$(PY) -m labhelpers clean

test: setup
	$(PY) -m pytest --doctest-modules labhelpers tests notebooks \
	    --nbval --nbval-current-env --nbval-sanitize-with tests/nbval-sanitize.cfg $(PYTEST_ARGS)

lab: setup
	@echo "JupyterLab on http://$(LAB_IP):$(LAB_PORT)/lab (the full URL with its token follows)"
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --ip=$(LAB_IP) --port=$(LAB_PORT) \
	    $(if $(NO_BROWSER),--no-browser,) \
	    $(if $(LAB_TOKEN),--IdentityProvider.token=$(LAB_TOKEN),) \
	    $(if $(filter 0,$(shell id -u)),--allow-root,)
