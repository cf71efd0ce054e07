# Every target bootstraps .venv from nothing; a fresh machine needs only python3 with venv and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime# the emulator itself: what `make run` needs
STAMP := $(VENV)/.installed# ... and the dev tools: linters, test runners, browser driver
SHARED_TOOLS := ../shared/tools

# `make run PORT=9000 HOST=0.0.0.0 ARGS='--clock manual'`: flags only for what is given, so
# RCS_EMULATOR_* variables and a config file still apply to the rest.
HOST ?=
PORT ?=
ARGS ?=

.PHONY: run test lint lock bench bench-inbox soak screenshots docker-check clean chromium redis \
	_chromium system-packages _test_packages

# The application installs from requirements.lock (exact versions of everything the suite ran
# with); the package itself keeps open ranges for library users. `make lock` renews the lock.
$(RUNTIME): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	# The official SerwerSMS client, for the test that drives it unchanged: it declares
	# Python >= 3.12 but runs on 3.11, so it is fetched for 3.12 and installed as it is.
	$(BIN)/pip download --quiet --no-deps --python-version 3.12 --only-binary=:all: \
		serwersmsv2api==2.0.0 -d $(VENV)/wheels
	$(BIN)/pip install --quiet --no-deps --ignore-requires-python \
		$(VENV)/wheels/serwersmsv2api-2.0.0-py3-none-any.whl
	touch $(STAMP)

run: $(RUNTIME)
	$(BIN)/rcs-emulator serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT)) $(ARGS)

# Debian packages some targets need, installed with apt-get when missing (as root, as CI runs),
# after one line saying which and why: $(call apt_need,REQUIRED,WHY,HINT,WANTED). Without root,
# a missing REQUIRED package stops the target with how to get it; a WANTED one is only said.
define apt_need
	@missing=""; wanted=""; \
	for p in $(1) $(4); do \
		case $$p in \
			chromium) command -v chromium >/dev/null || [ -n "$$RCS_CHROMIUM" ];; \
			fonts-noto-color-emoji) [ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ];; \
			*) command -v $$p >/dev/null;; \
		esac && continue; \
		case " $(4) " in *" $$p "*) wanted="$$wanted $$p";; *) missing="$$missing $$p";; esac; \
	done; \
	[ -n "$$missing$$wanted" ] || exit 0; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "make $@: installing with apt-get:$$missing$$wanted ($(2))"; \
		apt-get install -y -qq $$missing $$wanted >/dev/null 2>&1 \
			|| { apt-get update -qq && apt-get install -y -qq $$missing $$wanted >/dev/null; } \
			|| { echo "make $@: apt-get could not install:$$missing$$wanted"; exit 1; }; \
	elif [ -n "$$missing" ]; then \
		echo "make $@ needs Debian's$$missing ($(2)): apt-get install$$missing as root$(3)"; \
		exit 1; \
	else \
		echo "make $@: without$$wanted (apt-get install$$wanted as root) some tests skip"; \
	fi
endef

BROWSER = the inbox's browser tests drive Debian's Chromium and check its colour emoji
SKIP_BROWSER = ; or RCS_CHROMIUM=/path to another Chromium; RCS_SKIP_BROWSER=1 skips them

# The inbox's browser tests drive Debian's Chromium (never a browser a tool downloads).
chromium:
	@[ "$$RCS_SKIP_BROWSER" = 1 ] || $(MAKE) --no-print-directory _chromium

_chromium:
	$(call apt_need,chromium,$(BROWSER),$(SKIP_BROWSER),fonts-noto-color-emoji)

# The shared state's tests run a real redis-server (Debian's package).
redis:
	$(call apt_need,redis-server,the shared state's tests run a real redis-server,)

# What `make test` needs from Debian, in one line when something is missing.
system-packages:
	@if [ "$$RCS_SKIP_BROWSER" = 1 ]; then $(MAKE) --no-print-directory redis; \
	else $(MAKE) --no-print-directory _test_packages; fi

_test_packages:
	$(call apt_need,chromium redis-server,$(BROWSER); the shared state's tests run \
		redis-server,$(SKIP_BROWSER),fonts-noto-color-emoji)

# One worker per core: a third was not measurably faster on two cores, and busier (decisions.md).
PYTEST_ARGS ?= -n 2
test: $(STAMP) system-packages
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS) -q

lock: $(STAMP)
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --upgrade --extra dev --strip-extras --no-header \
		--no-emit-index-url --no-emit-find-links --annotation-style=line \
		-o requirements.lock pyproject.toml
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP) redis
	$(call apt_need,wrk,the benchmarks load the server with wrk,)
	$(BIN)/python -m bench

bench-inbox: $(STAMP) chromium
	$(BIN)/python -m bench.inbox

soak: $(STAMP)
	RCS_SOAK_SENDS=60000 $(BIN)/pytest -q -p no:xdist tests/robustness/test_soak.py

screenshots: $(STAMP) chromium
	$(BIN)/python -m tests.ui.screenshots docs/screenshots

# The image builds without a Docker engine (podman, buildah: the shared tool installs them),
# runs as non-root, answers its HEALTHCHECK and carries the inbox's assets; then the same image
# built with another RCS_EMULATOR_PORT answers its HEALTHCHECK on that port.
DOCKER_CHECK_PORT = 9137
docker-check:
	@[ -x $(SHARED_TOOLS)/docker-check ] || { echo "make docker-check runs \
	$(SHARED_TOOLS)/docker-check (a script of this project's shared workspace that builds the \
	image with podman, without a Docker engine), and it is not here. Elsewhere: docker build -t \
	rcs-emulator . && docker run -p 8080:8080 rcs-emulator, then docker inspect --format \
	'{{.State.Health.Status}}' on the container"; exit 1; }
	$(SHARED_TOOLS)/docker-check 8080 /_emulator/health
	$(SHARED_TOOLS)/docker-check 8080 /ui/carousel.js
	$(SHARED_TOOLS)/docker-check 8080 /ui/emoji.ttf
	@rm -rf $(VENV)/docker-port && mkdir -p $(VENV)/docker-port
	@git ls-files -z --cached --others --exclude-standard | grep -z -E '^(Dockerfile|pyproject.toml|README.md|LICENSE|requirements.lock|emulator/|scenarios/)' \
		| xargs -0 cp --parents -t $(VENV)/docker-port
	@sed -i 's/RCS_EMULATOR_PORT=8080/RCS_EMULATOR_PORT=$(DOCKER_CHECK_PORT)/' \
		$(VENV)/docker-port/Dockerfile
	cd $(VENV)/docker-port && $(abspath $(SHARED_TOOLS))/docker-check $(DOCKER_CHECK_PORT) /_emulator/health

clean:
	rm -rf $(VENV)
